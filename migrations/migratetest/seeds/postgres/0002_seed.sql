INSERT INTO clients (id, name, redirect_uris, grant_types, scopes, public, token_endpoint_auth_method, created_at, updated_at)
VALUES ('seed-client-0002', 'Seed client', '{https://rp.example/cb}', '{authorization_code}', '{openid}', true, 'none', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
