CREATE TABLE "sync_deletions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"entity_type" text NOT NULL,
	"entity_id" uuid NOT NULL,
	"parent_id" uuid,
	"year" integer,
	"deleted_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"change_xid" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
ALTER TABLE "directions" ADD COLUMN "change_xid" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "goals" ADD COLUMN "change_xid" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "indicators" ADD COLUMN "change_xid" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "measurements" ADD COLUMN "change_xid" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "organizations" ADD COLUMN "change_xid" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "plans" ADD COLUMN "change_xid" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "year_approvals" ADD COLUMN "change_xid" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "sync_deletions_entity_idx" ON "sync_deletions" USING btree ("entity_type","change_xid","entity_id");--> statement-breakpoint
CREATE INDEX "sync_deletions_parent_idx" ON "sync_deletions" USING btree ("entity_type","parent_id","change_xid");--> statement-breakpoint
CREATE INDEX "directions_change_idx" ON "directions" USING btree ("change_xid","id");--> statement-breakpoint
CREATE INDEX "goals_change_idx" ON "goals" USING btree ("change_xid","id");--> statement-breakpoint
CREATE INDEX "indicators_change_idx" ON "indicators" USING btree ("change_xid","id");--> statement-breakpoint
CREATE INDEX "measurements_change_idx" ON "measurements" USING btree ("change_xid","id");--> statement-breakpoint
CREATE INDEX "organizations_change_idx" ON "organizations" USING btree ("change_xid","id");--> statement-breakpoint
CREATE INDEX "plans_change_idx" ON "plans" USING btree ("change_xid","id");