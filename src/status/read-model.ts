/**
 * The status read model: what a status row is, and the one query builder every status read is
 * derived from (the plan status, the indicator status, the feed page, the streamed export, the
 * incremental sync feed and the report; the export's ETag watermark uses its filter).
 *
 * A status row is one indicator in one year: the indicator, its goal, direction, plan and
 * organization, the year's measurement, the previous year's (trend, previous percentile) and
 * whether the plan year is approved. The achievement rules (src/achievement/) turn it into an
 * IndicatorStatus.
 *
 * A read is a StatusSpec: columns (a selection built from the row's columns), one StatusFilter,
 * a shape (flat rows or a plan's tree), an order with its keyset position, and a limit. New
 * filters and orderings go here, in filterConditions() and ORDERS, and every delivery mode gets
 * them. Values go in as placeholders, so the SQL text of a spec's shape is built once and runs as
 * a named (prepared) statement: the status endpoints are the ones other systems poll.
 */
import { createHash } from 'node:crypto';
import type { SQL, SQLWrapper } from 'drizzle-orm';
import { and, asc, eq, fillPlaceholders, gt, gte, isNotNull, lte, or, sql } from 'drizzle-orm';
import type { AnyPgColumn, PgSelectQueryBuilder } from 'drizzle-orm/pg-core';
import { alias, QueryBuilder } from 'drizzle-orm/pg-core';
import type { SelectResultFields } from 'drizzle-orm/query-builders/select.types';
import type { AchievementStatus, ValueType } from '../achievement/compute.js';
import { achievementPercentSql, deviationSql, statusSql, trendSql } from '../achievement/status-sql.js';
import type { Db } from '../db/client.js';
import { joinDown, joinUp } from '../db/plan-tree.js';
import type { NamedSql } from '../db/raw.js';
import { queryArrays } from '../db/raw.js';
import {
  directions,
  goals,
  indicators,
  measurements,
  organizations,
  plans,
  syncDeletions,
  yearApprovals,
} from '../db/schema.js';

/** Which status rows: the one filter type of every status read. */
export interface StatusFilter {
  /**
   * With a year: one row per indicator for that year (its measurement may be missing); flat reads
   * keep only indicators of plans running that year or measured in it, unless StatusSpec.rows says otherwise.
   * Without: one row per stored measurement.
   */
  year?: number;
  organizationId?: string;
  planId?: string;
  indicatorId?: string;
  valueType?: ValueType;
  /** The derived status (achievement/status-sql.ts), decided in the database. */
  status?: AchievementStatus;
  // --- issue 15: analysis-ready flat rows -------------------------------------------------------
  goalId?: string;
  directionId?: string;
  /** The exact indicator code (several plans may use the same code). */
  code?: string;
  /**
   * The row's year at least / at most. Without `year`: stored measurements of those years. With it
   * (the route refuses both together): the year itself must lie in the range.
   */
  yearFrom?: number;
  yearTo?: number;
}

const FILTER_KEYS = [
  'year',
  'organizationId',
  'planId',
  'indicatorId',
  'valueType',
  'status',
  // issue 15
  'goalId',
  'directionId',
  'code',
  'yearFrom',
  'yearTo',
] as const satisfies readonly (keyof StatusFilter)[];

/** The filter part of a request's query (anything else it holds is left out). */
export function statusFilterOf(q: StatusFilter): StatusFilter {
  const f: StatusFilter = {};
  for (const key of FILTER_KEYS) if (q[key] !== undefined) (f as Record<string, unknown>)[key] = q[key];
  return f;
}

/** The same indicator's measurement one year earlier (for trend and previous percentile). */
export const previous = alias(measurements, 'previous');

/** What the achievement rules read for one indicator and year (StatusRow in assemble.ts). */
export const statusRowColumns = {
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
  // Evaluation methods (issue 18): the previous score (scoreTrend) and the weight (weighted roll-ups).
  previousScore: previous.score,
  weight: indicators.weight,
};

/** Where a row's year comes from: the asked year, or the measurement's. */
export interface StatusFrame {
  year: SQL;
}

