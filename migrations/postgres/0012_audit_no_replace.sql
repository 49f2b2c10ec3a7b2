-- Kept in step with SQLite's 0012 (an insert may not replace an audit row).
-- PostgreSQL needs no change: it has no REPLACE, its IDs are GENERATED
-- ALWAYS, and INSERT … ON CONFLICT DO UPDATE fires the UPDATE trigger of
-- 0008. This records that in the schema.
COMMENT ON TABLE audit_events IS 'append-only: UPDATE, DELETE and TRUNCATE are refused by a trigger';
