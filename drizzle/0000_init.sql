CREATE TYPE "public"."company_kind" AS ENUM('wheeling', 'retail', 'contractor', 'other');--> statement-breakpoint
CREATE TYPE "public"."hr_event_type" AS ENUM('person.hired', 'person.transferred', 'person.left');--> statement-breakpoint
CREATE TABLE "affiliations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"person_id" text NOT NULL,
	"company_code" text NOT NULL,
	"org_unit" text,
	"manager_id" text,
	"valid_from" timestamp with time zone NOT NULL,
	"valid_to" timestamp with time zone,
	"recorded_at" timestamp with time zone NOT NULL,
	"superseded_at" timestamp with time zone,
	"source_event_id" uuid,
	CONSTRAINT "affiliations__valid_interval_ck" CHECK ("affiliations"."valid_to" is null or "affiliations"."valid_to" > "affiliations"."valid_from"),
	CONSTRAINT "affiliations__recorded_interval_ck" CHECK ("affiliations"."superseded_at" is null or "affiliations"."superseded_at" >= "affiliations"."recorded_at")
);
--> statement-breakpoint
CREATE TABLE "companies" (
	"code" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"kind" "company_kind" NOT NULL,
	"acts_for" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "companies__acts_for_not_self_ck" CHECK ("companies"."acts_for" is null or "companies"."acts_for" <> "companies"."code")
);
--> statement-breakpoint
CREATE TABLE "persons" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"email" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_records" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"subject_type" text NOT NULL,
	"subject_id" text NOT NULL,
	"data" jsonb NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "api_tokens" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"token_hash" text NOT NULL,
	"scopes" text[] NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "hr_events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"webhook_id" text NOT NULL,
	"type" "hr_event_type" NOT NULL,
	"person_id" text NOT NULL,
	"payload" jsonb NOT NULL,
	"effective_at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"applied_at" timestamp with time zone,
	"initial_status" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "affiliations" ADD CONSTRAINT "affiliations__person_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."persons"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "affiliations" ADD CONSTRAINT "affiliations__company_code_fk" FOREIGN KEY ("company_code") REFERENCES "public"."companies"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "companies" ADD CONSTRAINT "companies__acts_for_fk" FOREIGN KEY ("acts_for") REFERENCES "public"."companies"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "affiliations__person_id_valid_from_idx" ON "affiliations" USING btree ("person_id","valid_from") WHERE "affiliations"."superseded_at" is null;--> statement-breakpoint
CREATE INDEX "affiliations__company_code_idx" ON "affiliations" USING btree ("company_code") WHERE "affiliations"."superseded_at" is null;--> statement-breakpoint
CREATE INDEX "audit_records__subject_idx" ON "audit_records" USING btree ("subject_type","subject_id");--> statement-breakpoint
CREATE UNIQUE INDEX "api_tokens__token_hash_uq" ON "api_tokens" USING btree ("token_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "hr_events__webhook_id_uq" ON "hr_events" USING btree ("webhook_id");--> statement-breakpoint
CREATE INDEX "hr_events__due_idx" ON "hr_events" USING btree ("effective_at") WHERE "hr_events"."applied_at" is null;--> statement-breakpoint
CREATE INDEX "hr_events__person_id_idx" ON "hr_events" USING btree ("person_id");