/** Where the row sits (StatusContext in assemble.ts). */
export const statusContextColumns = (frame: StatusFrame) => ({
  directionId: goals.directionId,
  planId: directions.planId,
  organizationId: plans.organizationId,
  year: frame.year as SQL<number>,
  approved: sql<boolean>`(${yearApprovals.id} is not null)`,
  // Which evaluation method scores the row (null, null: the built-in default; no extra read).
  planMethodId: plans.evaluationMethodId,
  approvalMethodVersionId: yearApprovals.evaluationMethodVersionId,
});

/**
 * Where a flat row sits by code and name (issue 15: analysis-ready rows carry them next to the
 * ids). Names and titles are LocalizedText, resolved to ?lang where an answer shows text. Flat
 * shapes join organizations for these; the tree shape does not.
 */
export const statusPlacementColumns = {
  organizationCode: organizations.code,
  organizationName: organizations.name,
  planCode: plans.code,
  planTitle: plans.title,
  directionCode: directions.code,
  directionTitle: directions.title,
  goalCode: goals.code,
  goalTitle: goals.title,
};

/** A whole flat status row: everything an IndicatorStatus is computed from, and where it sits. */
export const statusViewColumns = (frame: StatusFrame) => ({
  ...statusRowColumns,
  ...statusContextColumns(frame),
  ...statusPlacementColumns,
});

/** The derived status of the row, in SQL. */
export const rowStatus = statusSql(measurements.plan, measurements.fact, indicators.betterWhen);

/**
 * The row's computed fields that have an SQL form (src/achievement/status-sql.ts), for conditions
 * and orderings on them (StatusSpec.where, the `terms` order): the OData feed filters on these.
 */
export const statusComputedColumns = {
  status: rowStatus,
  achievementPercent: achievementPercentSql(measurements.plan, measurements.fact, indicators.betterWhen),
  deviation: deviationSql(measurements.plan, measurements.fact),
  trend: trendSql(previous.fact, measurements.fact, indicators.betterWhen),
};

/** The latest deletion (its change stamp, or when) of a measurement or approval the row reads. */
const deleted = (
  column: 'change_xid' | 'deleted_at',
  entity: 'measurement' | 'year_approval',
  parent: AnyPgColumn,
  year: SQL,
): SQL =>
  sql`(select max(sd.${sql.raw(column)}) from ${syncDeletions} sd where sd.entity_type = ${sql.raw(`'${entity}'`)} and sd.parent_id = ${parent} and sd.year = ${year})`;
const orZero = (q: SQL) => sql`coalesce(${q}, 0)`;

/**
 * The row's change position: the latest change stamp among everything it is computed from (the
 * measurement, the previous year's measurement or its deletion, the indicator, its plan, the
 * year's approval or its reopening). Any of those changing moves the row past every incremental
 * sync cursor already handed out (src/sync/status.ts). Flat rows of stored measurements only.
 */
export const statusChangePosition = sql`greatest(${measurements.changeXid}, ${indicators.changeXid}, ${plans.changeXid}, coalesce(${previous.changeXid}, 0), coalesce(${yearApprovals.changeXid}, 0), ${orZero(deleted('change_xid', 'measurement', indicators.id, sql`${measurements.year} - 1`))}, ${orZero(deleted('change_xid', 'year_approval', plans.id, sql`${measurements.year}`))})`;
/** When that latest change happened. */
export const statusChangedAt = sql`greatest(${measurements.updatedAt}, ${indicators.updatedAt}, ${plans.updatedAt}, ${previous.updatedAt}, ${yearApprovals.updatedAt}, ${deleted('deleted_at', 'measurement', indicators.id, sql`${measurements.year} - 1`)}, ${deleted('deleted_at', 'year_approval', plans.id, sql`${measurements.year}`)})`;

