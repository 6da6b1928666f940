CREATE TABLE "sync_horizon" (
	"id" integer PRIMARY KEY NOT NULL,
	"pruned_xid" bigint DEFAULT 0 NOT NULL,
	"pruned_before" timestamp (3) with time zone,
	CONSTRAINT "sync_horizon_single_row" CHECK ("sync_horizon"."id" = 1)
);
--> statement-breakpoint
ALTER TABLE "audit_log" ADD COLUMN "change_xid" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "sync_deletions" ADD COLUMN "plan_id" uuid;--> statement-breakpoint
CREATE INDEX "audit_log_change_idx" ON "audit_log" USING btree ("change_xid","id");--> statement-breakpoint
CREATE INDEX "risks_change_idx" ON "risks" USING btree ("change_xid","id");--> statement-breakpoint
CREATE INDEX "sync_deletions_plan_idx" ON "sync_deletions" USING btree ("entity_type","plan_id","change_xid");--> statement-breakpoint
CREATE INDEX "sync_deletions_deleted_at_idx" ON "sync_deletions" USING btree ("deleted_at");--> statement-breakpoint
-- Tombstone retention (src/sync/retention.ts): nothing pruned yet.
INSERT INTO sync_horizon (id, pruned_xid, pruned_before) VALUES (1, 0, NULL);
--> statement-breakpoint
-- The audit trail syncs by commit order too (GET /audit?updatedSince=): stamp every insert.
CREATE TRIGGER audit_log_sync_stamp BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION nysana_sync_stamp();
--> statement-breakpoint
-- A deleted risk's tombstone also names its plan, for the plan-wide register's sync: looked up now,
-- while the goal and direction still exist (foreign keys are RESTRICT, so a cascade deletes risks first).
CREATE FUNCTION nysana_risk_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO sync_deletions (entity_type, entity_id, parent_id, year, plan_id, change_xid)
  VALUES ('risk', OLD.id, OLD.goal_id, OLD.year,
          (SELECT d.plan_id FROM goals g JOIN directions d ON d.id = g.direction_id WHERE g.id = OLD.goal_id),
          pg_current_xact_id()::text::bigint);
  RETURN OLD;
END
$$;
--> statement-breakpoint
DROP TRIGGER risks_sync_deleted ON risks;
--> statement-breakpoint
CREATE TRIGGER risks_sync_deleted AFTER DELETE ON risks FOR EACH ROW EXECUTE FUNCTION nysana_risk_deleted();
--> statement-breakpoint
-- Risk tombstones written before this migration: their plan, where the goal still exists.
UPDATE sync_deletions sd SET plan_id = d.plan_id
FROM goals g JOIN directions d ON d.id = g.direction_id
WHERE sd.entity_type = 'risk' AND sd.plan_id IS NULL AND g.id = sd.parent_id;
