-- The signature block of a plan's annual report for one year (issue 17): the signatory's position
-- and name, localized, an optional closing remark printed above it (e.g. that a translation is an
-- unofficial working one) and optional notes on the edition printed after it (one per line). Data of
-- the year's report: locked, like the note, once the year is approved.
CREATE TABLE "report_signatures" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"plan_id" uuid NOT NULL,
	"year" integer NOT NULL,
	"position" jsonb NOT NULL,
	"name" jsonb NOT NULL,
	"remark" jsonb,
	"edition_notes" jsonb,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "report_signatures" ADD CONSTRAINT "report_signatures_plan_id_plans_id_fk" FOREIGN KEY ("plan_id") REFERENCES "public"."plans"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "report_signatures_plan_year_key" ON "report_signatures" USING btree ("plan_id","year");
