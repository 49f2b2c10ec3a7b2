INSERT INTO authenticators (id, account_id, name, secret, created_at, confirmed_at)
VALUES ('seed-authenticator-0008', 'seed-account-0001', 'phone', x'01', 1767225600000000, 1767225660000000);
INSERT INTO mfa_states (account_id, last_step, failures, total_failures, updated_at)
VALUES ('seed-account-0001', 58907520, 1, 2, 1767225600000000);
INSERT INTO recovery_codes (account_id, hash, created_at)
VALUES ('seed-account-0001', x'0008', 1767225600000000);
INSERT INTO audit_events (at, type, account_id, details)
VALUES (1767225600000000, 'mfa.enrolled', 'seed-account-0001', '{"authenticator":"seed-authenticator-0008"}');
