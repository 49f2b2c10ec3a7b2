-- What fosite persists: codes, tokens and the request context stored with
-- them, by kind and signature (never the token itself). Everything issued
-- from one authorization shares request_id, the unit of revocation.
-- Deleting a client deletes its grants.
CREATE TABLE oauth_records (
    kind             TEXT NOT NULL CHECK (kind IN ('code', 'access', 'refresh', 'pkce', 'oidc', 'par')),
    signature        TEXT NOT NULL,
    request_id       TEXT NOT NULL,
    client_id        TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    subject          TEXT NOT NULL DEFAULT '',
    session_id       TEXT NOT NULL DEFAULT '',
    access_signature TEXT NOT NULL DEFAULT '',
    active           INTEGER NOT NULL DEFAULT 1,
    requested_at     INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    data             BLOB NOT NULL,
    PRIMARY KEY (kind, signature)
) STRICT;

CREATE INDEX oauth_records_request ON oauth_records (request_id, kind);
CREATE INDEX oauth_records_expires ON oauth_records (expires_at);
CREATE INDEX oauth_records_session ON oauth_records (session_id) WHERE session_id <> '';
CREATE INDEX oauth_records_client ON oauth_records (client_id);

-- IDs of client-assertion JWTs (private_key_jwt), each accepted once
-- until it expires.
CREATE TABLE client_assertions (
    jti        TEXT PRIMARY KEY NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX client_assertions_expires ON client_assertions (expires_at);