/** The orders a read can ask for, each with what its keyset position holds. */
export type StatusOrder =
  /** Feed order, (year, indicatorId): keyset pages are index range scans. `after` is [year, indicatorId]. */
  | { by: 'feed'; after?: readonly unknown[] }
  /** Report order: direction, goal, indicator by position and code. */
  | { by: 'tree' }
  /** Ascending year (one indicator's years). */
  | { by: 'year' }
  /** Change order (statusChangePosition, year, indicatorId); the sync adds its own position condition. */
  | { by: 'change' }
  /**
   * Natural order (issue 15), flat rows: plan code, direction position and code, goal position and
   * code, indicator code, codes compared as numbers where they hold digits (1.1.10 after 1.1.9), by
   * the key stored on each indicator (indicators.sort_key, migrations 0017 and 0021: pages and exports
   * walk its index, no join per row);
   * without a year, an indicator's years together. `after` is a row's naturalPosition (the column
   * to select for it): its key is computed from it, so keyset pages hold across deletions.
   */
  | { by: 'natural'; after?: readonly unknown[] }
  /**
   * Any order over the row's columns (statusViewColumns, statusComputedColumns, naturalOrderColumns),
   * directions included, e.g. an OData $orderby; end it with a unique key for stable pages. Such reads
   * are not cached.
   */
  | { by: 'terms'; terms: SQL[] };

type Selection = Record<string, SQL | AnyPgColumn>;

export interface StatusSpec<S extends Selection = Selection> {
  columns: (frame: StatusFrame) => S;
  filter: StatusFilter;
  /** `flat` (default): status rows. `tree`: a plan's directions, goals and indicators, empty sections as nulls. */
  shape?: 'flat' | 'tree';
  /**
   * Which flat rows: `feed` (default) as StatusFilter.year says; `measured` only stored measurements
   * (of the year, with one); `every` every indicator the filter names, outside its plan's years or
   * unmeasured too (one row without a measurement when it has none).
   */
  rows?: 'feed' | 'measured' | 'every';
  order?: StatusOrder;
  /**
   * Conditions a delivery mode adds beyond the filter (the sync's change window, an OData $filter over
   * the row's columns); such reads are not cached.
   */
  where?: (SQL | undefined)[];
  limit?: number;
  /** Rows skipped before the first returned (OData $skip); such reads are not cached. */
  offset?: number;
}

/** Whether the spec's statement text depends only on its shape (then it is built once and prepared). */
const isCacheable = (spec: StatusSpec) =>
  spec.where === undefined && spec.order?.by !== 'terms' && spec.offset === undefined;

export type StatusRowOf<S extends Selection> = SelectResultFields<S>;

const p = (name: string) => sql.placeholder(name);

/** Each value of the filter as SQL: a placeholder (the default: statements built once), or the value itself. */
type Bind = (key: keyof StatusFilter) => SQLWrapper;
/** Binds the filter's own values, for statements that are not cached (aggregates over the filtered rows). */
export const bindValues =
  (f: StatusFilter): Bind =>
  (key) =>
    sql`${f[key]}`;

/** The filter as conditions on the joined tables. */
export function filterConditions(f: StatusFilter, bind: Bind = p): (SQL | undefined)[] {
  // The row's year: the asked one, or the measurement's (yearFrom/yearTo need measurements joined without a year).
  const rowYear = f.year !== undefined ? sql`${bind('year')}::int` : sql`${measurements.year}`;
  return [
    f.organizationId !== undefined ? eq(plans.organizationId, bind('organizationId')) : undefined,
    f.planId !== undefined ? eq(plans.id, bind('planId')) : undefined,
    f.indicatorId !== undefined ? eq(indicators.id, bind('indicatorId')) : undefined,
    f.valueType !== undefined ? eq(indicators.valueType, bind('valueType')) : undefined,
    f.status !== undefined ? sql`(${rowStatus}) = ${bind('status')}` : undefined,
    // issue 15
    f.goalId !== undefined ? eq(indicators.goalId, bind('goalId')) : undefined,
    f.directionId !== undefined ? eq(goals.directionId, bind('directionId')) : undefined,
    f.code !== undefined ? eq(indicators.code, bind('code')) : undefined,
    f.yearFrom !== undefined ? sql`${rowYear} >= ${bind('yearFrom')}::int` : undefined,
    f.yearTo !== undefined ? sql`${rowYear} <= ${bind('yearTo')}::int` : undefined,
  ];
}

/**
 * What a natural position holds, the arguments of nysana_status_sort_key() (migration 0017) then the
 * indicator id: codes (at most 64 characters each, where the key could be longer), ids, positions.
 */
const NATURAL_TYPES = ['code', 'uuid', 'int', 'code', 'int', 'code', 'code', 'uuid'] as const;
const NATURAL_VALUES = [
  plans.code,
  plans.id,
  directions.position,
  directions.code,
  goals.position,
  goals.code,
  indicators.code,
  indicators.id,
];

