-- A pause after a counted attempt (microseconds; NULL: none): attempts
-- before it are refused, not counted, so password guessing on an account is
-- slowed with growing delays rather than walled off (package accounts).
ALTER TABLE throttles ADD COLUMN next_at INTEGER;
