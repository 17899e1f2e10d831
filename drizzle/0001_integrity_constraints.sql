-- Invariant 1: a person has at most one affiliation at any instant, enforced by the database.
-- Only current knowledge (superseded_at is null) takes part; superseded versions are history.
CREATE EXTENSION IF NOT EXISTS btree_gist;
--> statement-breakpoint
ALTER TABLE "affiliations" ADD CONSTRAINT "affiliations__person_id_valid_period_excl"
  EXCLUDE USING gist ("person_id" WITH =, tstzrange("valid_from", "valid_to", '[)') WITH &&)
  WHERE ("superseded_at" IS NULL);
--> statement-breakpoint
-- The audit log is append-only for the application. Verification still catches a tamper by
-- someone able to disable this trigger (a database owner), which is what the chain is for.
CREATE FUNCTION audit_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_records is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_records__append_only_trg BEFORE UPDATE OR DELETE ON "audit_records"
  FOR EACH ROW EXECUTE FUNCTION audit_records_append_only();
