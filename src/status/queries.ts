/**
 * The status reads, each a spec of the read model (read-model.ts) plus what its delivery mode
 * adds: the plan status its tree shape and the approval, the indicator status its plan years,
 * the feed page its fetch sizes, the export its columns (text resolved to the language in SQL,
 * the CSV's ids joined). Each answer comes from a fixed number of statements whatever the
 * plan's size, never one per indicator.
 */
import { and, eq, lte, or, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { QueryBuilder } from 'drizzle-orm/pg-core';
import { joinUp } from '../db/plan-tree.js';
import type { YearApproval } from '../approvals/schemas.js';
import type { Db } from '../db/client.js';
import { queryArrays } from '../db/raw.js';
import { invalid } from '../shared/errors.js';
import type { KeysetList } from '../lists/keyset.js';
import type { LocalizedTextColumn } from '../db/schema.js';
import { directions, goals, indicators, measurements, organizations, plans, yearApprovals } from '../db/schema.js';
import type { Lang } from '../shared/lang.js';
import type { StatusRow } from './assemble.js';
import type { Scoring } from './assemble.js';
import { rowScorer } from './scoring.js';
import type { StatusFilter, StatusFrame, StatusQuery, StatusRowOf } from './read-model.js';
import {
  bindValues,
  decodeRows,
  filterConditions,
  isNaturalPosition,
  naturalPosition,
  readStatus,
  rowDecoder,
  statusContextColumns,
  statusViewColumns,
  statusQuery,
  statusRowColumns,
} from './read-model.js';

/** The plan row as the status read needs it, by a prepared statement per database handle. */
const preparedByDb = new WeakMap<Db, ReturnType<typeof preparePlanQuery>>();

function preparePlanQuery(db: Db) {
  return db
    .select()
    .from(plans)
    .where(eq(plans.id, sql.placeholder('planId')))
    .limit(1)
    .prepare('status_find_plan');
}

export async function findPlan(db: Db, planId: string) {
  let query = preparedByDb.get(db);
  if (!query) preparedByDb.set(db, (query = preparePlanQuery(db)));
  const rows = await query.execute({ planId });
  return rows[0];
}

// ---------------------------------------------------------------------------------------------
// Plan status (GET /plans/{id}/status, the report): the tree shape, with the plan and the approval.

const epochMs = (column: AnyPgColumn) => sql<number>`round(extract(epoch from ${column}) * 1000)::float8`;

/**
 * The plan and its year's approval (the same on every row), then the tree: direction, goal and
 * the status row. Timestamps as epoch milliseconds: the two drivers decode timestamps differently.
 */
const planStatusColumns = () => ({
  organizationId: plans.organizationId,
  startYear: plans.startYear,
  endYear: plans.endYear,
  approvalId: yearApprovals.id,
  approvalDocument: yearApprovals.document,
  approvalDate: yearApprovals.date,
  approvedBy: yearApprovals.approvedBy,
  approvalVersion: yearApprovals.version,
  approvalCreatedAt: epochMs(yearApprovals.createdAt),
  approvalUpdatedAt: epochMs(yearApprovals.updatedAt),
  approvalMethodVersionId: yearApprovals.evaluationMethodVersionId,
  planMethodId: plans.evaluationMethodId,
  // From here on: PlanTreeRow.
  directionId: directions.id,
  directionCode: directions.code,
  directionTitle: directions.title,
  directionPosition: directions.position,
  goalRowId: goals.id,
  goalCode: goals.code,
  goalTitle: goals.title,
  goalPosition: goals.position,
  ...statusRowColumns,
});
const TREE_FROM = Object.keys(planStatusColumns()).indexOf('directionId');

/** One row of the tree: a direction, maybe a goal, maybe an indicator with its values. */
export type PlanTreeRow = {
  directionId: string;
  directionCode: string;
  directionTitle: LocalizedTextColumn;
  directionPosition: number;
  goalRowId: string | null;
  goalCode: string | null;
  goalTitle: LocalizedTextColumn | null;
  goalPosition: number | null;
} & (StatusRow | { [K in keyof StatusRow]: null });

export interface PlanStatusData {
  plan: { id: string; organizationId: string; startYear: number; endYear: number; evaluationMethodId: string | null };
  approval: YearApproval | null;
  rows: PlanTreeRow[];
}

/**
 * Everything GET /plans/{id}/status needs in one statement (the plan, the year's approval, the
 * tree with the year's and previous year's values), decoded by position: the endpoint other
 * systems poll, and bench/limit-server.ts runs the very same statement.
 */
export const planStatusQuery = (planId: string, year: number): StatusQuery =>
  statusQuery({ columns: planStatusColumns, filter: { planId, year }, shape: 'tree', order: { by: 'tree' } });

const iso = (epochMs: number) => new Date(epochMs).toISOString();

/** Decodes the statement's rows; undefined when the plan does not exist. */
export function decodePlanStatus(
  planId: string,
  year: number,
  keys: string[],
  rows: unknown[][],
): PlanStatusData | undefined {
  const first = rows[0];
  if (!first) return undefined;
  const approval: YearApproval | null =
    first[3] === null
      ? null
      : {
          id: first[3] as string,
          planId,
          year,
          document: first[4] as YearApproval['document'],
          date: first[5] as string,
          approvedBy: first[6] as string | null,
          evaluationMethodVersionId: first[10] as string | null,
          version: first[7] as number,
          createdAt: iso(first[8] as number),
          updatedAt: iso(first[9] as number),
        };
  const decode = rowDecoder<PlanTreeRow>(keys.slice(TREE_FROM), TREE_FROM);
  const tree: PlanTreeRow[] = [];
  for (const r of rows) {
    if (r[TREE_FROM] === null) continue; // a plan without directions
    tree.push(decode(r));
  }
  return {
    plan: {
      id: planId,
      organizationId: first[0] as string,
      startYear: first[1] as number,
      endYear: first[2] as number,
      evaluationMethodId: first[11] as string | null,
    },
    approval,
    rows: tree,
  };
}

export async function readPlanStatus(db: Db, planId: string, year: number): Promise<PlanStatusData | undefined> {
  const q = planStatusQuery(planId, year);
  return decodePlanStatus(planId, year, q.keys, await queryArrays(db, { name: q.name!, text: q.text }, q.values));
}

// ---------------------------------------------------------------------------------------------
// Indicator status: every indicator row even unmeasured, with its plan's years.

const indicatorYearColumns = (frame: StatusFrame) => ({
  ...statusRowColumns,
  ...statusContextColumns(frame),
  startYear: plans.startYear,
  endYear: plans.endYear,
});

/** One indicator for one year (`year` given) or for every year it has a measurement (or one row without). */
export function indicatorYears(db: Db, indicatorId: string, year?: number) {
  return readStatus(db, {
    columns: indicatorYearColumns,
    filter: { indicatorId, year },
    rows: 'every',
    order: { by: 'year' },
  });
}

// ---------------------------------------------------------------------------------------------
// The flat feed page (GET /status).

export interface FeedPage {
  filter: StatusFilter;
  limit: number;
  /** The naturalPosition of the last row of the previous page. */
  cursor?: readonly unknown[];
}

/** A feed row, and its place in the natural order (the next page's cursor when it is a page's last). */
const feedColumns = (frame: StatusFrame) => ({ ...statusViewColumns(frame), naturalPosition: naturalPosition(frame) });
export type FeedRow = StatusRowOf<ReturnType<typeof feedColumns>>;

// Rows fetched per statement: the page size plus one, rounded up to one of these, so a handful of
// statement texts serve every page size (each is prepared once per connection).
const FETCH_SIZES = [11, 51, 101, 201, 501, 1001, 5001];

/** The feed page's query: up to `limit + 1` rows after the cursor (the extra row tells whether more follow). */
export function statusFeedQuery(page: FeedPage): StatusQuery {
  const wanted = page.limit + 1;
  const fetch = FETCH_SIZES.find((n) => n >= wanted) ?? wanted;
  return statusQuery({
    columns: feedColumns,
    filter: page.filter,
    order: { by: 'natural', after: page.cursor },
    limit: fetch,
  });
}

/** The flat feed page, in the natural order: up to `limit + 1` rows after the cursor. */
export async function statusFeed(db: Db, page: FeedPage) {
  const q = statusFeedQuery(page);
  const rows = await queryArrays(db, { name: q.name!, text: q.text }, q.values);
  return decodeRows<FeedRow>(q.keys, rows.length > page.limit + 1 ? rows.slice(0, page.limit + 1) : rows);
}

// One column is enough to count rows; module-level, so the read model builds its statement once per shape.
const countColumns = () => ({ one: sql<number>`1` });

/**
 * How many feed rows match the filter: the feed's own statement (the read model's rows, editor
 * scoping and ?status= included), counted by PostgreSQL in one statement.
 */
export async function statusCount(db: Db, filter: StatusFilter): Promise<number> {
  const q = statusQuery({ columns: countColumns, filter });
  const text = `select count(*)::int from (${q.text}) as feed`;
  const rows = await queryArrays(db, q.name ? { name: `${q.name}_n`, text } : { text }, q.values);
  return Number(rows[0]?.[0] ?? 0);
}

/** The feed's [year, indicatorId] cursor; values that would not cast in SQL are the invalid cursor's 400. */
/** A feed cursor: the natural position of the previous page's last row (read-model.ts). */
function decodeFeedCursor(cursor: string): unknown[] {
  // Nine values (lists/cursor.ts's decodeCursor takes at most four), checked one by one: a cursor is client input.
  let position: unknown;
  try {
    position = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    position = undefined;
  }
  if (Array.isArray(position) && isNaturalPosition(position)) return position;
  throw invalid('The cursor is not valid for this list; start again without it.', [
    { path: 'query.cursor', message: 'invalid cursor' },
  ]);
}

/** A feed row with the rules it is scored by (its plan's evaluation method, or its approved year's). */
interface ScoredFeedRow {
  row: FeedRow;
  scoring: Scoring;
}

/** The flat feed as a keyset list (src/lists/keyset.ts): pages, paged exports and the total. */
export function statusFeedList<Dto>(
  filter: StatusFilter,
  now: Date,
  toDto: (row: FeedRow, scoring: Scoring) => Dto,
): KeysetList<ScoredFeedRow, Dto> {
  return {
    decodeCursor: decodeFeedCursor,
    // statusFeed reads up to limit + 1 rows: ask for size - 1 to get size. The page's rule book is
    // read once per page, and not at all when no row's plan has a method (status/scoring.ts).
    fetch: async (db, cursor, size) => {
      const rows = await statusFeed(db, { filter, limit: size - 1, cursor });
      const scorer = await rowScorer(db, rows, now);
      return rows.map((row) => ({ row, scoring: scorer(row) }));
    },
    keyOf: ({ row }) => row.naturalPosition,
    toDto: ({ row, scoring }) => toDto(row, scoring),
    count: (db) => statusCount(db, filter),
  };
}

// ---------------------------------------------------------------------------------------------
// Streamed exports (src/exports/status.ts): feed rows and order, no limit, only what a file shows.

/** Localized text resolved to `lang` with resolveText's fallback (kk, ru, en), in SQL. */
const resolved = (column: AnyPgColumn, lang: Lang) =>
  sql<
    string | null
  >`coalesce(nullif(${column}->>${lang}::text, ''), nullif(${column}->>'kk', ''), nullif(${column}->>'ru', ''), nullif(${column}->>'en', ''))`;

/**
 * Feed rows for an export: name, unit and the tree's names as the text resolved to the export's language, group and
 * note not at all (decoding four jsonb values per row was about a third of the driver's CPU time).
 */
export function statusExportQuery(filter: StatusFilter, lang: Lang): StatusQuery {
  const columns = (frame: StatusFrame) => ({
    ...statusViewColumns(frame),
    name: resolved(indicators.name, lang),
    unit: resolved(indicators.unit, lang),
    group: sql<null>`null`,
    note: sql<null>`null`,
    organizationName: resolved(organizations.name, lang),
    planTitle: resolved(plans.title, lang),
    directionTitle: resolved(directions.title, lang),
    goalTitle: resolved(goals.title, lang),
  });
  return statusQuery({ columns, filter, order: { by: 'natural' } });
}

/** Which value of a CSV export row (statusCsvQuery) sits where. */
export const CSV_ROW = {
  // The row's goal: its placement cells (organization down to goal) come from csvPlacementQuery.
  goalId: 0,
  // issue 15: the indicator's id with its code ("id<sep>code"), then its name
  indicator: 1,
  name: 2,
  unit: 3,
  valueType: 4,
  betterWhen: 5,
  year: 6,
  planValue: 7,
  fact: 8,
  ratingSize: 9,
  score: 10,
  previousFact: 11,
  previousRatingSize: 12,
  // Evaluation methods (issue 18).
  previousScore: 13,
  weight: 14,
  planMethodId: 15,
} as const;

/** Each id joined by `sep` to its code, as the CSV shows it (see statusCsvQuery). */
const idCode = (sep: string, id: AnyPgColumn, code: AnyPgColumn) => sql`concat_ws(${sep}::text, ${id}, ${code})`;

/**
 * The CSV export's rows, in CSV_ROW order: the goal's id (where the row sits: its cells come once
 * per goal from csvPlacementQuery), the indicator's id joined by `sep` to its code (UUIDs and codes
 * need no quoting: nysana_code_ok allows no separator, quote, line break or formula sign in a
 * code), its name and unit resolved to `lang`, then the values of the line's other columns. The
 * driver decodes 16 raw values a row (src/exports/status-csv.ts reads them as text). Text cells are
 * still encoded in Node: doing it in SQL cost PostgreSQL, the busier side, more than it saved.
 * The organization, plan, direction and goal cells were computed here per row (eight values, a
 * third of PostgreSQL's expression work); a LATERAL subquery per parent that PostgreSQL memoizes
 * cost it more than it saved (measured: 1.40 s against 1.03 s of CPU per 100,000 rows).
 * Nothing of year_approvals is selected, so PostgreSQL removes that left join (unique on plan and
 * year): the approvals come once per export from csvApprovalsQuery instead of a lookup per row.
 */
export function statusCsvQuery(filter: StatusFilter, lang: Lang, sep: string): StatusQuery {
  const { plan, fact, ratingSize, score, previousFact, previousRatingSize, previousScore, weight } = statusRowColumns;
  const columns = (frame: StatusFrame) => ({
    goalId: indicators.goalId,
    indicator: idCode(sep, indicators.id, indicators.code),
    name: resolved(indicators.name, lang),
    unit: resolved(indicators.unit, lang),
    valueType: indicators.valueType,
    betterWhen: indicators.betterWhen,
    year: frame.year,
    planValue: plan,
    fact,
    ratingSize,
    score,
    previousFact,
    previousRatingSize,
    previousScore,
    weight,
    planMethodId: plans.evaluationMethodId,
  });
  const q = statusQuery({ columns, filter, order: { by: 'natural' } });
  if (q.keys.some((key, i) => CSV_ROW[key as keyof typeof CSV_ROW] !== i))
    throw new Error('statusCsvQuery selects out of CSV_ROW order');
  return q;
}

/** Which value of a csvPlacementQuery row sits where. */
export const PLACEMENT_ROW = {
  goalId: 0,
  organization: 1,
  organizationName: 2,
  plan: 3,
  planTitle: 4,
  direction: 5,
  directionTitle: 6,
  goal: 7,
  goalTitle: 8,
  // The goal's plan, whose approval of the row's year (csvApprovalsQuery) scores the row.
  planId: 9,
} as const;

const placementBuilder = new QueryBuilder();

/**
 * Where the CSV export's rows sit, once per goal (PLACEMENT_ROW order): the organization, plan,
 * direction and goal, each id joined to its code, each name resolved to `lang`. Goals of the
 * filter's organization, plan, direction and goal: a superset of the goals the export's rows
 * name (its other conditions are on indicators and measurements). Read in the cursor's snapshot
 * (src/db/cursor.ts `before`), so every row's goal is here.
 */
export function csvPlacementQuery(filter: StatusFilter, lang: Lang, sep: string): { text: string; values: unknown[] } {
  // The filter's conditions on plans and goals (its goalId is a condition on indicators: not joined here).
  const parents: StatusFilter = {
    organizationId: filter.organizationId,
    planId: filter.planId,
    directionId: filter.directionId,
  };
  const columns = {
    goalId: goals.id,
    organization: idCode(sep, organizations.id, organizations.code),
    organizationName: resolved(organizations.name, lang),
    plan: idCode(sep, plans.id, plans.code),
    planTitle: resolved(plans.title, lang),
    direction: idCode(sep, directions.id, directions.code),
    directionTitle: resolved(directions.title, lang),
    goal: idCode(sep, goals.id, goals.code),
    goalTitle: resolved(goals.title, lang),
    planId: plans.id,
  };
  if (Object.keys(columns).some((key, i) => PLACEMENT_ROW[key as keyof typeof PLACEMENT_ROW] !== i))
    throw new Error('csvPlacementQuery selects out of PLACEMENT_ROW order');
  const { sql: text, params } = joinUp(placementBuilder.select(columns).from(goals).$dynamic(), goals)
    .innerJoin(organizations, eq(organizations.id, plans.organizationId))
    .where(
      and(
        ...filterConditions(parents, bindValues(parents)),
        filter.goalId !== undefined ? eq(goals.id, filter.goalId) : undefined,
      ),
    )
    .toSQL();
  return { text, values: params };
}

/**
 * The approved plan years the CSV export's rows may fall in, as [plan id, year, the approval's
 * evaluation method version]: the filter's organization and plan, the filter's year when it has
 * one (a superset of what its rows need). Read once per export in the cursor's snapshot
 * (src/db/cursor.ts `before`), where the rows' statement joined year_approvals on every row.
 */
export function csvApprovalsQuery(filter: StatusFilter): { text: string; values: unknown[] } {
  const parents: StatusFilter = { organizationId: filter.organizationId, planId: filter.planId };
  const { sql: text, params } = placementBuilder
    .select({
      planId: yearApprovals.planId,
      year: yearApprovals.year,
      methodVersionId: yearApprovals.evaluationMethodVersionId,
    })
    .from(yearApprovals)
    .innerJoin(plans, eq(plans.id, yearApprovals.planId))
    .where(
      and(
        ...filterConditions(parents, bindValues(parents)),
        filter.year !== undefined ? eq(yearApprovals.year, filter.year) : undefined,
      ),
    )
    .toSQL();
  return { text, values: params };
}

// ---------------------------------------------------------------------------------------------
// Forecasts (GET /plans/{id}/status?forecast=true): the facts up to the year and the final year's plan.

/** Every measurement of the plan's indicators up to `year` or in `endYear` (facts for the line, the target). */
export function forecastRows(db: Db, planId: string, year: number, endYear: number) {
  return db
    .select({
      indicatorId: measurements.indicatorId,
      year: measurements.year,
      fact: measurements.fact,
      plan: measurements.plan,
    })
    .from(measurements)
    .innerJoin(indicators, eq(indicators.id, measurements.indicatorId))
    .innerJoin(goals, eq(goals.id, indicators.goalId))
    .innerJoin(directions, eq(directions.id, goals.directionId))
    .where(and(eq(directions.planId, planId), or(lte(measurements.year, year), eq(measurements.year, endYear))))
    .orderBy(measurements.indicatorId, measurements.year);
}
