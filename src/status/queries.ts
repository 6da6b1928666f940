/**
 * Status reads: each answer comes from a fixed number of queries whatever the plan's size, never
 * one per indicator (the plan status from one statement: plan-read.ts).
 */
import type { SQL } from 'drizzle-orm';
import { and, asc, eq, fillPlaceholders, gt, isNotNull, lte, or, gte, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { alias } from 'drizzle-orm/pg-core';
import type { Db } from '../db/client.js';
import { directions, goals, indicators, measurements, plans, yearApprovals } from '../db/schema.js';
import { after } from '../http/pagination.js';
import type { AchievementStatus } from '../achievement/compute.js';
import type { PlanTreeRow } from './plan-read.js';
import { readPlanStatus } from './plan-read.js';
import { queryArrays } from '../db/raw.js';
import { createHash } from 'node:crypto';

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

/** Which parts a feed statement has; the values go in as parameters (feedValues). */
interface FeedShape {
  year: boolean;
  cursor: boolean;
  organizationId: boolean;
  planId: boolean;
  valueType: boolean;
  status: boolean;
}

const p = (name: string) => sql.placeholder(name);

function feedShape(f: Omit<FeedFilters, 'limit'>): FeedShape {
  const afterId = f.year !== undefined && f.cursor && f.cursor[0] === f.year ? f.cursor[1] : undefined;
  return {
    year: f.year !== undefined,
    cursor: f.year !== undefined ? afterId !== undefined : f.cursor !== undefined,
    organizationId: f.organizationId !== undefined,
    planId: f.planId !== undefined,
    valueType: f.valueType !== undefined,
    status: f.status !== undefined,
  };
}

function feedValues(f: Omit<FeedFilters, 'limit'>): Record<string, unknown> {
  return {
    year: f.year,
    previousYear: f.year === undefined ? undefined : f.year - 1,
    afterId: f.cursor?.[1] === undefined ? undefined : String(f.cursor[1]),
    cursorYear: f.cursor?.[0],
    cursorId: f.cursor?.[1],
    organizationId: f.organizationId,
    planId: f.planId,
    valueType: f.valueType,
    status: f.status,
  };
}

/**
 * The flat feed, ordered by (year, indicatorId) so keyset pages are index range scans.
 * With a year: every indicator of plans running that year, plus any measured that year
 * (history rows before a plan starts); without: every stored measurement.
 * Built with placeholders for a shape, so its SQL text is built once per shape (statusFeed).
 */
function feedQuery(db: Db, shape: FeedShape) {
  const common: (SQL | undefined)[] = [
    shape.organizationId ? eq(plans.organizationId, p('organizationId')) : undefined,
    shape.planId ? eq(plans.id, p('planId')) : undefined,
    shape.valueType ? eq(indicators.valueType, p('valueType')) : undefined,
    shape.status ? sql`(${statusSql}) = ${p('status')}` : undefined,
  ];
  const base = (yearColumn: SQL | typeof measurements.year) =>
    db
      .select(feedSelection(yearColumn))
      .from(indicators)
      .innerJoin(goals, eq(goals.id, indicators.goalId))
      .innerJoin(directions, eq(directions.id, goals.directionId))
      .innerJoin(plans, eq(plans.id, directions.planId));

  if (shape.year) {
    const year = sql`${p('year')}::int`;
    // The cursor repeated on the measurement joins (redundant: indicator_id = indicators.id): PostgreSQL
    // does not carry it across a left join, and without it a merge join scans the year's index
    // from the first indicator on every page (measured: 680 ms instead of 33 ms per page at 1M rows).
    const fromCursor = (column: AnyPgColumn) => (shape.cursor ? gt(column, sql`${p('afterId')}::uuid`) : undefined);
    return base(year)
      .leftJoin(measurements, and(eq(measurements.indicatorId, indicators.id), eq(measurements.year, year), fromCursor(measurements.indicatorId)))
      .leftJoin(previous, and(eq(previous.indicatorId, indicators.id), eq(previous.year, sql`${p('previousYear')}::int`), fromCursor(previous.indicatorId)))
      .leftJoin(yearApprovals, and(eq(yearApprovals.planId, plans.id), eq(yearApprovals.year, year)))
      .where(and(or(and(lte(plans.startYear, year), gte(plans.endYear, year)), isNotNull(measurements.id)), fromCursor(indicators.id), ...common))
      .orderBy(asc(indicators.id));
  }
  return base(measurements.year)
    .innerJoin(measurements, eq(measurements.indicatorId, indicators.id))
    .leftJoin(previous, and(eq(previous.indicatorId, indicators.id), eq(previous.year, sql`${measurements.year} - 1`)))
    .leftJoin(yearApprovals, and(eq(yearApprovals.planId, plans.id), eq(yearApprovals.year, measurements.year)))
    .where(and(shape.cursor ? after([measurements.year, measurements.indicatorId], [p('cursorYear'), p('cursorId')]) : undefined, ...common))
    .orderBy(asc(measurements.year), asc(measurements.indicatorId));
}
export type FeedRow = Awaited<ReturnType<typeof feedQuery>>[number];

const feedSelection = (yearColumn: SQL | typeof measurements.year) => ({
  ...contextColumns,
  year: sql<number>`${yearColumn}`.mapWith(Number),
  approved: sql<boolean>`(${yearApprovals.id} is not null)`,
});
/** Column order of a feed row: drizzle selects the fields in the selection's key order. */
const FEED_KEYS = Object.keys(feedSelection(measurements.year)) as (keyof FeedRow)[];

// Rows fetched per statement: the page size plus one, rounded up to one of these, so a handful of
// statement texts serve every page size (each is prepared once per connection).
const FETCH_SIZES = [11, 51, 101, 201, 501, 1001, 5001];
/** Per shape and fetch size: the statement's name, text and parameter placeholders. */
const feedStatements = new Map<string, { name: string; text: string; params: unknown[] }>();

/**
 * The flat feed page: up to `limit + 1` rows after the cursor (the extra row tells whether more
 * follow). Run as a named statement with the row count written into its text: PostgreSQL then
 * switches to a cached generic plan after five executions, where a `limit $n` parameter made it
 * plan every call anew (measured at 1M rows: 5 ms of planning for 0.7 ms of execution). Rows are
 * decoded from arrays (src/db/raw.ts) instead of by drizzle's per-column mapping.
 */
export async function statusFeed(db: Db, f: FeedFilters): Promise<FeedRow[]> {
  const wanted = f.limit + 1;
  const fetch = FETCH_SIZES.find((n) => n >= wanted) ?? wanted;
  const shape = feedShape(f);
  const key = `${Object.values(shape).map(Number).join('')}:${fetch}`;
  let statement = feedStatements.get(key);
  if (!statement) {
    const { sql: text, params } = feedQuery(db, shape).toSQL();
    const full = `${text} limit ${fetch}`;
    const name = `status_feed_${createHash('sha256').update(full).digest('hex').slice(0, 24)}`;
    statement = { name, text: full, params };
    feedStatements.set(key, statement);
  }
  const params = fillPlaceholders(statement.params, feedValues(f));
  const rows = await queryArrays(db, statement, params);
  const out: FeedRow[] = [];
  for (let r = 0; r < rows.length && r < wanted; r++) {
    const row = rows[r]!;
    const item = {} as Record<string, unknown>;
    for (let k = 0; k < FEED_KEYS.length; k++) item[FEED_KEYS[k]!] = row[k];
    out.push(item as FeedRow);
  }
  return out;
}
