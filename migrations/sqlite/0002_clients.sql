-- Relying parties. Secrets are kept only as keyed hashes (package clients);
-- the previous hash stays valid until previous_secret_expires_at.
CREATE TABLE clients (
    id                         TEXT PRIMARY KEY NOT NULL,
    name                       TEXT NOT NULL,
    redirect_uris              TEXT NOT NULL,
    post_logout_redirect_uris  TEXT NOT NULL DEFAULT '[]',
    grant_types                TEXT NOT NULL,
    scopes                     TEXT NOT NULL,
    public                     INTEGER NOT NULL,
    token_endpoint_auth_method TEXT NOT NULL,
    jwks                       BLOB,
    first_party                INTEGER NOT NULL DEFAULT 0,
    backchannel_logout_uri     TEXT NOT NULL DEFAULT '',
    minimum_acr                TEXT NOT NULL DEFAULT '',
    secret_hash                BLOB,
    previous_secret_hash       BLOB,
    previous_secret_expires_at INTEGER,
    created_at                 INTEGER NOT NULL,
    updated_at                 INTEGER NOT NULL
) STRICT;
