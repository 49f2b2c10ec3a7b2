-- A hash of the sign-in cookie that keeps a flow to the browser that gave
-- the password, until an SSO session exists (package web).
ALTER TABLE flows ADD COLUMN browser_hash bytea;
