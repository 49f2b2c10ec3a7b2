-- What fosite persists: codes, tokens and the request context stored with
-- them, by kind and signature (never the token itself). Everything issued
-- from one authorization shares request_id, the unit of revocation.
-- Deleting a client deletes its grants.
CREATE TABLE oauth_records (
    kind             text NOT NULL CHECK (kind IN ('code', 'access', 'refresh', 'pkce', 'oidc', 'par')),
    signature        text NOT NULL,
    request_id       text NOT NULL,
    client_id        text NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    subject          text NOT NULL DEFAULT '',
    session_id       text NOT NULL DEFAULT '',
    access_signature text NOT NULL DEFAULT '',
    active           boolean NOT NULL DEFAULT true,
    requested_at     timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    data             bytea NOT NULL,
    PRIMARY KEY (kind, signature)
);

CREATE INDEX oauth_records_request ON oauth_records (request_id, kind);
CREATE INDEX oauth_records_expires ON oauth_records (expires_at);
CREATE INDEX oauth_records_session ON oauth_records (session_id) WHERE session_id <> '';
CREATE INDEX oauth_records_client ON oauth_records (client_id);

-- IDs of client-assertion JWTs (private_key_jwt), each accepted once
-- until it expires.
CREATE TABLE client_assertions (
    jti        text PRIMARY KEY,
    expires_at timestamptz NOT NULL
);

CREATE INDEX client_assertions_expires ON client_assertions (expires_at);
