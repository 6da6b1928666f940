/**
 * The status reads, each a spec of the read model (read-model.ts) plus what its delivery mode
 * adds: the plan status its tree shape and the approval, the indicator status its plan years,
 * the feed page its fetch sizes, the export its columns (text resolved to the language in SQL,
 * the CSV's ids joined). Each answer comes from a fixed number of statements whatever the
 * plan's size, never one per indicator.
 */
import { eq, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { YearApproval } from '../approvals/schemas.js';
import type { Db } from '../db/client.js';
import { queryArrays } from '../db/raw.js';
import type { LocalizedTextColumn } from '../db/schema.js';
import { directions, goals, indicators, measurements, plans, yearApprovals } from '../db/schema.js';
import type { Lang } from '../shared/lang.js';
import type { StatusRow } from './assemble.js';
import type { StatusFilter, StatusFrame, StatusQuery, StatusRowOf } from './read-model.js';
import { decodeRows, naturalPosition, previous, readStatus, statusContextColumns, statusViewColumns, statusQuery, statusRowColumns } from './read-model.js';

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
  plan: { id: string; organizationId: string; startYear: number; endYear: number };
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
export function decodePlanStatus(planId: string, year: number, keys: string[], rows: unknown[][]): PlanStatusData | undefined {
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
          version: first[7] as number,
          createdAt: iso(first[8] as number),
          updatedAt: iso(first[9] as number),
        };
  const treeKeys = keys.slice(TREE_FROM);
  const tree: PlanTreeRow[] = [];
  for (const r of rows) {
    if (r[TREE_FROM] === null) continue; // a plan without directions
    const row: Record<string, unknown> = {};
    for (let k = 0; k < treeKeys.length; k++) row[treeKeys[k]!] = r[TREE_FROM + k];
    tree.push(row as PlanTreeRow);
  }
  return {
    plan: { id: planId, organizationId: first[0] as string, startYear: first[1] as number, endYear: first[2] as number },
    approval,
    rows: tree,
  };
}

export async function readPlanStatus(db: Db, planId: string, year: number): Promise<PlanStatusData | undefined> {
  const q = planStatusQuery(planId, year);
  return decodePlanStatus(planId, year, q.keys, await queryArrays(db, { name: q.name!, text: q.text }, q.values));
}

/** Directions, goals and indicators of a plan with the year's and previous year's values (the report). */
export async function planTree(db: Db, planId: string, year: number): Promise<PlanTreeRow[]> {
  return (await readPlanStatus(db, planId, year))?.rows ?? [];
}

// ---------------------------------------------------------------------------------------------
// Indicator status: every indicator row even unmeasured, with its plan's years.

const indicatorYearColumns = (frame: StatusFrame) => ({ ...statusRowColumns, ...statusContextColumns(frame), startYear: plans.startYear, endYear: plans.endYear });

/** One indicator for one year (`year` given) or for every year it has a measurement (or one row without). */
export function indicatorYears(db: Db, indicatorId: string, year?: number) {
  return readStatus(db, { columns: indicatorYearColumns, filter: { indicatorId, year }, rows: 'every', order: { by: 'year' } });
}
export type IndicatorYearRow = Awaited<ReturnType<typeof indicatorYears>>[number];

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
  return statusQuery({ columns: feedColumns, filter: page.filter, order: { by: 'natural', after: page.cursor }, limit: fetch });
}

/** The flat feed page, in the natural order: up to `limit + 1` rows after the cursor. */
export async function statusFeed(db: Db, page: FeedPage) {
  const q = statusFeedQuery(page);
  const rows = await queryArrays(db, { name: q.name!, text: q.text }, q.values);
  return decodeRows<FeedRow>(q.keys, rows.length > page.limit + 1 ? rows.slice(0, page.limit + 1) : rows);
}

// ---------------------------------------------------------------------------------------------
// Streamed exports (src/exports/status.ts): feed rows and order, no limit, only what a file shows.

/** Localized text resolved to `lang` with resolveText's fallback (kk, ru, en), in SQL. */
const resolved = (column: AnyPgColumn, lang: Lang) =>
  sql<string | null>`coalesce(nullif(${column}->>${lang}::text, ''), nullif(${column}->>'kk', ''), nullif(${column}->>'ru', ''), nullif(${column}->>'en', ''))`;

/**
 * Feed rows for an export: name and unit as the text resolved to the export's language, group and
 * note not at all (decoding four jsonb values per row was about a third of the driver's CPU time).
 */
export function statusExportQuery(filter: StatusFilter, lang: Lang): StatusQuery {
  const columns = (frame: StatusFrame) => ({
    ...statusViewColumns(frame),
    name: resolved(indicators.name, lang),
    unit: resolved(indicators.unit, lang),
    group: sql<null>`null`,
    note: sql<null>`null`,
  });
  return statusQuery({ columns, filter, order: { by: 'natural' } });
}

/** Which value of a CSV export row (statusCsvQuery) sits where. */
export const CSV_ROW = {
  ids: 0, code: 1, name: 2, unit: 3, valueType: 4, betterWhen: 5, year: 6,
  plan: 7, fact: 8, ratingSize: 9, score: 10, previousFact: 11, previousRatingSize: 12,
} as const;

/**
 * The CSV export's rows, in CSV_ROW order: the five ids that open every line already joined by
 * `sep` (UUIDs need no quoting), then the text and values of the line's other columns. The driver
 * decodes 13 values a row instead of 22 (src/exports/status-csv.ts reads them as raw text). Text
 * cells are still encoded in Node: doing it in SQL cost PostgreSQL, the busier side, more than it saved.
 */
export function statusCsvQuery(filter: StatusFilter, lang: Lang, sep: string): StatusQuery {
  const { plan, fact, ratingSize, score, previousFact, previousRatingSize } = statusRowColumns;
  const columns = (frame: StatusFrame) => ({
    ids: sql`concat_ws(${sep}::text, ${plans.organizationId}, ${directions.planId}, ${goals.directionId}, ${indicators.goalId}, ${indicators.id})`,
    code: indicators.code,
    name: resolved(indicators.name, lang),
    unit: resolved(indicators.unit, lang),
    valueType: indicators.valueType,
    betterWhen: indicators.betterWhen,
    year: frame.year,
    plan, fact, ratingSize, score, previousFact, previousRatingSize,
  });
  const q = statusQuery({ columns, filter, order: { by: 'natural' } });
  if (q.keys.some((key, i) => CSV_ROW[key as keyof typeof CSV_ROW] !== i)) throw new Error('statusCsvQuery selects out of CSV_ROW order');
  return q;
}
