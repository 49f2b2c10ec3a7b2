INSERT INTO oauth_records (kind, signature, request_id, client_id, requested_at, expires_at, data)
VALUES ('access', 'seed-signature-0004', 'seed-request-0004', 'seed-client-0002', '2026-01-01T00:00:00Z', '2999-01-01T00:00:00Z', '\x00');
INSERT INTO client_assertions (jti, expires_at) VALUES ('seed-jti-0004', '2999-01-01T00:00:00Z');
