-- TOTP authenticator apps. The secret is sealed by package mfa. An
-- authenticator counts for sign-in only once confirmed_at is set.
-- Deleting an account deletes its authenticators.
CREATE TABLE authenticators (
    id           TEXT PRIMARY KEY NOT NULL,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name         TEXT NOT NULL DEFAULT '',
    secret       BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    confirmed_at INTEGER,
    last_used_at INTEGER
) STRICT;

CREATE INDEX authenticators_account ON authenticators (account_id);

-- Second-factor bookkeeping per account: the last TOTP time step accepted
-- (each step is accepted once, across every node) and the failure counters
-- behind the lock-out.
CREATE TABLE mfa_states (
    account_id     TEXT PRIMARY KEY NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    last_step      INTEGER NOT NULL DEFAULT 0,
    failures       INTEGER NOT NULL DEFAULT 0,
    total_failures INTEGER NOT NULL DEFAULT 0,
    locked_until   INTEGER,
    updated_at     INTEGER
) STRICT;

-- Single-use recovery codes, as keyed hashes (never the codes).
CREATE TABLE recovery_codes (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    hash       BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    used_at    INTEGER,
    PRIMARY KEY (account_id, hash)
) STRICT;

-- The append-only audit log. account_id has no foreign key: the log must
-- outlive the accounts it mentions. AUTOINCREMENT: an ID is never reused,
-- not even after the newest row is gone. details is a JSON object of
-- strings.
CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    type        TEXT NOT NULL,
    account_id  TEXT NOT NULL DEFAULT '',
    actor_id    TEXT NOT NULL DEFAULT '',
    client_id   TEXT NOT NULL DEFAULT '',
    remote_addr TEXT NOT NULL DEFAULT '',
    flow_id     TEXT NOT NULL DEFAULT '',
    details     TEXT NOT NULL DEFAULT '{}'
) STRICT;

CREATE INDEX audit_events_account ON audit_events (account_id, id);
CREATE INDEX audit_events_type ON audit_events (type, id);

-- The database itself refuses to rewrite history.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
