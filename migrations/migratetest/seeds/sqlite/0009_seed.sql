INSERT INTO flows (id, state, client_id, request, account_id, created_at, updated_at, expires_at, return_to)
VALUES ('seed-flow-0009', 'login', NULL, x'00', '', 1767225600000000, 1767225600000000, 32472144000000000, '/account');
