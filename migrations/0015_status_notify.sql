-- Status cache invalidation (issue 21, src/status-cache/): every transaction that changes what a
-- status answer is computed from sends NOTIFY nysana_status, one notification per affected plan id.
-- pg_notify inside the trigger is transactional: a rollback sends nothing, a commit delivers after
-- the commit, and PostgreSQL folds identical (channel, payload) pairs of one transaction into one,
-- so a bulk import of 20,000 measurements of one plan notifies that plan once.
--
-- The plans a row leads to, by what its column references. Deleted ancestors find nothing here,
-- which is fine: the ancestor whose statement deleted them notifies itself (RI cascade triggers
-- sort before ours, so the topmost deleted row still finds its own parent).
CREATE FUNCTION nysana_status_plans(kind text, ref uuid) RETURNS SETOF uuid LANGUAGE sql STABLE AS $$
  SELECT ref WHERE kind = 'plan' AND ref IS NOT NULL
  UNION ALL
  SELECT d.plan_id FROM directions d WHERE kind = 'direction' AND d.id = ref
  UNION ALL
  SELECT d.plan_id FROM goals g JOIN directions d ON d.id = g.direction_id WHERE kind = 'goal' AND g.id = ref
  UNION ALL
  SELECT d.plan_id FROM indicators i JOIN goals g ON g.id = i.goal_id JOIN directions d ON d.id = g.direction_id
  WHERE kind = 'indicator' AND i.id = ref
  UNION ALL
  SELECT p.id FROM plans p WHERE kind = 'organization' AND p.organization_id = ref
$$;
--> statement-breakpoint
-- Reusable by any table a status depends on: TG_ARGV[0] is the row's column leading to the plans,
-- TG_ARGV[1] what it references ('plan', 'direction', 'goal', 'indicator' or 'organization').
-- A table added later (per-plan evaluation methods) needs only:
--   CREATE TRIGGER x_status_notify AFTER INSERT OR UPDATE OR DELETE ON x
--     FOR EACH ROW EXECUTE FUNCTION nysana_status_notify('plan_id', 'plan');
-- An update notifies the old and the new parent, so a row moved between plans evicts both.
CREATE FUNCTION nysana_status_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  refs uuid[] := '{}';
  affected uuid;
BEGIN
  IF TG_OP <> 'INSERT' THEN refs := refs || (to_jsonb(OLD) ->> TG_ARGV[0])::uuid; END IF;
  IF TG_OP <> 'DELETE' THEN refs := refs || (to_jsonb(NEW) ->> TG_ARGV[0])::uuid; END IF;
  FOR affected IN SELECT DISTINCT p FROM unnest(refs) AS r, nysana_status_plans(TG_ARGV[1], r) AS p LOOP
    PERFORM pg_notify('nysana_status', affected::text);
  END LOOP;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER measurements_status_notify AFTER INSERT OR UPDATE OR DELETE ON measurements
  FOR EACH ROW EXECUTE FUNCTION nysana_status_notify('indicator_id', 'indicator');
--> statement-breakpoint
CREATE TRIGGER indicators_status_notify AFTER INSERT OR UPDATE OR DELETE ON indicators
  FOR EACH ROW EXECUTE FUNCTION nysana_status_notify('goal_id', 'goal');
--> statement-breakpoint
CREATE TRIGGER goals_status_notify AFTER INSERT OR UPDATE OR DELETE ON goals
  FOR EACH ROW EXECUTE FUNCTION nysana_status_notify('direction_id', 'direction');
--> statement-breakpoint
CREATE TRIGGER directions_status_notify AFTER INSERT OR UPDATE OR DELETE ON directions
  FOR EACH ROW EXECUTE FUNCTION nysana_status_notify('plan_id', 'plan');
--> statement-breakpoint
CREATE TRIGGER plans_status_notify AFTER INSERT OR UPDATE OR DELETE ON plans
  FOR EACH ROW EXECUTE FUNCTION nysana_status_notify('id', 'plan');
--> statement-breakpoint
CREATE TRIGGER year_approvals_status_notify AFTER INSERT OR UPDATE OR DELETE ON year_approvals
  FOR EACH ROW EXECUTE FUNCTION nysana_status_notify('plan_id', 'plan');
--> statement-breakpoint
-- Organizations: a status answer carries only the organization's id today, but its name and code
-- are what readers show beside it (issue 21 lists them), so an update notifies every plan of it;
-- inserting one changes no plan, and deleting one deletes its plans (whose own trigger notifies).
CREATE TRIGGER organizations_status_notify AFTER UPDATE ON organizations
  FOR EACH ROW EXECUTE FUNCTION nysana_status_notify('id', 'organization');
