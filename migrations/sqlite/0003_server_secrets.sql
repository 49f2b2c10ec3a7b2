-- Server-wide secrets shared by every node (such as the key for client-secret
-- hashes), sealed with the configured secrets key (internal/seal).
CREATE TABLE server_secrets (
    name       TEXT PRIMARY KEY NOT NULL,
    sealed     BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
