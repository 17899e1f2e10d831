CREATE TABLE "decision_log" (
	"id" uuid PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"person_id" text NOT NULL,
	"terminal_id" text,
	"system" text NOT NULL,
	"customer_id" text,
	"retailer" text,
	"area" text,
	"decision" text NOT NULL,
	"allowed" text[] NOT NULL,
	"masked" text[] NOT NULL,
	"reasons" text[] NOT NULL,
	"emergency_id" uuid,
	"caller" text NOT NULL
);
--> statement-breakpoint
CREATE INDEX "decision_log__at_idx" ON "decision_log" USING btree ("at");--> statement-breakpoint
CREATE INDEX "decision_log__person_id_at_idx" ON "decision_log" USING btree ("person_id","at");--> statement-breakpoint
CREATE INDEX "decision_log__emergency_id_idx" ON "decision_log" USING btree ("emergency_id") WHERE "decision_log"."emergency_id" is not null;