-- The natural order's key (0017) moves onto the indicators' own rows: a feed page or export in natural
-- order then walks one index of indicators and fetches each row from it, where the separate
-- indicator_order table cost a probe of indicators_pkey per row (docs/benchmarks.md, the h-csv4 section).
-- Written only by the triggers below; the column's default is what the insert trigger replaces.
ALTER TABLE "indicators" ADD COLUMN "sort_key" text COLLATE "C" DEFAULT '' NOT NULL;
--> statement-breakpoint
-- A key rewritten because a parent moved or was renamed is no change of the indicator itself: its change
-- stamp (the incremental sync's position) stays, as it did while the key lived in indicator_order. Any
-- other update stamps the row as before (an indicator's own code or goal changes its key too). The
-- refresh below writes only keys that change, so a row whose key is unchanged was written by the API.
DROP TRIGGER "indicators_sync_stamp" ON "indicators";
--> statement-breakpoint
CREATE TRIGGER indicators_sync_stamp BEFORE INSERT ON indicators FOR EACH ROW EXECUTE FUNCTION nysana_sync_stamp();
--> statement-breakpoint
CREATE TRIGGER indicators_sync_stamp_update BEFORE UPDATE ON indicators FOR EACH ROW
  WHEN (OLD.sort_key IS NOT DISTINCT FROM NEW.sort_key OR OLD.code IS DISTINCT FROM NEW.code OR OLD.goal_id IS DISTINCT FROM NEW.goal_id)
  EXECUTE FUNCTION nysana_sync_stamp();
--> statement-breakpoint
-- The existing indicators' keys, as indicator_order's triggers kept them (no change stamp: see above).
-- Rewriting every indicator re-checks its row constraints (the localized texts' limits): about 10 s per
-- 100,000 indicators on a busy two-core host, past the pool's statement timeout; this migration's
-- transaction has none.
SET LOCAL statement_timeout = 0;
--> statement-breakpoint
UPDATE indicators i SET sort_key = o.sort_key FROM indicator_order o WHERE o.indicator_id = i.id;
--> statement-breakpoint
-- A new indicator, or a changed code or goal: its key from its current tree. A goal that does not exist
-- leaves the default, so the foreign key reports it as before (not the NOT NULL constraint). The trigger's
-- name sorts before indicators_sync_stamp_update, whose condition sees the new key.
CREATE FUNCTION nysana_indicator_sort_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.sort_key := coalesce((
    SELECT nysana_status_sort_key(p.code, p.id, d.position, d.code, g.position, g.code, NEW.code)
    FROM goals g JOIN directions d ON d.id = g.direction_id JOIN plans p ON p.id = d.plan_id
    WHERE g.id = NEW.goal_id), '');
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER indicators_sort_key BEFORE INSERT OR UPDATE OF code, goal_id ON indicators
  FOR EACH ROW EXECUTE FUNCTION nysana_indicator_sort_key();
--> statement-breakpoint
-- A changed code or place of a goal, direction or plan: the keys of the indicators under it again.
CREATE FUNCTION nysana_indicator_sort_key_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- One statement per table, each a plan of its own: the changed parent's id is an index condition.
  -- Keys that stay equal ("1.01" renamed "1.1") are not rewritten: every row written here has a new key.
  IF TG_TABLE_NAME = 'goals' THEN
    UPDATE indicators i SET sort_key = nysana_status_sort_key(p.code, p.id, d.position, d.code, g.position, g.code, i.code)
    FROM goals g JOIN directions d ON d.id = g.direction_id JOIN plans p ON p.id = d.plan_id
    WHERE g.id = i.goal_id AND g.id = NEW.id AND i.sort_key <> nysana_status_sort_key(p.code, p.id, d.position, d.code, g.position, g.code, i.code);
  ELSIF TG_TABLE_NAME = 'directions' THEN
    UPDATE indicators i SET sort_key = nysana_status_sort_key(p.code, p.id, d.position, d.code, g.position, g.code, i.code)
    FROM goals g JOIN directions d ON d.id = g.direction_id JOIN plans p ON p.id = d.plan_id
    WHERE g.id = i.goal_id AND d.id = NEW.id AND i.sort_key <> nysana_status_sort_key(p.code, p.id, d.position, d.code, g.position, g.code, i.code);
  ELSE
    UPDATE indicators i SET sort_key = nysana_status_sort_key(p.code, p.id, d.position, d.code, g.position, g.code, i.code)
    FROM goals g JOIN directions d ON d.id = g.direction_id JOIN plans p ON p.id = d.plan_id
    WHERE g.id = i.goal_id AND p.id = NEW.id AND i.sort_key <> nysana_status_sort_key(p.code, p.id, d.position, d.code, g.position, g.code, i.code);
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER indicators_sort_key_goals AFTER UPDATE OF code, position, direction_id ON goals
  FOR EACH ROW WHEN (OLD.code IS DISTINCT FROM NEW.code OR OLD.position IS DISTINCT FROM NEW.position OR OLD.direction_id IS DISTINCT FROM NEW.direction_id)
  EXECUTE FUNCTION nysana_indicator_sort_key_refresh();
--> statement-breakpoint
CREATE TRIGGER indicators_sort_key_directions AFTER UPDATE OF code, position, plan_id ON directions
  FOR EACH ROW WHEN (OLD.code IS DISTINCT FROM NEW.code OR OLD.position IS DISTINCT FROM NEW.position OR OLD.plan_id IS DISTINCT FROM NEW.plan_id)
  EXECUTE FUNCTION nysana_indicator_sort_key_refresh();
--> statement-breakpoint
CREATE TRIGGER indicators_sort_key_plans AFTER UPDATE OF code ON plans
  FOR EACH ROW WHEN (OLD.code IS DISTINCT FROM NEW.code)
  EXECUTE FUNCTION nysana_indicator_sort_key_refresh();
--> statement-breakpoint
DROP TRIGGER "indicator_order_insert" ON "indicators";
--> statement-breakpoint
DROP TRIGGER "indicator_order_indicators" ON "indicators";
--> statement-breakpoint
DROP TRIGGER "indicator_order_goals" ON "goals";
--> statement-breakpoint
DROP TRIGGER "indicator_order_directions" ON "directions";
--> statement-breakpoint
DROP TRIGGER "indicator_order_plans" ON "plans";
--> statement-breakpoint
DROP FUNCTION nysana_indicator_order_insert();
--> statement-breakpoint
DROP FUNCTION nysana_indicator_order_refresh();
--> statement-breakpoint
DROP TABLE "indicator_order";
--> statement-breakpoint
CREATE INDEX "indicators_sort_idx" ON "indicators" USING btree ("sort_key", "id");
