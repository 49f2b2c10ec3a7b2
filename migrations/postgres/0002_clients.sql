-- Relying parties. Secrets are kept only as keyed hashes (package clients);
-- the previous hash stays valid until previous_secret_expires_at.
CREATE TABLE clients (
    id                         text PRIMARY KEY,
    name                       text NOT NULL,
    redirect_uris              text[] NOT NULL,
    post_logout_redirect_uris  text[] NOT NULL DEFAULT '{}',
    grant_types                text[] NOT NULL,
    scopes                     text[] NOT NULL,
    public                     boolean NOT NULL,
    token_endpoint_auth_method text NOT NULL,
    jwks                       bytea,
    first_party                boolean NOT NULL DEFAULT false,
    backchannel_logout_uri     text NOT NULL DEFAULT '',
    minimum_acr                text NOT NULL DEFAULT '',
    secret_hash                bytea,
    previous_secret_hash       bytea,
    previous_secret_expires_at timestamptz,
    created_at                 timestamptz NOT NULL,
    updated_at                 timestamptz NOT NULL
);
