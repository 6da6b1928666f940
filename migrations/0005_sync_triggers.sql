-- Incremental sync (see src/sync/cursor.ts for the reading side).
-- Every insert or update of a synced table stamps the row with the writing transaction's id
-- (64-bit, never wraps); every delete leaves a tombstone in sync_deletions, stamped the same way,
-- in the deleting transaction (cascades included, whatever code path deletes).
CREATE FUNCTION nysana_sync_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.change_xid := pg_current_xact_id()::text::bigint;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE FUNCTION nysana_sync_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  old_row jsonb := to_jsonb(OLD);
BEGIN
  -- TG_ARGV[0]: entity type; TG_ARGV[1]: the parent id column ('' for none).
  INSERT INTO sync_deletions (entity_type, entity_id, parent_id, year, change_xid)
  VALUES (TG_ARGV[0], OLD.id, (old_row ->> TG_ARGV[1])::uuid, (old_row ->> 'year')::int, pg_current_xact_id()::text::bigint);
  RETURN OLD;
END
$$;
--> statement-breakpoint
CREATE TRIGGER organizations_sync_stamp BEFORE INSERT OR UPDATE ON organizations FOR EACH ROW EXECUTE FUNCTION nysana_sync_stamp();
--> statement-breakpoint
CREATE TRIGGER organizations_sync_deleted AFTER DELETE ON organizations FOR EACH ROW EXECUTE FUNCTION nysana_sync_deleted('organization', '');
--> statement-breakpoint
CREATE TRIGGER plans_sync_stamp BEFORE INSERT OR UPDATE ON plans FOR EACH ROW EXECUTE FUNCTION nysana_sync_stamp();
--> statement-breakpoint
CREATE TRIGGER plans_sync_deleted AFTER DELETE ON plans FOR EACH ROW EXECUTE FUNCTION nysana_sync_deleted('plan', 'organization_id');
--> statement-breakpoint
CREATE TRIGGER directions_sync_stamp BEFORE INSERT OR UPDATE ON directions FOR EACH ROW EXECUTE FUNCTION nysana_sync_stamp();
--> statement-breakpoint
CREATE TRIGGER directions_sync_deleted AFTER DELETE ON directions FOR EACH ROW EXECUTE FUNCTION nysana_sync_deleted('direction', 'plan_id');
--> statement-breakpoint
CREATE TRIGGER goals_sync_stamp BEFORE INSERT OR UPDATE ON goals FOR EACH ROW EXECUTE FUNCTION nysana_sync_stamp();
--> statement-breakpoint
CREATE TRIGGER goals_sync_deleted AFTER DELETE ON goals FOR EACH ROW EXECUTE FUNCTION nysana_sync_deleted('goal', 'direction_id');
--> statement-breakpoint
CREATE TRIGGER indicators_sync_stamp BEFORE INSERT OR UPDATE ON indicators FOR EACH ROW EXECUTE FUNCTION nysana_sync_stamp();
--> statement-breakpoint
CREATE TRIGGER indicators_sync_deleted AFTER DELETE ON indicators FOR EACH ROW EXECUTE FUNCTION nysana_sync_deleted('indicator', 'goal_id');
--> statement-breakpoint
CREATE TRIGGER measurements_sync_stamp BEFORE INSERT OR UPDATE ON measurements FOR EACH ROW EXECUTE FUNCTION nysana_sync_stamp();
--> statement-breakpoint
CREATE TRIGGER measurements_sync_deleted AFTER DELETE ON measurements FOR EACH ROW EXECUTE FUNCTION nysana_sync_deleted('measurement', 'indicator_id');
--> statement-breakpoint
CREATE TRIGGER year_approvals_sync_stamp BEFORE INSERT OR UPDATE ON year_approvals FOR EACH ROW EXECUTE FUNCTION nysana_sync_stamp();
--> statement-breakpoint
CREATE TRIGGER year_approvals_sync_deleted AFTER DELETE ON year_approvals FOR EACH ROW EXECUTE FUNCTION nysana_sync_deleted('year_approval', 'plan_id');