/**
 * A flat row's place in the natural order, as a JSON array (both drivers decode it the same): what a
 * page's last row gives StatusOrder 'natural' as `after`. Select it as a column where pages are cut.
 */
export const naturalPosition = (frame: StatusFrame) =>
  sql<unknown[]>`json_build_array(${sql.join(
    [...NATURAL_VALUES, frame.year].map((c) => sql`${c}`),
    sql`, `,
  )})`;

/** Whether `after` has the shape of a naturalPosition for a read with (or without) a year: a cursor is client input. */
export function isNaturalPosition(after: readonly unknown[]): boolean {
  if (after.length !== NATURAL_TYPES.length + 1) return false;
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  const int = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && Math.abs(v) <= 2_147_483_647;
  return after.every((v, i) => {
    const type = NATURAL_TYPES[i] ?? 'int';
    if (type === 'code') return typeof v === 'string' && v.length <= 64;
    if (type === 'uuid') return typeof v === 'string' && uuid.test(v);
    return int(v);
  });
}

/** The indicator id a feed page with a year starts after (a cursor of another year starts from the top). */
function feedAfterId(spec: StatusSpec): unknown {
  const order = spec.order;
  if (order?.by !== 'feed' || !order.after || spec.filter.year === undefined) return undefined;
  return order.after[0] === spec.filter.year ? order.after[1] : undefined;
}

const ORDERS: Record<Exclude<StatusOrder['by'], 'terms'>, (yearGiven: boolean) => (SQL | AnyPgColumn)[]> = {
  feed: (yearGiven) => (yearGiven ? [indicators.id] : [measurements.year, measurements.indicatorId]),
  tree: () => [directions.position, directions.code, goals.position, goals.code, indicators.position, indicators.code],
  year: () => [measurements.year],
  change: () => [statusChangePosition, measurements.year, measurements.indicatorId],
  natural: (yearGiven) =>
    yearGiven ? [indicators.sortKey, indicators.id] : [indicators.sortKey, indicators.id, measurements.year],
};

/** The natural order's columns, for a `terms` order to end with (unique: the row's natural place). */
export const naturalOrderColumns = (yearGiven: boolean) => ORDERS.natural(yearGiven);

/**
 * The natural order's keyset condition: the row's keys after the position's (placeholders natural0..natural8).
 * The position's sort key is computed once (a scalar subquery), not per row compared.
 */
function naturalAfter(yearGiven: boolean): SQL {
  const value = (i: number) =>
    sql`${p(`natural${i}`)}::${sql.raw(NATURAL_TYPES[i] === 'code' ? 'text' : (NATURAL_TYPES[i] ?? 'int'))}`;
  const key = sql`(select nysana_status_sort_key(${sql.join([0, 1, 2, 3, 4, 5, 6].map(value), sql`, `)}))`;
  return yearGiven
    ? sql`(${indicators.sortKey}, ${indicators.id}) > (${key}, ${value(7)})`
    : sql`(${indicators.sortKey}, ${indicators.id}, ${measurements.year}) > (${key}, ${value(7)}, ${value(8)})`;
}

const qb = new QueryBuilder();

