INSERT INTO accounts (id, username, kind, citizenships, created_at, updated_at)
VALUES ('seed-account-0001', 'seed.user', 'citizen', '["RU"]', 1767225600000000, 1767225600000000);
