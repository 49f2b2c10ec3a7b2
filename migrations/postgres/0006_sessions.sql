-- Pending authorization requests between /oauth2/auth and the redirect back
-- to the client; the browser carries only the ID. account_id stays '' until
-- someone signs in, so it has no foreign key. Deleting a client deletes its
-- flows.
CREATE TABLE flows (
    id         text PRIMARY KEY,
    state      text NOT NULL,
    client_id  text NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    request    bytea NOT NULL,
    csrf_hash  bytea,
    account_id text NOT NULL DEFAULT '',
    session_id text NOT NULL DEFAULT '',
    auth_time  timestamptz,
    amr        text[] NOT NULL DEFAULT '{}',
    acr        text NOT NULL DEFAULT '',
    locale     text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);

CREATE INDEX flows_expires ON flows (expires_at);
CREATE INDEX flows_client ON flows (client_id);

-- Single sign-on sessions, by the hash of the cookie value (never the value
-- itself). public_id is the ID tokens' sid. Deleting an account deletes its
-- sessions.
CREATE TABLE browser_sessions (
    id           text PRIMARY KEY,
    public_id    text NOT NULL,
    account_id   text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    auth_time    timestamptz NOT NULL,
    amr          text[] NOT NULL DEFAULT '{}',
    acr          text NOT NULL DEFAULT '',
    user_agent   text NOT NULL DEFAULT '',
    remote_addr  text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);

CREATE UNIQUE INDEX browser_sessions_public_id_key ON browser_sessions (public_id);
CREATE INDEX browser_sessions_account ON browser_sessions (account_id);
CREATE INDEX browser_sessions_expires ON browser_sessions (expires_at);
CREATE INDEX browser_sessions_last_seen ON browser_sessions (last_seen_at);

-- Remembered consent: the scopes a person allowed a client.
CREATE TABLE consents (
    account_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    client_id  text NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scopes     text[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (account_id, client_id)
);

CREATE INDEX consents_client ON consents (client_id);

-- Failed-attempt counters in fixed windows, shared by every node.
CREATE TABLE throttles (
    key          text PRIMARY KEY,
    count        integer NOT NULL,
    window_start timestamptz NOT NULL,
    window_end   timestamptz NOT NULL
);

CREATE INDEX throttles_window_end ON throttles (window_end);
