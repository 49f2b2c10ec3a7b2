INSERT INTO signing_keys (id, algorithm, private, public, created_at, sign_from)
VALUES ('seed-key-0005', 'ES256', '\x00', '\x7b7d', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