/** The spec as a drizzle query with placeholders (values: statusValues). */
function buildQuery(spec: StatusSpec) {
  const f = spec.filter;
  const yearGiven = f.year !== undefined;
  const year = yearGiven ? sql`${p('year')}::int` : sql`${measurements.year}`;
  const afterId = feedAfterId(spec) !== undefined;
  // The feed cursor repeated on the measurement joins (redundant: indicator_id = indicators.id):
  // PostgreSQL does not carry it across a left join, and without it a merge join scans the year's
  // index from the first indicator on every page (measured: 680 ms instead of 33 ms per page at 1M rows).
  const fromCursor = (column: AnyPgColumn) => (afterId ? gt(column, sql`${p('afterId')}::uuid`) : undefined);
  const selection = spec.columns({ year });

  let q: PgSelectQueryBuilder =
    spec.shape === 'tree'
      ? joinDown(qb.select(selection).from(plans).$dynamic())
      : joinUp(qb.select(selection).from(indicators).$dynamic(), indicators).innerJoin(
          organizations,
          eq(organizations.id, plans.organizationId),
        );
  const measurement = and(
    eq(measurements.indicatorId, indicators.id),
    yearGiven ? eq(measurements.year, year) : undefined,
    fromCursor(measurements.indicatorId),
  );
  // With a year the row exists without its measurement (no_target); without, rows are measurements.
  const measuredOnly = spec.rows === 'measured' || (!yearGiven && spec.rows !== 'every');
  q = measuredOnly ? q.innerJoin(measurements, measurement) : q.leftJoin(measurements, measurement);
  const previousYear = yearGiven ? sql`${p('year')}::int - 1` : sql`${measurements.year} - 1`;
  q = q
    .leftJoin(
      previous,
      and(eq(previous.indicatorId, indicators.id), eq(previous.year, previousYear), fromCursor(previous.indicatorId)),
    )
    .leftJoin(yearApprovals, and(eq(yearApprovals.planId, plans.id), eq(yearApprovals.year, year)));

  const running = yearGiven && spec.shape !== 'tree' && (spec.rows ?? 'feed') === 'feed';
  const feedAfter = spec.order?.by === 'feed' && spec.order.after && !yearGiven;
  q = q.where(
    and(
      running ? or(and(lte(plans.startYear, year), gte(plans.endYear, year)), isNotNull(measurements.id)) : undefined,
      ...filterConditions(f),
      fromCursor(indicators.id),
      feedAfter
        ? sql`(${measurements.year}, ${measurements.indicatorId}) > (${p('cursorYear')}::int, ${p('cursorId')}::uuid)`
        : undefined,
      spec.order?.by === 'natural' && spec.order.after ? naturalAfter(yearGiven) : undefined,
      ...(spec.where ?? []),
    ),
  );
  const order = spec.order;
  if (order) q = q.orderBy(...(order.by === 'terms' ? order.terms : ORDERS[order.by](yearGiven).map((c) => asc(c))));
  return { query: q, keys: Object.keys(selection) };
}

/** The values of a spec's placeholders. */
function statusValues(spec: StatusSpec): Record<string, unknown> {
  const f = spec.filter;
  const order = spec.order;
  const after = order?.by === 'feed' ? order.after : undefined;
  const values: Record<string, unknown> = {
    ...statusFilterOf(f),
    afterId: feedAfterId(spec),
    cursorYear: after?.[0],
    cursorId: after?.[1],
  };
  if (order?.by === 'natural' && order.after) {
    // A position has the row's year last; with a year given the order has no year key.
    const keys = order.after.slice(0, f.year === undefined ? NATURAL_TYPES.length + 1 : NATURAL_TYPES.length);
    keys.forEach((v, i) => (values[`natural${i}`] = v));
  }
  return values;
}

export interface StatusStatement extends NamedSql {
  /** The parameters, placeholders among them (filled by statusParams). */
  params: unknown[];
  /** What each column of a row array holds. */
  keys: string[];
}

/** The shape a statement's text depends on (not the values). */
function shapeKey(spec: StatusSpec): string {
  const f = spec.filter;
  const present = FILTER_KEYS.map((k) => (f[k] === undefined ? 0 : 1)).join('');
  const order = spec.order;
  const after =
    order?.by === 'feed' && order.after
      ? f.year === undefined
        ? 'a'
        : feedAfterId(spec) !== undefined
          ? 'a'
          : ''
      : order?.by === 'natural' && order.after
        ? 'a'
        : '';
  return `${spec.shape ?? 'flat'}:${spec.rows ?? 'feed'}:${present}:${order?.by ?? ''}${after}:${spec.limit ?? ''}`;
}

// Per column set (a module-level function) and shape: the statement, built and named once.
const statements = new WeakMap<object, Map<string, StatusStatement>>();

/**
 * The spec's statement: SQL text (with the limit written in: PostgreSQL then caches a generic
 * plan, where a `limit $n` parameter made it plan every call anew), a name unique to the text,
 * the parameters and the column keys. Specs without extra conditions are built once per shape.
 */
