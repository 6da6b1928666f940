-- Status cache invalidation (issue 21, src/status-cache/): every transaction that changes what a
-- status answer is computed from sends NOTIFY nysana_status, one notification per affected plan id.
-- pg_notify inside the trigger is transactional: a rollback sends nothing, a commit delivers after
-- the commit, and PostgreSQL folds identical (channel, payload) pairs of one transaction into one,
-- so a transaction that changes a plan many times notifies that plan once.
--
-- Statement-level triggers with transition tables: one set-based lookup per statement, so a bulk
-- write (an import, 50,000 measurements in one INSERT) costs one query, not one per row. PostgreSQL
-- allows transition tables only on single-event triggers, hence three triggers per table.
--
-- The plans that rows lead to, by what their column references. Deleted ancestors find nothing here,
-- which is fine: the ancestor whose statement deleted them notifies itself (its statement trigger
-- fires after the RI cascades, while its own parent still exists).
CREATE FUNCTION nysana_status_plans(kind text, refs uuid[]) RETURNS SETOF uuid LANGUAGE sql STABLE AS $$
  SELECT r FROM unnest(refs) AS r WHERE kind = 'plan'
  UNION
  SELECT d.plan_id FROM directions d WHERE kind = 'direction' AND d.id = ANY (refs)
  UNION
  SELECT d.plan_id FROM goals g JOIN directions d ON d.id = g.direction_id WHERE kind = 'goal' AND g.id = ANY (refs)
  UNION
  SELECT d.plan_id FROM indicators i JOIN goals g ON g.id = i.goal_id JOIN directions d ON d.id = g.direction_id
  WHERE kind = 'indicator' AND i.id = ANY (refs)
  UNION
  SELECT p.id FROM plans p WHERE kind = 'organization' AND p.organization_id = ANY (refs)
$$;
--> statement-breakpoint
-- Reusable by any table a status depends on: TG_ARGV[0] is the rows' column leading to the plans,
-- TG_ARGV[1] what it references ('plan', 'direction', 'goal', 'indicator' or 'organization'); the
-- triggers name the transition tables old_rows / new_rows. A table added later (per-plan evaluation
-- methods) needs only its three triggers, as below:
--   CREATE TRIGGER x_status_notify_update AFTER UPDATE ON x REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
--     FOR EACH STATEMENT EXECUTE FUNCTION nysana_status_notify('plan_id', 'plan');
-- An update notifies the old and the new parent, so a row moved between plans evicts both; a
-- statement that changed no row notifies nothing.
CREATE FUNCTION nysana_status_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  source text := '';
  refs uuid[];
  affected uuid;
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    source := format('SELECT %I AS ref FROM old_rows', TG_ARGV[0]);
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    source := source || CASE WHEN source = '' THEN '' ELSE ' UNION ALL ' END || format('SELECT %I AS ref FROM new_rows', TG_ARGV[0]);
  END IF;
  EXECUTE format('SELECT array_agg(DISTINCT ref) FROM (%s) AS changed WHERE ref IS NOT NULL', source) INTO refs;
  IF refs IS NULL THEN
    RETURN NULL;
  END IF;
  FOR affected IN SELECT p FROM nysana_status_plans(TG_ARGV[1], refs) AS p LOOP
    PERFORM pg_notify('nysana_status', affected::text);
  END LOOP;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER measurements_status_notify_insert AFTER INSERT ON measurements REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION nysana_status_notify('indicator_id', 'indicator');
--> statement-breakpoint
CREATE TRIGGER measurements_status_notify_update AFTER UPDATE ON measurements REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION nysana_status_notify('indicator_id', 'indicator');
--> statement-breakpoint
CREATE TRIGGER measurements_status_notify_delete AFTER DELETE ON measurements REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION nysana_status_notify('indicator_id', 'indicator');
--> statement-breakpoint
CREATE TRIGGER indicators_status_notify_insert AFTER INSERT ON indicators REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION nysana_status_notify('goal_id', 'goal');
--> statement-breakpoint
CREATE TRIGGER indicators_status_notify_update AFTER UPDATE ON indicators REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION nysana_status_notify('goal_id', 'goal');
--> statement-breakpoint
CREATE TRIGGER indicators_status_notify_delete AFTER DELETE ON indicators REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION nysana_status_notify('goal_id', 'goal');
--> statement-breakpoint
CREATE TRIGGER goals_status_notify_insert AFTER INSERT ON goals REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION nysana_status_notify('direction_id', 'direction');
--> statement-breakpoint
CREATE TRIGGER goals_status_notify_update AFTER UPDATE ON goals REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION nysana_status_notify('direction_id', 'direction');
--> statement-breakpoint
CREATE TRIGGER goals_status_notify_delete AFTER DELETE ON goals REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION nysana_status_notify('direction_id', 'direction');
--> statement-breakpoint
CREATE TRIGGER directions_status_notify_insert AFTER INSERT ON directions REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION nysana_status_notify('plan_id', 'plan');
--> statement-breakpoint
CREATE TRIGGER directions_status_notify_update AFTER UPDATE ON directions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION nysana_status_notify('plan_id', 'plan');
--> statement-breakpoint
CREATE TRIGGER directions_status_notify_delete AFTER DELETE ON directions REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION nysana_status_notify('plan_id', 'plan');
--> statement-breakpoint
CREATE TRIGGER plans_status_notify_insert AFTER INSERT ON plans REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION nysana_status_notify('id', 'plan');
--> statement-breakpoint
CREATE TRIGGER plans_status_notify_update AFTER UPDATE ON plans REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION nysana_status_notify('id', 'plan');
--> statement-breakpoint
CREATE TRIGGER plans_status_notify_delete AFTER DELETE ON plans REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION nysana_status_notify('id', 'plan');
--> statement-breakpoint
CREATE TRIGGER year_approvals_status_notify_insert AFTER INSERT ON year_approvals REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION nysana_status_notify('plan_id', 'plan');
--> statement-breakpoint
CREATE TRIGGER year_approvals_status_notify_update AFTER UPDATE ON year_approvals REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION nysana_status_notify('plan_id', 'plan');
--> statement-breakpoint
CREATE TRIGGER year_approvals_status_notify_delete AFTER DELETE ON year_approvals REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION nysana_status_notify('plan_id', 'plan');
--> statement-breakpoint
-- Organizations: a status answer carries only the organization's id today, but its name and code
-- are what readers show beside it (issue 21 lists them), so an update notifies every plan of it;
-- inserting one changes no plan, and deleting one deletes its plans (whose own triggers notify).
CREATE TRIGGER organizations_status_notify_update AFTER UPDATE ON organizations REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION nysana_status_notify('id', 'organization');
