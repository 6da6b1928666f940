/**
 * Status reads: each answer comes from a fixed number of queries whatever the plan's size
 * (one for the tree, one for the plan), never one per indicator.
 */
import type { SQL } from 'drizzle-orm';
import { and, asc, eq, gt, isNotNull, lte, or, gte, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { alias } from 'drizzle-orm/pg-core';
import type { Db } from '../db/client.js';
import { directions, goals, indicators, measurements, plans, yearApprovals } from '../db/schema.js';
import { after } from '../http/pagination.js';
import type { AchievementStatus } from '../achievement/compute.js';
import type { PlanTreeRow } from './plan-read.js';
import { readPlanStatus } from './plan-read.js';

export type { PlanTreeRow } from './plan-read.js';

/** The same indicator's measurement one year earlier (for trend and previous percentile). */
export const previous = alias(measurements, 'previous');

/** The columns one IndicatorStatus is computed from. */
export const indicatorColumns = {
  indicatorId: indicators.id,
  goalId: indicators.goalId,
  code: indicators.code,
  name: indicators.name,
  unit: indicators.unit,
  group: indicators.group,
  valueType: indicators.valueType,
  betterWhen: indicators.betterWhen,
  plan: measurements.plan,
  fact: measurements.fact,
  ratingSize: measurements.ratingSize,
  score: measurements.score,
  note: measurements.note,
  previousFact: previous.fact,
  previousRatingSize: previous.ratingSize,
};

/**
 * The contract's status rule in SQL, used only to filter the feed by status so pages stay full.
 * Must agree with deriveStatus() in achievement/compute.ts; tests/api/status.test.ts checks both
 * against every demo row.
 */
export const statusSql = sql<AchievementStatus>`case
  when ${measurements.plan} is null then 'no_target'
  when ${measurements.fact} is null then 'pending'
  when (${indicators.betterWhen} = 'higher' and ${measurements.fact} >= ${measurements.plan})
    or (${indicators.betterWhen} = 'lower' and ${measurements.fact} <= ${measurements.plan}) then 'achieved'
  else 'not_achieved' end`;

/** The plan row as the status read needs it, by a prepared statement per database handle. */
const preparedByDb = new WeakMap<Db, ReturnType<typeof preparePlanQuery>>();

function preparePlanQuery(db: Db) {
  return db.select().from(plans).where(eq(plans.id, sql.placeholder('planId'))).limit(1).prepare('status_find_plan');
}

export async function findPlan(db: Db, planId: string) {
  let query = preparedByDb.get(db);
  if (!query) preparedByDb.set(db, (query = preparePlanQuery(db)));
  const rows = await query.execute({ planId });
  return rows[0];
}

/** Directions, goals and indicators of a plan with the year's and previous year's values. */
export async function planTree(db: Db, planId: string, year: number): Promise<PlanTreeRow[]> {
  return (await readPlanStatus(db, planId, year))?.rows ?? [];
}

const contextColumns = {
  ...indicatorColumns,
  directionId: goals.directionId,
  planId: directions.planId,
  organizationId: plans.organizationId,
  startYear: plans.startYear,
  endYear: plans.endYear,
};

/** One indicator for one year (`year` given) or for every year it has a measurement. */
export function indicatorYears(db: Db, indicatorId: string, year?: number) {
  const measurementJoin =
    year === undefined
      ? eq(measurements.indicatorId, indicators.id)
      : and(eq(measurements.indicatorId, indicators.id), eq(measurements.year, year));
  return db
    .select({ ...contextColumns, year: measurements.year })
    .from(indicators)
    .innerJoin(goals, eq(goals.id, indicators.goalId))
    .innerJoin(directions, eq(directions.id, goals.directionId))
    .innerJoin(plans, eq(plans.id, directions.planId))
    .leftJoin(measurements, measurementJoin)
    .leftJoin(previous, and(eq(previous.indicatorId, indicators.id), eq(previous.year, sql`${measurements.year} - 1`)))
    .where(eq(indicators.id, indicatorId))
    .orderBy(asc(measurements.year));
}
export type IndicatorYearRow = Awaited<ReturnType<typeof indicatorYears>>[number];

export interface FeedFilters {
  year?: number;
  organizationId?: string;
  planId?: string;
  status?: AchievementStatus;
  valueType?: 'percent' | 'number' | 'rank';
  limit: number;
  /** [year, indicatorId] of the last row of the previous page. */
  cursor?: unknown[];
}

/**
 * The flat feed, ordered by (year, indicatorId) so keyset pages are index range scans.
 * With a year: every indicator of plans running that year, plus any measured that year
 * (history rows before a plan starts); without: every stored measurement.
 */
export function statusFeed(db: Db, f: FeedFilters) {
  const common: (SQL | undefined)[] = [
    f.organizationId ? eq(plans.organizationId, f.organizationId) : undefined,
    f.planId ? eq(plans.id, f.planId) : undefined,
    f.valueType ? eq(indicators.valueType, f.valueType) : undefined,
    f.status ? sql`(${statusSql}) = ${f.status}` : undefined,
  ];
  const base = (yearColumn: SQL | typeof measurements.year) =>
    db
      .select({ ...contextColumns, year: sql<number>`${yearColumn}`.mapWith(Number), approved: sql<boolean>`(${yearApprovals.id} is not null)` })
      .from(indicators)
      .innerJoin(goals, eq(goals.id, indicators.goalId))
      .innerJoin(directions, eq(directions.id, goals.directionId))
      .innerJoin(plans, eq(plans.id, directions.planId));

  if (f.year !== undefined) {
    const year = f.year;
    const afterId = f.cursor ? (f.cursor[0] === year ? f.cursor[1] : undefined) : undefined;
    // The cursor repeated on the measurement joins (redundant: indicator_id = indicators.id): PostgreSQL
    // does not carry it across a left join, and without it a merge join scans the year's index
    // from the first indicator on every page (measured: 680 ms instead of 33 ms per page at 1M rows).
    const fromCursor = (column: AnyPgColumn) => (afterId !== undefined ? gt(column, String(afterId)) : undefined);
    return base(sql`${year}::int`)
      .leftJoin(measurements, and(eq(measurements.indicatorId, indicators.id), eq(measurements.year, year), fromCursor(measurements.indicatorId)))
      .leftJoin(previous, and(eq(previous.indicatorId, indicators.id), eq(previous.year, year - 1), fromCursor(previous.indicatorId)))
      .leftJoin(yearApprovals, and(eq(yearApprovals.planId, plans.id), eq(yearApprovals.year, year)))
      .where(
        and(
          or(and(lte(plans.startYear, year), gte(plans.endYear, year)), isNotNull(measurements.id)),
          afterId !== undefined ? gt(indicators.id, String(afterId)) : undefined,
          ...common,
        ),
      )
      .orderBy(asc(indicators.id))
      .limit(f.limit + 1);
  }
  return base(measurements.year)
    .innerJoin(measurements, eq(measurements.indicatorId, indicators.id))
    .leftJoin(previous, and(eq(previous.indicatorId, indicators.id), eq(previous.year, sql`${measurements.year} - 1`)))
    .leftJoin(yearApprovals, and(eq(yearApprovals.planId, plans.id), eq(yearApprovals.year, measurements.year)))
    .where(and(f.cursor ? after([measurements.year, measurements.indicatorId], f.cursor) : undefined, ...common))
    .orderBy(asc(measurements.year), asc(measurements.indicatorId))
    .limit(f.limit + 1);
}
export type FeedRow = Awaited<ReturnType<typeof statusFeed>>[number];
