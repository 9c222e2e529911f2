CREATE TABLE "scim_users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"source" text NOT NULL,
	"user_name" text NOT NULL,
	"user_name_key" text NOT NULL,
	"external_id" text,
	"person_id" text NOT NULL,
	"emails" text[] DEFAULT '{}'::text[] NOT NULL,
	"active" boolean NOT NULL,
	"joined_at" timestamp with time zone,
	"resource" jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
	"source" text NOT NULL,
	"webhook_id" text NOT NULL,
	"event_id" text,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "webhook_deliveries_source_webhook_id_pk" PRIMARY KEY("source","webhook_id")
);
--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "source" text;--> statement-breakpoint
CREATE UNIQUE INDEX "scim_users_user_name_idx" ON "scim_users" USING btree ("source","user_name_key");--> statement-breakpoint
CREATE UNIQUE INDEX "scim_users_person_idx" ON "scim_users" USING btree ("source","person_id");--> statement-breakpoint
CREATE INDEX "scim_users_external_id_idx" ON "scim_users" USING btree ("source","external_id");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_received_idx" ON "webhook_deliveries" USING btree ("received_at");