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

export function statusExportQuery(db: Db, f: ExportFilters, lang: Lang): ExportQuery {
  const resolved = (column: AnyPgColumn) =>
    sql<string | null>`coalesce(nullif(${column}->>${lang}::text, ''), nullif(${column}->>'kk', ''), nullif(${column}->>'ru', ''), nullif(${column}->>'en', ''))`;
  const selection = (yearColumn: SQL | typeof measurements.year) => ({
    ...indicatorColumns,
    name: resolved(indicators.name),
    unit: resolved(indicators.unit),
    group: sql<null>`null`,
    note: sql<null>`null`,
    directionId: goals.directionId,
    planId: directions.planId,
    organizationId: plans.organizationId,
    year: sql<number>`${yearColumn}`,
    approved: sql<boolean>`(${yearApprovals.id} is not null)`,
  });
  const common: (SQL | undefined)[] = [
    f.organizationId ? eq(plans.organizationId, f.organizationId) : undefined,
    f.planId ? eq(plans.id, f.planId) : undefined,
    f.valueType ? eq(indicators.valueType, f.valueType) : undefined,
    f.status ? sql`(${statusSql}) = ${f.status}` : undefined,
  ];
  const base = (yearColumn: SQL | typeof measurements.year) =>
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
