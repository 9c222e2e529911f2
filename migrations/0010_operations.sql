CREATE TABLE "audit_checkpoints" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"head_seq" bigint NOT NULL,
	"head_hash" text NOT NULL,
	"pruned_through_seq" bigint,
	"rows_pruned" bigint DEFAULT 0 NOT NULL,
	"key_id" text NOT NULL,
	"algorithm" text NOT NULL,
	"signature" text NOT NULL,
	"actor" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "audit_log" ADD COLUMN "prev_hash" text;--> statement-breakpoint
ALTER TABLE "audit_log" ADD COLUMN "hash" text;--> statement-breakpoint
ALTER TABLE "definition_versions" ADD COLUMN "version" integer;--> statement-breakpoint
-- versions stored before numbering are numbered in the order they were stored
UPDATE "definition_versions" d SET "version" = n.v FROM (
  SELECT "kind", "name", "hash", row_number() OVER (PARTITION BY "kind", "name" ORDER BY "created_at", "hash") AS v
  FROM "definition_versions"
) n WHERE d."kind" = n."kind" AND d."name" = n."name" AND d."hash" = n."hash";--> statement-breakpoint
ALTER TABLE "definition_versions" ALTER COLUMN "version" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "definition_versions" ADD COLUMN "source" text;--> statement-breakpoint
ALTER TABLE "definition_versions" ADD COLUMN "source_path" text;--> statement-breakpoint
ALTER TABLE "definition_versions" ADD COLUMN "git_commit" text;--> statement-breakpoint
ALTER TABLE "definition_versions" ADD COLUMN "git_author" text;--> statement-breakpoint
ALTER TABLE "definition_versions" ADD COLUMN "applied_by" text DEFAULT 'unknown' NOT NULL;--> statement-breakpoint
CREATE INDEX "audit_at_idx" ON "audit_log" USING btree ("at");--> statement-breakpoint
CREATE INDEX "audit_actor_idx" ON "audit_log" USING btree ("actor");--> statement-breakpoint
CREATE INDEX "audit_action_idx" ON "audit_log" USING btree ("action");--> statement-breakpoint
CREATE UNIQUE INDEX "definition_version_idx" ON "definition_versions" USING btree ("kind","name","version");--> statement-breakpoint
-- rows stay append-only; only retention may delete, and only inside a transaction that set
-- idflow.audit_prune (the pruning code writes a signed checkpoint of the chain's head first)
CREATE OR REPLACE FUNCTION idflow_audit_log_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('idflow.audit_prune', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP;
END;
$$ LANGUAGE plpgsql;