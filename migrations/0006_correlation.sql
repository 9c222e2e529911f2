CREATE TABLE "correlation_links" (
	"kind" text NOT NULL,
	"source" text NOT NULL,
	"source_id" text NOT NULL,
	"person_id" text NOT NULL,
	"review_id" text,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "correlation_links_kind_source_source_id_pk" PRIMARY KEY("kind","source","source_id")
);
--> statement-breakpoint
CREATE TABLE "orphan_accounts" (
	"connector" text NOT NULL,
	"account_id" text NOT NULL,
	"run_id" text,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "orphan_accounts_connector_account_id_pk" PRIMARY KEY("connector","account_id")
);
--> statement-breakpoint
CREATE TABLE "reviews" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"workflow_id" text NOT NULL,
	"step" text NOT NULL,
	"correlation" text NOT NULL,
	"rule" text NOT NULL,
	"record_kind" text NOT NULL,
	"source" text NOT NULL,
	"source_id" text NOT NULL,
	"candidates" text[] NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"resolved_at" timestamp with time zone,
	"resolved_by" text,
	"person_id" text,
	"created" boolean,
	CONSTRAINT "reviews_status_check" CHECK ("reviews"."status" in ('open', 'resolved'))
);
--> statement-breakpoint
CREATE INDEX "correlation_links_person_idx" ON "correlation_links" USING btree ("person_id");--> statement-breakpoint
CREATE INDEX "reviews_open_idx" ON "reviews" USING btree ("created_at") WHERE "reviews"."status" = 'open';--> statement-breakpoint
CREATE INDEX "reviews_workflow_idx" ON "reviews" USING btree ("workflow_id");