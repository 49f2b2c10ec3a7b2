-- After an administrator resets a person's second factor, the next sign-in
-- leads them to set up an authenticator again.
ALTER TABLE mfa_states ADD COLUMN enrol_required INTEGER NOT NULL DEFAULT 0;
