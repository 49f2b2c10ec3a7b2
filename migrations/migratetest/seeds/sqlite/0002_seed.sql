INSERT INTO clients (id, name, redirect_uris, grant_types, scopes, public, token_endpoint_auth_method, created_at, updated_at)
VALUES ('seed-client-0002', 'Seed client', '["https://rp.example/cb"]', '["authorization_code"]', '["openid"]', 1, 'none', 1767225600000000, 1767225600000000);
