CREATE TABLE "findings" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"rule" text NOT NULL,
	"severity" text NOT NULL,
	"subject_key" text NOT NULL,
	"person_id" text,
	"terminal_id" text,
	"first_seen" timestamp with time zone NOT NULL,
	"last_seen" timestamp with time zone NOT NULL,
	"count" integer NOT NULL,
	"status" text NOT NULL,
	"details" jsonb NOT NULL,
	"status_changed_by" text,
	"status_changed_at" timestamp with time zone,
	"status_note" text,
	CONSTRAINT "findings__status_ck" CHECK ("findings"."status" in ('open', 'acknowledged', 'resolved')),
	CONSTRAINT "findings__severity_ck" CHECK ("findings"."severity" in ('low', 'medium', 'high', 'critical'))
);
--> statement-breakpoint
CREATE TABLE "emergencies" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"areas" text[] NOT NULL,
	"reason" text NOT NULL,
	"status" text NOT NULL,
	"declared_by" text NOT NULL,
	"declared_at" timestamp with time zone NOT NULL,
	"approved_by" text,
	"started_at" timestamp with time zone,
	"expires_at" timestamp with time zone NOT NULL,
	"latest_expiry" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone,
	"ended_by" text,
	"end_reason" text,
	"closed_out_at" timestamp with time zone,
	CONSTRAINT "emergencies__status_ck" CHECK ("emergencies"."status" in ('pending_approval', 'active', 'ended')),
	CONSTRAINT "emergencies__active_started_ck" CHECK ("emergencies"."status" = 'pending_approval' or "emergencies"."started_at" is not null),
	CONSTRAINT "emergencies__expiry_bound_ck" CHECK ("emergencies"."expires_at" <= "emergencies"."latest_expiry")
);
--> statement-breakpoint
CREATE TABLE "emergency_roster" (
	"person_id" text PRIMARY KEY NOT NULL,
	"areas" text[] NOT NULL,
	"trained_at" timestamp with time zone,
	"contract_ref" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "emergency_transitions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"emergency_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor" text NOT NULL,
	"detail" text
);
--> statement-breakpoint
ALTER TABLE "emergency_roster" ADD CONSTRAINT "emergency_roster__person_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."persons"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "emergency_transitions" ADD CONSTRAINT "emergency_transitions__emergency_id_fk" FOREIGN KEY ("emergency_id") REFERENCES "public"."emergencies"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "findings__rule_subject_unresolved_uq" ON "findings" USING btree ("rule","subject_key") WHERE "findings"."status" <> 'resolved';--> statement-breakpoint
CREATE INDEX "findings__status_idx" ON "findings" USING btree ("status","last_seen");--> statement-breakpoint
CREATE INDEX "findings__person_id_idx" ON "findings" USING btree ("person_id");--> statement-breakpoint
CREATE INDEX "emergencies__status_idx" ON "emergencies" USING btree ("status");--> statement-breakpoint
CREATE INDEX "emergency_transitions__emergency_id_idx" ON "emergency_transitions" USING btree ("emergency_id","at");