INSERT INTO oauth_records (kind, signature, request_id, client_id, requested_at, expires_at, data)
VALUES ('access', 'seed-signature-0004', 'seed-request-0004', 'seed-client-0002', 1767225600000000, 32472144000000000, x'00');
INSERT INTO client_assertions (jti, expires_at) VALUES ('seed-jti-0004', 32472144000000000);
