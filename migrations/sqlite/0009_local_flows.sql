-- Flows without a relying party: Propusk's own pages (the account page)
-- send a person through the same sign-in and second-factor steps, then
-- back to return_to, a local path. SQLite cannot drop a NOT NULL
-- constraint in place, so the table is rebuilt.
CREATE TABLE flows_new (
    id         TEXT PRIMARY KEY NOT NULL,
    state      TEXT NOT NULL,
    client_id  TEXT REFERENCES clients (id) ON DELETE CASCADE,
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
    expires_at INTEGER NOT NULL,
    return_to  TEXT NOT NULL DEFAULT ''
) STRICT;

INSERT INTO flows_new (id, state, client_id, request, csrf_hash, account_id, session_id,
    auth_time, amr, acr, locale, created_at, updated_at, expires_at)
SELECT id, state, client_id, request, csrf_hash, account_id, session_id,
    auth_time, amr, acr, locale, created_at, updated_at, expires_at FROM flows;

DROP TABLE flows;
ALTER TABLE flows_new RENAME TO flows;
CREATE INDEX flows_expires ON flows (expires_at);
CREATE INDEX flows_client ON flows (client_id);
