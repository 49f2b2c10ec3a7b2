-- Pending authorization requests between /oauth2/auth and the redirect back
-- to the client; the browser carries only the ID. account_id stays '' until
-- someone signs in, so it has no foreign key. Deleting a client deletes its
-- flows.
CREATE TABLE flows (
    id         TEXT PRIMARY KEY NOT NULL,
    state      TEXT NOT NULL,
    client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    request    BLOB NOT NULL,
    csrf_hash  BLOB,
    account_id TEXT NOT NULL DEFAULT '',
    session_id TEXT NOT NULL DEFAULT '',
    auth_time  INTEGER,
    amr        TEXT NOT NULL DEFAULT '[]',
    acr        TEXT NOT NULL DEFAULT '',
    locale     TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX flows_expires ON flows (expires_at);
CREATE INDEX flows_client ON flows (client_id);

-- Single sign-on sessions, by the hash of the cookie value (never the value
-- itself). public_id is the ID tokens' sid. Deleting an account deletes its
-- sessions.
CREATE TABLE browser_sessions (
    id           TEXT PRIMARY KEY NOT NULL,
    public_id    TEXT NOT NULL,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    auth_time    INTEGER NOT NULL,
    amr          TEXT NOT NULL DEFAULT '[]',
    acr          TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT '',
    remote_addr  TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX browser_sessions_public_id_key ON browser_sessions (public_id);
CREATE INDEX browser_sessions_account ON browser_sessions (account_id);
CREATE INDEX browser_sessions_expires ON browser_sessions (expires_at);
CREATE INDEX browser_sessions_last_seen ON browser_sessions (last_seen_at);

-- Remembered consent: the scopes a person allowed a client.
CREATE TABLE consents (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, client_id)
) STRICT;

CREATE INDEX consents_client ON consents (client_id);

-- Failed-attempt counters in fixed windows, shared by every node.
CREATE TABLE throttles (
    key          TEXT PRIMARY KEY NOT NULL,
    count        INTEGER NOT NULL,
    window_start INTEGER NOT NULL,
    window_end   INTEGER NOT NULL
) STRICT;

CREATE INDEX throttles_window_end ON throttles (window_end);
