INSERT INTO flows (id, state, client_id, request, created_at, updated_at, expires_at)
VALUES ('seed-flow-0006', 'login', 'seed-client-0002', '\x00', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2999-01-01T00:00:00Z');
INSERT INTO browser_sessions (id, public_id, account_id, auth_time, amr, created_at, last_seen_at, expires_at)
VALUES ('seed-session-0006', 'seed-sid-0006', 'seed-account-0001', '2026-01-01T00:00:00Z', '{pwd}', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2999-01-01T00:00:00Z');
INSERT INTO consents (account_id, client_id, scopes, created_at, updated_at)
VALUES ('seed-account-0001', 'seed-client-0002', '{openid}', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
INSERT INTO throttles (key, count, window_start, window_end)
VALUES ('seed-throttle-0006', 3, '2026-01-01T00:00:00Z', '2999-01-01T00:00:00Z');
