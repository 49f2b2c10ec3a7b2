-- Per-client protocol options: the ID-token signing algorithm the client
-- registered for, whether it must use pushed authorization requests, and
-- the access-token format (opaque, or RFC 9068 JWT).
ALTER TABLE clients
    ADD COLUMN id_token_signed_response_alg text NOT NULL DEFAULT 'ES256'
        CHECK (id_token_signed_response_alg IN ('ES256', 'RS256')),
    ADD COLUMN require_pushed_authorization_requests boolean NOT NULL DEFAULT false,
    ADD COLUMN access_token_format text NOT NULL DEFAULT 'opaque'
        CHECK (access_token_format IN ('opaque', 'jwt'));
