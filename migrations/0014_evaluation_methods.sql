-- Evaluation methods (issue 18): how a plan's indicators are scored (degree formula, cap, bands,
-- roll-up, pending treatment), admin-managed and versioned. The method row holds the current
-- rules; every version (the first included) is also kept, immutable, in evaluation_method_versions,
-- so an approved year keeps answering with the version it was approved with. A plan with no
-- method is scored by the built-in default (today's rule). Deleting a method a plan or an
-- approval still uses fails on the foreign keys (RESTRICT), answered 409.
CREATE TABLE "evaluation_methods" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"code" text NOT NULL,
	"name" jsonb NOT NULL,
	"rules" jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "evaluation_methods_code_check" CHECK (nysana_code_ok("evaluation_methods"."code")),
	CONSTRAINT "evaluation_methods_name_check" CHECK (nysana_localized_ok("evaluation_methods"."name"))
);
--> statement-breakpoint
CREATE UNIQUE INDEX "evaluation_methods_code_key" ON "evaluation_methods" USING btree ("code");--> statement-breakpoint
CREATE TABLE "evaluation_method_versions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"method_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"name" jsonb NOT NULL,
	"rules" jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "evaluation_method_versions" ADD CONSTRAINT "evaluation_method_versions_method_id_evaluation_methods_id_fk" FOREIGN KEY ("method_id") REFERENCES "public"."evaluation_methods"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "evaluation_method_versions_method_version_key" ON "evaluation_method_versions" USING btree ("method_id","version");--> statement-breakpoint
ALTER TABLE "plans" ADD COLUMN "evaluation_method_id" uuid;--> statement-breakpoint
ALTER TABLE "plans" ADD CONSTRAINT "plans_evaluation_method_id_evaluation_methods_id_fk" FOREIGN KEY ("evaluation_method_id") REFERENCES "public"."evaluation_methods"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "plans_evaluation_method_idx" ON "plans" USING btree ("evaluation_method_id");--> statement-breakpoint
ALTER TABLE "indicators" ADD COLUMN "weight" numeric DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "indicators" ADD CONSTRAINT "indicators_weight_check" CHECK ("indicators"."weight" >= 0 and "indicators"."weight" <= 1000000);--> statement-breakpoint
ALTER TABLE "year_approvals" ADD COLUMN "evaluation_method_version_id" uuid;--> statement-breakpoint
ALTER TABLE "year_approvals" ADD CONSTRAINT "year_approvals_evaluation_method_version_id_fk" FOREIGN KEY ("evaluation_method_version_id") REFERENCES "public"."evaluation_method_versions"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "year_approvals_evaluation_method_version_idx" ON "year_approvals" USING btree ("evaluation_method_version_id");
