INSERT INTO authenticators (id, account_id, name, secret, created_at, confirmed_at)
VALUES ('seed-authenticator-0008', 'seed-account-0001', 'phone', '\x01', '2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z');
INSERT INTO mfa_states (account_id, last_step, failures, total_failures, updated_at)
VALUES ('seed-account-0001', 58907520, 1, 2, '2026-01-01T00:00:00Z');
INSERT INTO recovery_codes (account_id, hash, created_at)
VALUES ('seed-account-0001', '\x0008', '2026-01-01T00:00:00Z');
INSERT INTO audit_events (at, type, account_id, details)
VALUES ('2026-01-01T00:00:00Z', 'mfa.enrolled', 'seed-account-0001', '{"authenticator":"seed-authenticator-0008"}');
