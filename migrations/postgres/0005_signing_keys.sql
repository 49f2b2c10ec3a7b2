-- Token-signing keys shared by every node; private parts sealed.
CREATE TABLE signing_keys (
    id         text PRIMARY KEY,
    algorithm  text NOT NULL CHECK (algorithm IN ('ES256', 'RS256')),
    private    bytea NOT NULL,
    public     bytea NOT NULL,
    created_at timestamptz NOT NULL,
    sign_from  timestamptz NOT NULL
);
