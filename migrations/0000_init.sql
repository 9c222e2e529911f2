CREATE TABLE "api_tokens" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"token_hash" text NOT NULL,
	"scopes" text[] NOT NULL,
	"person_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"last_used_at" timestamp with time zone,
	CONSTRAINT "api_tokens_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"target" text NOT NULL,
	"outcome" text NOT NULL,
	"detail" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"run_id" text
);
--> statement-breakpoint
CREATE TABLE "definition_versions" (
	"kind" text NOT NULL,
	"name" text NOT NULL,
	"hash" text NOT NULL,
	"ir" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"active" boolean DEFAULT false NOT NULL,
	"activated_at" timestamp with time zone,
	CONSTRAINT "definition_versions_kind_name_hash_pk" PRIMARY KEY("kind","name","hash")
);
--> statement-breakpoint
CREATE TABLE "events" (
	"source" text NOT NULL,
	"id" text NOT NULL,
	"type" text NOT NULL,
	"subject_id" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"effective_at" timestamp with time zone,
	"body" jsonb NOT NULL,
	"dispatch_workflow_id" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"decision" jsonb,
	"runs" jsonb,
	"decided_at" timestamp with time zone,
	CONSTRAINT "events_source_id_pk" PRIMARY KEY("source","id")
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"key" text PRIMARY KEY NOT NULL,
	"operation" text NOT NULL,
	"result" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "persons" (
	"id" text PRIMARY KEY NOT NULL,
	"employee_id" text,
	"given_name" text,
	"family_name" text,
	"display_name" text,
	"email" text,
	"department" text,
	"title" text,
	"job_code" text,
	"manager_id" text,
	"location" text,
	"employment_type" text,
	"status" text DEFAULT 'pending' NOT NULL,
	"valid_from" timestamp with time zone,
	"valid_until" timestamp with time zone,
	"attributes" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "audit_target_idx" ON "audit_log" USING btree ("target");--> statement-breakpoint
CREATE INDEX "audit_run_idx" ON "audit_log" USING btree ("run_id");--> statement-breakpoint
CREATE UNIQUE INDEX "definition_active_idx" ON "definition_versions" USING btree ("kind","name") WHERE "definition_versions"."active";--> statement-breakpoint
CREATE INDEX "events_subject_idx" ON "events" USING btree ("subject_id");--> statement-breakpoint
CREATE UNIQUE INDEX "persons_employee_id_idx" ON "persons" USING btree ("employee_id");--> statement-breakpoint
CREATE INDEX "persons_manager_idx" ON "persons" USING btree ("manager_id");