-- Policy caches in every replica tail the audit chain; this wakes them at commit instead of
-- at their next poll. One notification per statement (and PostgreSQL folds duplicates per transaction).
CREATE FUNCTION audit_records_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('sekisho_changes', '');
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_records__notify_trg AFTER INSERT ON "audit_records"
  FOR EACH STATEMENT EXECUTE FUNCTION audit_records_notify();
--> statement-breakpoint
-- TRUNCATE bypasses row triggers: refuse it too, or the whole chain could vanish and still "verify".
CREATE TRIGGER audit_records__no_truncate_trg BEFORE TRUNCATE ON "audit_records"
  FOR EACH STATEMENT EXECUTE FUNCTION audit_records_append_only();