export function statusStatement(spec: StatusSpec): StatusStatement {
  const cacheable = isCacheable(spec);
  const key = shapeKey(spec);
  let byShape = statements.get(spec.columns);
  const cached = cacheable ? byShape?.get(key) : undefined;
  if (cached) return cached;
  const { query, keys } = buildQuery(spec);
  const { sql: body, params } = query.toSQL();
  const limited = spec.limit === undefined ? body : `${body} limit ${Math.trunc(spec.limit)}`;
  const text = spec.offset === undefined ? limited : `${limited} offset ${Math.trunc(spec.offset)}`;
  const statement = {
    name: `status_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`,
    text,
    params,
    keys,
  };
  if (cacheable) {
    if (!byShape) statements.set(spec.columns, (byShape = new Map<string, StatusStatement>()));
    byShape.set(key, statement);
  }
  return statement;
}

/** The statement's parameters with the spec's values in place of its placeholders. */
export function statusParams(statement: StatusStatement, spec: StatusSpec): unknown[] {
  return fillPlaceholders(statement.params, statusValues(spec));
}

const decoders = new Map<string, (row: readonly unknown[]) => unknown>();

/**
 * A decoder of row arrays to objects: `keys[i]` from `row[from + i]`, compiled once per column list
 * into one object literal. Objects filled key by key (`item[key] = value`) fall into dictionary
 * mode past a dozen keyed stores (V8), and a status row has over 30 columns: every later read of
 * a field was a hash lookup (docs/benchmarks.md). The keys are the read model's own column names
 * (code, never input), quoted by JSON.stringify.
 */
export function rowDecoder<T>(keys: readonly string[], from = 0): (row: readonly unknown[]) => T {
  const id = `${from}\n${keys.join('\n')}`;
  let decode = decoders.get(id);
  if (!decode) {
    if (decoders.size >= 256) decoders.clear(); // a bound; the read model has a handful of shapes
    // In a literal, "__proto__": would set the prototype rather than a field.
    if (keys.includes('__proto__')) throw new Error('a column named __proto__ cannot be decoded');
    const fields = keys.map((key, i) => `${JSON.stringify(key)}: row[${from + i}]`).join(', ');
    decode = new Function('row', `return { ${fields} };`) as (row: readonly unknown[]) => unknown;
    decoders.set(id, decode);
  }
  return decode as (row: readonly unknown[]) => T;
}

/** Row arrays (in statement.keys order) to objects. */
export function decodeRows<T>(keys: string[], rows: unknown[][]): T[] {
  const decode = rowDecoder<T>(keys);
  const out = new Array<T>(rows.length);
  for (let r = 0; r < rows.length; r++) out[r] = decode(rows[r]!);
  return out;
}

/** A spec ready to run: its statement (named when it is cached) and the values of its parameters. */
export interface StatusQuery {
  /** Unset for statements whose text varies (not prepared). */
  name?: string;
  text: string;
  values: unknown[];
  keys: string[];
}

export function statusQuery(spec: StatusSpec): StatusQuery {
  const statement = statusStatement(spec);
  const values = statusParams(statement, spec);
  return isCacheable(spec)
    ? { name: statement.name, text: statement.text, values, keys: statement.keys }
    : { text: statement.text, values, keys: statement.keys };
}

/** Runs a spec, rows as arrays in keys order. */
export async function readStatusArrays(db: Db, spec: StatusSpec): Promise<{ keys: string[]; rows: unknown[][] }> {
  const q = statusQuery(spec);
  return {
    keys: q.keys,
    rows: await queryArrays(db, q.name ? { name: q.name, text: q.text } : { text: q.text }, q.values),
  };
}

/** Runs a spec, rows as objects keyed like its columns. */
export async function readStatus<S extends Selection>(db: Db, spec: StatusSpec<S>): Promise<StatusRowOf<S>[]> {
  const { keys, rows } = await readStatusArrays(db, spec as StatusSpec);
  return decodeRows<StatusRowOf<S>>(keys, rows);
}

/** How many rows a spec reads (its limit, offset and order aside): OData's $count over status rows. */
export async function countStatus(db: Db, spec: StatusSpec): Promise<number> {
  const { limit: _limit, offset: _offset, order: _order, ...unbounded } = spec;
  const q = statusQuery({ ...unbounded, where: unbounded.where ?? [] });
  const [row] = await queryArrays(db, { text: `select count(*)::int from (${q.text}) as counted` }, q.values);
  return Number(row?.[0] ?? 0);
}
