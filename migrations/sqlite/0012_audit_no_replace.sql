-- REPLACE (INSERT OR REPLACE, REPLACE INTO) deletes the row it conflicts
-- with without firing delete triggers, so the append-only triggers of 0008
-- did not stop an insert with an existing ID from rewriting history. An
-- insert may not name an ID that exists.
CREATE TRIGGER audit_events_no_replace BEFORE INSERT ON audit_events
WHEN EXISTS (SELECT 1 FROM audit_events WHERE id = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
