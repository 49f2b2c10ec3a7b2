-- Token-signing keys shared by every node; private parts sealed.
CREATE TABLE signing_keys (
    id         TEXT PRIMARY KEY NOT NULL,
    algorithm  TEXT NOT NULL CHECK (algorithm IN ('ES256', 'RS256')),
    private    BLOB NOT NULL,
    public     BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    sign_from  INTEGER NOT NULL
) STRICT;
