CREATE TABLE "approval_assignees" (
	"task_id" text COLLATE "C" NOT NULL,
	"person_id" text NOT NULL,
	"deadline" timestamp with time zone NOT NULL,
	"subject_id" text NOT NULL,
	CONSTRAINT "approval_assignees_task_id_person_id_pk" PRIMARY KEY("task_id","person_id")
);
--> statement-breakpoint
CREATE TABLE "approval_tasks" (
	"task_id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"workflow_id" text NOT NULL,
	"step" text NOT NULL,
	"flow" text NOT NULL,
	"title" text NOT NULL,
	"subject_id" text NOT NULL,
	"subject_name" text,
	"request" text NOT NULL,
	"access" jsonb,
	"mode" text NOT NULL,
	"status" text NOT NULL,
	"level" integer NOT NULL,
	"approvers" text[] NOT NULL,
	"opened_at" timestamp with time zone NOT NULL,
	"deadline" timestamp with time zone NOT NULL,
	"next_reminder_at" timestamp with time zone,
	"next_escalation_at" timestamp with time zone,
	"closed_at" timestamp with time zone,
	"version" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "approval_assignees" ADD CONSTRAINT "approval_assignees_task_id_approval_tasks_task_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."approval_tasks"("task_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "approval_assignees_person_idx" ON "approval_assignees" USING btree ("person_id","deadline","task_id");--> statement-breakpoint
CREATE INDEX "approval_tasks_workflow_idx" ON "approval_tasks" USING btree ("workflow_id");--> statement-breakpoint
CREATE INDEX "approval_tasks_open_deadline_idx" ON "approval_tasks" USING btree ("deadline") WHERE "approval_tasks"."status" = 'open';