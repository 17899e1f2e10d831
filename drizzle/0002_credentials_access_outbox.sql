CREATE TYPE "public"."field_class" AS ENUM('network.public', 'customer.retailer-only', 'network.internal');--> statement-breakpoint
CREATE TYPE "public"."credential_type" AS ENUM('password', 'badge', 'passkey', 'api_token');--> statement-breakpoint
CREATE TABLE "entitlements" (
	"code" text PRIMARY KEY NOT NULL,
	"system_code" text NOT NULL,
	"name" text NOT NULL,
	"allowed_company_kinds" "company_kind"[] NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "grants" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"person_id" text NOT NULL,
	"entitlement_code" text NOT NULL,
	"valid_from" timestamp with time zone NOT NULL,
	"valid_to" timestamp with time zone,
	"reason" text NOT NULL,
	"granted_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	"revoked_by" text,
	"revoked_reason" text,
	CONSTRAINT "grants__valid_interval_ck" CHECK ("grants"."valid_to" is null or "grants"."valid_to" > "grants"."valid_from")
);
--> statement-breakpoint
CREATE TABLE "system_fields" (
	"system_code" text NOT NULL,
	"field" text NOT NULL,
	"class" "field_class" NOT NULL,
	"in_emergency_set" boolean DEFAULT false NOT NULL,
	CONSTRAINT "system_fields__pk" PRIMARY KEY("system_code","field")
);
--> statement-breakpoint
CREATE TABLE "systems" (
	"code" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"owner_company" text,
	"owner_person_id" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "terminals" (
	"id" text PRIMARY KEY NOT NULL,
	"company_code" text NOT NULL,
	"site" text NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "authn_throttles" (
	"key" text PRIMARY KEY NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"failures" integer NOT NULL,
	"locked_until" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "credentials" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"person_id" text NOT NULL,
	"type" "credential_type" NOT NULL,
	"company_code" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"created_by" text NOT NULL,
	"revoked_at" timestamp with time zone,
	"revoked_reason" text,
	"system" text,
	"login_id" text,
	"secret_hash" text,
	"badge_id" text,
	"webauthn_id" text,
	"public_key" "bytea",
	"sign_count" bigint,
	"transports" text[],
	"last_used_at" timestamp with time zone,
	CONSTRAINT "credentials__type_fields_ck" CHECK (("credentials"."type" <> 'password' or ("credentials"."system" is not null and "credentials"."login_id" is not null and "credentials"."secret_hash" is not null))
      and ("credentials"."type" <> 'badge' or "credentials"."badge_id" is not null)
      and ("credentials"."type" <> 'passkey' or ("credentials"."webauthn_id" is not null and "credentials"."public_key" is not null and "credentials"."sign_count" is not null))
      and ("credentials"."type" <> 'api_token' or "credentials"."secret_hash" is not null))
);
--> statement-breakpoint
CREATE TABLE "shared_secret_holders" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"secret_id" uuid NOT NULL,
	"person_id" text NOT NULL,
	"company_code" text NOT NULL,
	"version" integer NOT NULL,
	"since" timestamp with time zone NOT NULL,
	"exposed_at" timestamp with time zone,
	"exposed_to_company" text
);
--> statement-breakpoint
CREATE TABLE "shared_secrets" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"system" text NOT NULL,
	"name" text NOT NULL,
	"status" text NOT NULL,
	"version" integer NOT NULL,
	"ciphertext" "bytea" NOT NULL,
	"iv" "bytea" NOT NULL,
	"auth_tag" "bytea" NOT NULL,
	"key_id" text NOT NULL,
	"max_age_days" integer,
	"rotated_at" timestamp with time zone NOT NULL,
	"rotation_required_at" timestamp with time zone,
	"rotation_reason" text,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "shared_secrets__status_ck" CHECK ("shared_secrets"."status" in ('ok', 'rotation_required'))
);
--> statement-breakpoint
CREATE TABLE "webauthn_challenges" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"ceremony" text NOT NULL,
	"person_id" text,
	"challenge" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "webauthn_challenges__ceremony_ck" CHECK ("webauthn_challenges"."ceremony" in ('registration', 'authentication'))
);
--> statement-breakpoint
CREATE TABLE "deliveries" (
	"event_id" uuid NOT NULL,
	"subscriber_id" uuid NOT NULL,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone NOT NULL,
	"lease_until" timestamp with time zone,
	"last_error" text,
	"delivered_at" timestamp with time zone,
	CONSTRAINT "deliveries__pk" PRIMARY KEY("event_id","subscriber_id")
);
--> statement-breakpoint
CREATE TABLE "outbox_events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"type" text NOT NULL,
	"subject_type" text NOT NULL,
	"subject_id" text NOT NULL,
	"payload" jsonb NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "signing_keys" (
	"kid" text PRIMARY KEY NOT NULL,
	"alg" text NOT NULL,
	"public_jwk" jsonb NOT NULL,
	"private_ciphertext" "bytea" NOT NULL,
	"private_iv" "bytea" NOT NULL,
	"private_auth_tag" "bytea" NOT NULL,
	"private_key_id" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"retired_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "subscribers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"url" text NOT NULL,
	"format" text NOT NULL,
	"event_types" text[] NOT NULL,
	"secret_ciphertext" "bytea" NOT NULL,
	"secret_iv" "bytea" NOT NULL,
	"secret_auth_tag" "bytea" NOT NULL,
	"secret_key_id" text NOT NULL,
	"audience" text,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "entitlements" ADD CONSTRAINT "entitlements__system_code_fk" FOREIGN KEY ("system_code") REFERENCES "public"."systems"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "grants" ADD CONSTRAINT "grants__person_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."persons"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "grants" ADD CONSTRAINT "grants__entitlement_code_fk" FOREIGN KEY ("entitlement_code") REFERENCES "public"."entitlements"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "system_fields" ADD CONSTRAINT "system_fields__system_code_fk" FOREIGN KEY ("system_code") REFERENCES "public"."systems"("code") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "systems" ADD CONSTRAINT "systems__owner_company_fk" FOREIGN KEY ("owner_company") REFERENCES "public"."companies"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "systems" ADD CONSTRAINT "systems__owner_person_id_fk" FOREIGN KEY ("owner_person_id") REFERENCES "public"."persons"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "terminals" ADD CONSTRAINT "terminals__company_code_fk" FOREIGN KEY ("company_code") REFERENCES "public"."companies"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "credentials" ADD CONSTRAINT "credentials__person_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."persons"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "credentials" ADD CONSTRAINT "credentials__company_code_fk" FOREIGN KEY ("company_code") REFERENCES "public"."companies"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "shared_secret_holders" ADD CONSTRAINT "shared_secret_holders__secret_id_fk" FOREIGN KEY ("secret_id") REFERENCES "public"."shared_secrets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "shared_secret_holders" ADD CONSTRAINT "shared_secret_holders__person_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."persons"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries__event_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."outbox_events"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries__subscriber_id_fk" FOREIGN KEY ("subscriber_id") REFERENCES "public"."subscribers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "grants__person_id_idx" ON "grants" USING btree ("person_id") WHERE "grants"."revoked_at" is null;--> statement-breakpoint
CREATE INDEX "grants__entitlement_code_idx" ON "grants" USING btree ("entitlement_code") WHERE "grants"."revoked_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "credentials__system_login_id_active_uq" ON "credentials" USING btree ("system","login_id") WHERE "credentials"."type" = 'password' and "credentials"."revoked_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "credentials__badge_id_active_uq" ON "credentials" USING btree ("badge_id") WHERE "credentials"."type" = 'badge' and "credentials"."revoked_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "credentials__webauthn_id_uq" ON "credentials" USING btree ("webauthn_id");--> statement-breakpoint
CREATE UNIQUE INDEX "credentials__token_hash_active_uq" ON "credentials" USING btree ("secret_hash") WHERE "credentials"."type" = 'api_token' and "credentials"."revoked_at" is null;--> statement-breakpoint
CREATE INDEX "credentials__person_id_active_idx" ON "credentials" USING btree ("person_id") WHERE "credentials"."revoked_at" is null;--> statement-breakpoint
CREATE INDEX "shared_secret_holders__person_id_idx" ON "shared_secret_holders" USING btree ("person_id");--> statement-breakpoint
CREATE UNIQUE INDEX "shared_secret_holders__secret_person_version_uq" ON "shared_secret_holders" USING btree ("secret_id","person_id","version");--> statement-breakpoint
CREATE UNIQUE INDEX "shared_secrets__system_name_uq" ON "shared_secrets" USING btree ("system","name");--> statement-breakpoint
CREATE INDEX "webauthn_challenges__expires_at_idx" ON "webauthn_challenges" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "deliveries__due_idx" ON "deliveries" USING btree ("next_attempt_at") WHERE "deliveries"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "outbox_events__created_at_idx" ON "outbox_events" USING btree ("created_at");