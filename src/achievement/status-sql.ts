/**
 * The status rule of compute.ts (statusOf / deriveStatus) in SQL, for when the database must
 * filter or order by status (GET /status?status=, later OData $filter/$orderby). Written beside
 * the TypeScript rule so the two change together; tests/api/achievement-sql.test.ts runs this
 * form on PostgreSQL and PGlite against deriveStatus() on arbitrary values and holds them equal.
 *
 * NaN and ±Infinity, which a PostgreSQL `numeric` could hold, cannot be stored (CHECK constraints,
 * migrations/0011_measurement_values_finite.sql), so the only missing value is NULL in both forms.
 */
import type { SQL } from 'drizzle-orm';
import { sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { AchievementStatus } from './compute.js';

type Operand = SQL | AnyPgColumn;

/** The achievement status of `plan` and `fact` (numeric), judged by `betterWhen` ('higher' | 'lower'). */
export function statusSql(plan: Operand, fact: Operand, betterWhen: Operand): SQL<AchievementStatus> {
  return sql<AchievementStatus>`case
  when ${plan} is null then 'no_target'
  when ${fact} is null then 'pending'
  when (${betterWhen} = 'higher' and ${fact} >= ${plan}) or (${betterWhen} = 'lower' and ${fact} <= ${plan}) then 'achieved'
  else 'not_achieved' end`;
}
