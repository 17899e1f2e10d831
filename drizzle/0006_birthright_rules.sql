CREATE TABLE "birthright_rules" (
	"code" text PRIMARY KEY NOT NULL,
	"company_code" text NOT NULL,
	"org_unit" text,
	"entitlement_code" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "birthright_rules" ADD CONSTRAINT "birthright_rules__company_code_fk" FOREIGN KEY ("company_code") REFERENCES "public"."companies"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "birthright_rules" ADD CONSTRAINT "birthright_rules__entitlement_code_fk" FOREIGN KEY ("entitlement_code") REFERENCES "public"."entitlements"("code") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "birthright_rules__company_code_idx" ON "birthright_rules" USING btree ("company_code");