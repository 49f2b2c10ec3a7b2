INSERT INTO accounts (id, username, kind, citizenships, created_at, updated_at)
VALUES ('seed-account-0001', 'seed.user', 'citizen', '{RU}', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
