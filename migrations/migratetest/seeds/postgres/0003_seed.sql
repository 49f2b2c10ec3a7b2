INSERT INTO server_secrets (name, sealed, created_at, updated_at)
VALUES ('seed-secret-0003', '\x00', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
