CREATE TABLE "account_holds" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"person_id" text NOT NULL,
	"connector" text NOT NULL,
	"reason" text NOT NULL,
	"placed_by" text NOT NULL,
	"placed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"lifted_at" timestamp with time zone,
	"lifted_by" text,
	CONSTRAINT "account_holds_reason_length" CHECK (char_length("account_holds"."reason") between 1 and 200),
	CONSTRAINT "account_holds_lifted" CHECK (("account_holds"."lifted_at" is null) = ("account_holds"."lifted_by" is null))
);
--> statement-breakpoint
CREATE INDEX "account_holds_person_idx" ON "account_holds" USING btree ("person_id");--> statement-breakpoint
CREATE UNIQUE INDEX "account_holds_in_place_idx" ON "account_holds" USING btree ("person_id","connector","reason") WHERE "account_holds"."lifted_at" is null;