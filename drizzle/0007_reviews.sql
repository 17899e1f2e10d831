CREATE TABLE "review_campaigns" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"scope_system" text,
	"scope_entitlement" text,
	"scope_company_kind" "company_kind",
	"reviewer_id" text,
	"due_at" timestamp with time zone NOT NULL,
	"on_no_response" text NOT NULL,
	"status" text NOT NULL,
	"item_count" integer NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"created_by" text NOT NULL,
	"occurrence_key" text,
	"notices" text[] DEFAULT '{}'::text[] NOT NULL,
	"closed_at" timestamp with time zone,
	"closed_by" text,
	"close_report" jsonb,
	CONSTRAINT "review_campaigns__status_ck" CHECK ("review_campaigns"."status" in ('open', 'closed')),
	CONSTRAINT "review_campaigns__on_no_response_ck" CHECK ("review_campaigns"."on_no_response" in ('revoke', 'keep'))
);
--> statement-breakpoint
CREATE TABLE "review_items" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"campaign_id" uuid NOT NULL,
	"grant_id" uuid NOT NULL,
	"person_id" text NOT NULL,
	"entitlement_code" text NOT NULL,
	"system_code" text NOT NULL,
	"reviewer_id" text,
	"company_at_grant" text,
	"company_at_start" text,
	"recommendations" text[] NOT NULL,
	"decision" text,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"comment" text,
	CONSTRAINT "review_items__decision_ck" CHECK ("review_items"."decision" is null or "review_items"."decision" in ('certify', 'revoke'))
);
--> statement-breakpoint
CREATE TABLE "review_schedules" (
	"name" text PRIMARY KEY NOT NULL,
	"cron" text NOT NULL,
	"timezone" text NOT NULL,
	"campaign" jsonb NOT NULL,
	"last_occurrence_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "review_items" ADD CONSTRAINT "review_items__campaign_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."review_campaigns"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "review_campaigns__occurrence_key_uq" ON "review_campaigns" USING btree ("occurrence_key");--> statement-breakpoint
CREATE INDEX "review_campaigns__status_due_at_idx" ON "review_campaigns" USING btree ("status","due_at");--> statement-breakpoint
CREATE INDEX "review_items__campaign_id_idx" ON "review_items" USING btree ("campaign_id");--> statement-breakpoint
CREATE INDEX "review_items__reviewer_open_idx" ON "review_items" USING btree ("reviewer_id") WHERE "review_items"."decision" is null;