INSERT INTO signing_keys (id, algorithm, private, public, created_at, sign_from)
VALUES ('seed-key-0005', 'ES256', x'00', x'7b7d', 1767225600000000, 1767225600000000);
