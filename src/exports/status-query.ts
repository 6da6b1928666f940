/**
 * The status feed's SQL for a streamed export (src/exports/status.ts): the rows and order of
 * statusFeed() in src/status/queries.ts (tests/api/exports.test.ts reads exports back against the
 * JSON feed, filters included), without a limit or cursor, and with only what an export shows:
 *
 * - name and unit come as the text resolved to the export's language (resolveText's fallback
 *   kk, ru, en, done in SQL), group and note not at all: decoding four jsonb values per row was
 *   about a third of the driver's CPU time;
 * - rows are read as arrays (the keys below give each position), so neither the driver nor
 *   drizzle builds an object per row.
 */
import type { SQL } from 'drizzle-orm';
import { and, asc, eq, gte, isNotNull, lte, or, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { Db } from '../db/client.js';
import { directions, goals, indicators, measurements, plans, yearApprovals } from '../db/schema.js';
import type { Lang } from '../shared/lang.js';
import type { FeedFilters } from '../status/queries.js';
import { indicatorColumns, previous, statusSql } from '../status/queries.js';

export type ExportFilters = Omit<FeedFilters, 'limit' | 'cursor'>;

export interface ExportQuery {
  sql: string;
  params: unknown[];
  /** What each column of a row array holds. */
  keys: string[];
}


/** Localized text resolved to `lang` with resolveText's fallback (kk, ru, en), in SQL. */
const resolved = (column: AnyPgColumn, lang: Lang) =>
  sql<string | null>`coalesce(nullif(${column}->>${lang}::text, ''), nullif(${column}->>'kk', ''), nullif(${column}->>'ru', ''), nullif(${column}->>'en', ''))`;

type YearColumn = SQL | typeof measurements.year;

/** The feed's joins, filters and order around a selection; `yearColumn` is each row's year. */
function feedExport(db: Db, f: ExportFilters, selection: (yearColumn: YearColumn) => Record<string, SQL | AnyPgColumn>): ExportQuery {
  const common: (SQL | undefined)[] = [
    f.organizationId ? eq(plans.organizationId, f.organizationId) : undefined,
    f.planId ? eq(plans.id, f.planId) : undefined,
    f.valueType ? eq(indicators.valueType, f.valueType) : undefined,
    f.status ? sql`(${statusSql}) = ${f.status}` : undefined,
  ];
  const base = (yearColumn: YearColumn) =>
    db
      .select(selection(yearColumn))
      .from(indicators)
      .innerJoin(goals, eq(goals.id, indicators.goalId))
      .innerJoin(directions, eq(directions.id, goals.directionId))
      .innerJoin(plans, eq(plans.id, directions.planId));

  let query;
  if (f.year !== undefined) {
    const year = f.year;
    // As statusFeed: every indicator of plans running that year, plus any measured that year.
    query = base(sql`${year}::int`)
      .leftJoin(measurements, and(eq(measurements.indicatorId, indicators.id), eq(measurements.year, year)))
      .leftJoin(previous, and(eq(previous.indicatorId, indicators.id), eq(previous.year, year - 1)))
      .leftJoin(yearApprovals, and(eq(yearApprovals.planId, plans.id), eq(yearApprovals.year, year)))
      .where(and(or(and(lte(plans.startYear, year), gte(plans.endYear, year)), isNotNull(measurements.id)), ...common))
      .orderBy(asc(indicators.id));
  } else {
    // Every stored measurement.
    query = base(measurements.year)
      .innerJoin(measurements, eq(measurements.indicatorId, indicators.id))
      .leftJoin(previous, and(eq(previous.indicatorId, indicators.id), eq(previous.year, sql`${measurements.year} - 1`)))
      .leftJoin(yearApprovals, and(eq(yearApprovals.planId, plans.id), eq(yearApprovals.year, measurements.year)))
      .where(and(...common))
      .orderBy(asc(measurements.year), asc(measurements.indicatorId));
  }
  const { sql: text, params } = query.toSQL();
  // drizzle selects the fields in the selection's key order.
  return { sql: text, params, keys: Object.keys(selection(measurements.year)) };
}

export function statusExportQuery(db: Db, f: ExportFilters, lang: Lang): ExportQuery {
  return feedExport(db, f, (yearColumn) => ({
    ...indicatorColumns,
    name: resolved(indicators.name, lang),
    unit: resolved(indicators.unit, lang),
    group: sql<null>`null`,
    note: sql<null>`null`,
    directionId: goals.directionId,
    planId: directions.planId,
    organizationId: plans.organizationId,
    year: sql<number>`${yearColumn}`,
    approved: sql<boolean>`(${yearApprovals.id} is not null)`,
  }));
}

/** Which value of a CSV export row (statusCsvQuery) sits where. */
export const CSV_ROW = {
  ids: 0, code: 1, name: 2, unit: 3, valueType: 4, betterWhen: 5, year: 6,
  plan: 7, fact: 8, ratingSize: 9, score: 10, previousFact: 11, previousRatingSize: 12,
} as const;

/**
 * The CSV export's rows, in CSV_ROW order: the five ids that open every line already joined by
 * `sep` (UUIDs need no quoting), then the text and values of the line's other columns. The driver
 * decodes 13 values a row instead of 22, and nothing per row is parsed into a type
 * (src/exports/status-csv.ts reads raw text). Text cells are still encoded by csvText() in Node:
 * doing it in SQL cost PostgreSQL, the busier side of the export, more than it saved Node.
 */
export function statusCsvQuery(db: Db, f: ExportFilters, lang: Lang, sep: string): ExportQuery {
  const q = feedExport(db, f, (yearColumn) => ({
    ids: sql`concat_ws(${sep}::text, ${plans.organizationId}, ${directions.planId}, ${goals.directionId}, ${indicators.goalId}, ${indicators.id})`,
    code: indicators.code,
    name: resolved(indicators.name, lang),
    unit: resolved(indicators.unit, lang),
    valueType: indicators.valueType,
    betterWhen: indicators.betterWhen,
    year: sql`${yearColumn}`,
    plan: measurements.plan,
    fact: measurements.fact,
    ratingSize: measurements.ratingSize,
    score: measurements.score,
    previousFact: previous.fact,
    previousRatingSize: previous.ratingSize,
  }));
  if (q.keys.some((key, i) => CSV_ROW[key as keyof typeof CSV_ROW] !== i)) throw new Error('statusCsvQuery selects out of CSV_ROW order');
  return q;
}
