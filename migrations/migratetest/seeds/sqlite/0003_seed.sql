INSERT INTO server_secrets (name, sealed, created_at, updated_at)
VALUES ('seed-secret-0003', x'00', 1767225600000000, 1767225600000000);
