ALTER TABLE "accounts" ADD COLUMN "last_login_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "password_changed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "activity_read_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "accounts_connector_id_idx" ON "accounts" USING btree ("connector","id");