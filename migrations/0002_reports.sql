CREATE TABLE "analytical_notes" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"plan_id" uuid NOT NULL,
	"year" integer NOT NULL,
	"blocks" jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "risks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"goal_id" uuid NOT NULL,
	"year" integer NOT NULL,
	"position" integer NOT NULL,
	"risk" jsonb NOT NULL,
	"planned_measures" jsonb NOT NULL,
	"actual_measures" jsonb,
	"execution_status" text NOT NULL,
	"note" jsonb,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "risks_execution_status_check" CHECK ("risks"."execution_status" in ('executed', 'not_executed', 'in_progress'))
);
--> statement-breakpoint
ALTER TABLE "analytical_notes" ADD CONSTRAINT "analytical_notes_plan_id_plans_id_fk" FOREIGN KEY ("plan_id") REFERENCES "public"."plans"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "risks" ADD CONSTRAINT "risks_goal_id_goals_id_fk" FOREIGN KEY ("goal_id") REFERENCES "public"."goals"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "analytical_notes_plan_year_key" ON "analytical_notes" USING btree ("plan_id","year");--> statement-breakpoint
CREATE INDEX "risks_goal_year_idx" ON "risks" USING btree ("goal_id","year","position");