-- The status cache (migration 0015) learns of evaluation-method changes: editing a method changes the
-- answers of every plan that names it (years approved earlier keep their recorded version, but the
-- open years follow the method). Inserting a method changes no plan, and a method in use cannot be
-- deleted (409), so an update trigger is enough. A plan switching methods updates the plan row,
-- which notifies through the plans trigger.
CREATE OR REPLACE FUNCTION nysana_status_plans(kind text, refs uuid[]) RETURNS SETOF uuid LANGUAGE sql STABLE AS $$
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
  UNION
  SELECT p.id FROM plans p WHERE kind = 'evaluation_method' AND p.evaluation_method_id = ANY (refs)
$$;
--> statement-breakpoint
CREATE TRIGGER evaluation_methods_status_notify_update AFTER UPDATE ON evaluation_methods REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION nysana_status_notify('id', 'evaluation_method');
