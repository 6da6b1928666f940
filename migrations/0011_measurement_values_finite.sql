-- Measurements hold numbers only. PostgreSQL `numeric` can also store NaN and, since 14, +-Infinity;
-- the achievement rules in TypeScript read those as missing, the rule's SQL form (used to filter by
-- status) compared them as numbers, so the two disagreed. The API never stores them (JSON has no
-- NaN), so they are forbidden outright (src/achievement/status-sql.ts). Any stored by hand become
-- NULL first, which is what every answer already showed for them; the CHECKs then cannot fail.
UPDATE "measurements" SET
  "plan" = CASE WHEN "plan" IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE "plan" END,
  "fact" = CASE WHEN "fact" IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE "fact" END,
  "score" = CASE WHEN "score" IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE "score" END
WHERE "plan" IN ('NaN', 'Infinity', '-Infinity') OR "fact" IN ('NaN', 'Infinity', '-Infinity') OR "score" IN ('NaN', 'Infinity', '-Infinity');--> statement-breakpoint
ALTER TABLE "measurements" ADD CONSTRAINT "measurements_plan_finite_check" CHECK ("measurements"."plan" NOT IN ('NaN', 'Infinity', '-Infinity'));--> statement-breakpoint
ALTER TABLE "measurements" ADD CONSTRAINT "measurements_fact_finite_check" CHECK ("measurements"."fact" NOT IN ('NaN', 'Infinity', '-Infinity'));--> statement-breakpoint
ALTER TABLE "measurements" ADD CONSTRAINT "measurements_score_finite_check" CHECK ("measurements"."score" NOT IN ('NaN', 'Infinity', '-Infinity'));
