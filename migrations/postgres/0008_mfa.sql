-- TOTP authenticator apps. The secret is sealed by package mfa. An
-- authenticator counts for sign-in only once confirmed_at is set.
-- Deleting an account deletes its authenticators.
CREATE TABLE authenticators (
    id           text PRIMARY KEY,
    account_id   text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name         text NOT NULL DEFAULT '',
    secret       bytea NOT NULL,
    created_at   timestamptz NOT NULL,
    confirmed_at timestamptz,
    last_used_at timestamptz
);

CREATE INDEX authenticators_account ON authenticators (account_id);

-- Second-factor bookkeeping per account: the last TOTP time step accepted
-- (each step is accepted once, across every node) and the failure counters
-- behind the lock-out.
CREATE TABLE mfa_states (
    account_id     text PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    last_step      bigint NOT NULL DEFAULT 0,
    failures       integer NOT NULL DEFAULT 0,
    total_failures integer NOT NULL DEFAULT 0,
    locked_until   timestamptz,
    updated_at     timestamptz
);

-- Single-use recovery codes, as keyed hashes (never the codes).
CREATE TABLE recovery_codes (
    account_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    hash       bytea NOT NULL,
    created_at timestamptz NOT NULL,
    used_at    timestamptz,
    PRIMARY KEY (account_id, hash)
);

-- The append-only audit log. account_id has no foreign key: the log must
-- outlive the accounts it mentions. details is a JSON object of strings,
-- kept as text so every string round-trips exactly.
CREATE TABLE audit_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL,
    type        text NOT NULL,
    account_id  text NOT NULL DEFAULT '',
    actor_id    text NOT NULL DEFAULT '',
    client_id   text NOT NULL DEFAULT '',
    remote_addr text NOT NULL DEFAULT '',
    flow_id     text NOT NULL DEFAULT '',
    details     text NOT NULL DEFAULT '{}'
);

CREATE INDEX audit_events_account ON audit_events (account_id, id);
CREATE INDEX audit_events_type ON audit_events (type, id);

-- The database itself refuses to rewrite history: statement-level, so even
-- an UPDATE or DELETE that matches no row fails, and TRUNCATE too.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP;
END;
$$;

CREATE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
