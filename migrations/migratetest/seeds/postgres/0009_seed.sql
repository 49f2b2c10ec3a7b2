INSERT INTO flows (id, state, client_id, request, account_id, created_at, updated_at, expires_at, return_to)
VALUES ('seed-flow-0009', 'login', NULL, '\x00', '', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2999-01-01T00:00:00Z', '/account');
