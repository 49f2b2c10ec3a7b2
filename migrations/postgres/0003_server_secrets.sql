-- Server-wide secrets shared by every node (such as the key for client-secret
-- hashes), sealed with the configured secrets key (internal/seal).
CREATE TABLE server_secrets (
    name       text PRIMARY KEY,
    sealed     bytea NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
