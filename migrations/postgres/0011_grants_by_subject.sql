-- Disabling an account deactivates every grant issued to it, found by
-- subject (the account ID); client-credentials grants have none.
CREATE INDEX oauth_records_subject ON oauth_records (subject) WHERE subject <> '';
