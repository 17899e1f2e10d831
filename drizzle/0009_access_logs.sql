CREATE TABLE "access_bulk_customers" (
	"person_id" text NOT NULL,
	"day" date NOT NULL,
	"customer_id" text NOT NULL,
	CONSTRAINT "access_bulk_customers__pk" PRIMARY KEY("person_id","day","customer_id")
);
--> statement-breakpoint
CREATE TABLE "access_events" (
	"at" timestamp with time zone NOT NULL,
	"batch_id" bigint NOT NULL,
	"seq" integer NOT NULL,
	"nonpublic" boolean NOT NULL,
	"credential_id" uuid,
	"emergency_id" uuid,
	"shared_secret_id" uuid,
	"system" text NOT NULL,
	"action" text NOT NULL,
	"person_id" text,
	"login_id" text,
	"terminal_id" text,
	"customer_id" text,
	"retailer" text,
	"area" text,
	"fields" text[],
	"company_code" text,
	"rules_company" text,
	"rules_kind" "company_kind",
	"terminal_company" text,
	"site" text,
	"nonpublic_fields" text[],
	"breaches" text[]
) PARTITION BY RANGE ("at");
--> statement-breakpoint
-- Hand-written: monthly partitions (UTC months, named access_events_YYYYMM) from two months
-- before the migration ran to three months after it, and a default partition for anything
-- outside them. The job detection.maintain-access-log-partitions keeps creating them ahead,
-- moves rows out of the default partition into their month, and drops months past retention.
CREATE TABLE "access_events_default" PARTITION OF "access_events" DEFAULT;
--> statement-breakpoint
DO $$
DECLARE
	m date := (date_trunc('month', now() AT TIME ZONE 'UTC') - interval '2 months')::date;
BEGIN
	FOR i IN 0..5 LOOP
		EXECUTE format(
			'CREATE TABLE IF NOT EXISTS %I PARTITION OF "access_events" FOR VALUES FROM (%L) TO (%L)',
			'access_events_' || to_char(m, 'YYYYMM'),
			to_char(m, 'YYYY-MM-DD') || ' 00:00:00+00',
			to_char((m + interval '1 month')::date, 'YYYY-MM-DD') || ' 00:00:00+00');
		m := (m + interval '1 month')::date;
	END LOOP;
END $$;
--> statement-breakpoint
CREATE TABLE "access_log_batches" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "access_log_batches_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"idempotency_key" text,
	"body_sha256" text NOT NULL,
	"accepted" integer NOT NULL,
	"min_at" timestamp with time zone NOT NULL,
	"max_at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"received_by" text NOT NULL,
	"scanned_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "access_person_days" (
	"person_id" text NOT NULL,
	"day" date NOT NULL,
	"events" integer NOT NULL,
	"customers" text[] NOT NULL,
	"over" boolean NOT NULL,
	"first_at" timestamp with time zone NOT NULL,
	"last_at" timestamp with time zone NOT NULL,
	CONSTRAINT "access_person_days__pk" PRIMARY KEY("person_id","day")
);
--> statement-breakpoint
CREATE INDEX "access_bulk_customers__day_idx" ON "access_bulk_customers" USING btree ("day");--> statement-breakpoint
CREATE INDEX "access_events__batch_id_brin" ON "access_events" USING brin ("batch_id");--> statement-breakpoint
CREATE INDEX "access_events__nonpublic_at_idx" ON "access_events" USING btree ("at") WHERE "access_events"."nonpublic";--> statement-breakpoint
CREATE INDEX "access_events__nonpublic_customer_id_at_idx" ON "access_events" USING btree ("customer_id","at") WHERE "access_events"."nonpublic";--> statement-breakpoint
CREATE INDEX "access_events__breaches_batch_id_idx" ON "access_events" USING btree ("batch_id") WHERE "access_events"."breaches" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "access_log_batches__idempotency_key_uq" ON "access_log_batches" USING btree ("idempotency_key");--> statement-breakpoint
CREATE INDEX "access_log_batches__unscanned_idx" ON "access_log_batches" USING btree ("id") WHERE "access_log_batches"."scanned_at" is null;--> statement-breakpoint
CREATE INDEX "access_person_days__day_idx" ON "access_person_days" USING btree ("day");