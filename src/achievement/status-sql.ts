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

/**
 * achievementPercent (compute.ts) in SQL, for OData $filter/$orderby on it: fact/plan x 100 when
 * higher is better, plan/fact x 100 when lower is better, truncated to thousandths and rounded half
 * away from zero to 2 decimals (PostgreSQL's round(numeric) rounds half away from zero, as
 * percentOf() does). Null where the TypeScript rule says null: a value missing, either negative, a
 * zero divisor, or a result beyond the largest double (JSON cannot carry it). Held equal to the
 * TypeScript rule by tests/api/achievement-percent-sql.test.ts.
 */
export function achievementPercentSql(plan: Operand, fact: Operand, betterWhen: Operand): SQL<number | null> {
  const percent = (numerator: Operand, denominator: Operand) =>
    sql`case when ${denominator} = 0 then null else round(div(${numerator} * 100000, ${denominator}) * 0.001, 2) end`;
  const value = sql`case
  when ${plan} is null or ${fact} is null or ${plan} < 0 or ${fact} < 0 then null
  when ${betterWhen} = 'higher' then ${percent(fact, plan)}
  else ${percent(plan, fact)} end`;
  // Number() of anything from this bound up is Infinity, which toNumber() turns into null.
  return sql<
    number | null
  >`(select case when v.p >= 1.7976931348623158e308 then null else v.p end from (select ${value} as p) v)`;
}

/** deviation (compute.ts) in SQL: fact - plan rounded half away from zero to 2 decimals; null without both. */
export function deviationSql(plan: Operand, fact: Operand): SQL<number | null> {
  return sql<number | null>`round(${fact} - ${plan}, 2)`;
}

/** trend (compute.ts) in SQL: this year's fact against the previous year's, judged by betterWhen; null without both. */
export function trendSql(
  previousFact: Operand,
  fact: Operand,
  betterWhen: Operand,
): SQL<'improved' | 'worsened' | 'unchanged' | null> {
  return sql`case
  when ${previousFact} is null or ${fact} is null then null
  when ${fact} = ${previousFact} then 'unchanged'
  when (${betterWhen} = 'higher') = (${fact} > ${previousFact}) then 'improved'
  else 'worsened' end`;
}
