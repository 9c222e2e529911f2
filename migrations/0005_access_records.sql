CREATE TABLE "access_grants" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"person_id" text NOT NULL,
	"role" text,
	"connector" text,
	"kind" text,
	"value" text,
	"valid_until" timestamp with time zone,
	"reason" text,
	"granted_by" text NOT NULL,
	"granted_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	"revoked_by" text,
	CONSTRAINT "access_grants_role_or_entitlement" CHECK (("access_grants"."role" is not null and "access_grants"."connector" is null and "access_grants"."kind" is null and "access_grants"."value" is null) or ("access_grants"."role" is null and "access_grants"."connector" is not null and "access_grants"."kind" is not null and "access_grants"."value" is not null))
);
--> statement-breakpoint
CREATE TABLE "accounts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"person_id" text NOT NULL,
	"connector" text NOT NULL,
	"account_name" text NOT NULL,
	"target_id" text,
	"status" text NOT NULL,
	"created_by_run" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_read_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "accounts_status_check" CHECK ("accounts"."status" in ('enabled', 'disabled', 'deleted'))
);
--> statement-breakpoint
CREATE TABLE "entitlements" (
	"account_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"value" text NOT NULL,
	"source" text NOT NULL,
	"granted_at" timestamp with time zone NOT NULL,
	"granted_by_run" text,
	CONSTRAINT "entitlements_account_id_kind_value_pk" PRIMARY KEY("account_id","kind","value")
);
--> statement-breakpoint
ALTER TABLE "entitlements" ADD CONSTRAINT "entitlements_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "access_grants_person_idx" ON "access_grants" USING btree ("person_id");--> statement-breakpoint
CREATE UNIQUE INDEX "accounts_person_connector_idx" ON "accounts" USING btree ("person_id","connector");--> statement-breakpoint
CREATE INDEX "accounts_connector_name_idx" ON "accounts" USING btree ("connector","account_name");