import type { SQL } from 'drizzle-orm';
import { and, eq, getTableColumns, gte, lte, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import type { Tx } from '../db/tx.js';
import { describeDeleted } from '../db/hierarchy.js';
import { joinUp } from '../db/plan-tree.js';
import { indicators, measurements, plans } from '../db/schema.js';
import { decimalToNumber, iso, numberToDecimal } from '../shared/decimal.js';
import { tableList } from '../lists/table.js';
import type { Measurement } from './schemas.js';

export type MeasurementRow = typeof measurements.$inferSelect;
type Row = MeasurementRow;

export const toMeasurementDto = (row: Row): Measurement => ({
  id: row.id,
  indicatorId: row.indicatorId,
  year: row.year,
  plan: decimalToNumber(row.plan),
  fact: decimalToNumber(row.fact),
  ratingSize: row.ratingSize,
  score: decimalToNumber(row.score),
  note: row.note ?? null,
  version: row.version,
  createdAt: iso(row.createdAt),
  updatedAt: iso(row.updatedAt),
});

/** A timestamp(3) as the API writes it (Date#toISOString: UTC, milliseconds, "Z"), computed in SQL. */
export const isoTextSql = (timestamp: SQL) =>
  sql`to_char(${timestamp} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * toMeasurementDto in SQL: the same document, as jsonb, from SQL expressions of a measurement's
 * values (timestamps as ISO text: isoTextSql), for a set-based write that records its audit
 * documents without sending them (src/measurements/bulk.ts). Numbers go into the document as the
 * numeric they are stored as: the API, its writes included, stores at most 15 significant digits,
 * and every reader parses the document into the double the API answers.
 */
export const measurementJsonSql = (m: { [K in keyof Measurement]: SQL }) =>
  sql`jsonb_build_object('id', ${m.id}, 'indicatorId', ${m.indicatorId}, 'year', ${m.year}, 'plan', ${m.plan}, 'fact', ${m.fact},
    'ratingSize', ${m.ratingSize}, 'score', ${m.score}, 'note', ${m.note}, 'version', ${m.version}, 'createdAt', ${m.createdAt},
    'updatedAt', ${m.updatedAt})`;

// A cascade delete audits each removed measurement under its "<indicatorId>/<year>" key, so the
// measurement's history (GET .../measurements/{year}/history) ends with its deletion.
describeDeleted(measurements, (row) => {
  const m = row as unknown as Row;
  return { before: toMeasurementDto(m), entityKey: `${m.indicatorId}/${m.year}` };
});

/** The indicator with what its measurements are checked against: value type and plan years. */
export async function indicatorContext(executor: Db | Tx, indicatorId: string, lock = false) {
  let query = joinUp(
    executor
      .select({ valueType: indicators.valueType, planId: plans.id, startYear: plans.startYear, endYear: plans.endYear })
      .from(indicators)
      .$dynamic(),
    indicators,
  ).where(eq(indicators.id, indicatorId));
  // Share locks: a concurrent cascade delete of the indicator, or an approval of the plan's year,
  // waits for this write to finish (approving takes an update lock on the plan row).
  if (lock) query = query.for('share', { of: [indicators, plans] });
  const rows = await query;
  return rows[0];
}

/** An indicator's measurements in a year range, by year (one per year: the year alone is the key). */
export function measurementList(indicatorId: string, q: { yearFrom?: number; yearTo?: number }) {
  const where = [
    eq(measurements.indicatorId, indicatorId),
    q.yearFrom !== undefined ? gte(measurements.year, q.yearFrom) : undefined,
    q.yearTo !== undefined ? lte(measurements.year, q.yearTo) : undefined,
  ];
  return {
    where,
    list: tableList({ table: measurements, where, orderBy: [measurements.year], toDto: toMeasurementDto }),
  };
}

export async function findMeasurement(executor: Db | Tx, indicatorId: string, year: number, forUpdate = false) {
  let query = executor
    .select()
    .from(measurements)
    .where(and(eq(measurements.indicatorId, indicatorId), eq(measurements.year, year)))
    .$dynamic();
  if (forUpdate) query = query.for('update');
  return (await query)[0];
}

export interface MeasurementValues {
  plan: number | null;
  fact: number | null;
  ratingSize: number | null;
  score: number | null;
  note: Measurement['note'];
}

/** Insert or replace; `created` tells which (xmax = 0 only for a freshly inserted tuple). */
export async function upsertMeasurement(tx: Tx, indicatorId: string, year: number, v: MeasurementValues) {
  const values = {
    plan: numberToDecimal(v.plan),
    fact: numberToDecimal(v.fact),
    ratingSize: v.ratingSize,
    score: numberToDecimal(v.score),
    note: v.note,
  };
  const [row] = await tx
    .insert(measurements)
    .values({ indicatorId, year, ...values })
    .onConflictDoUpdate({
      target: [measurements.indicatorId, measurements.year],
      set: { ...values, version: sql`${measurements.version} + 1`, updatedAt: sql`now()` },
    })
    .returning({ ...getTableColumns(measurements), created: sql<boolean>`(xmax = 0)` });
  return row!;
}

export async function deleteMeasurement(tx: Tx, indicatorId: string, year: number) {
  await tx.delete(measurements).where(and(eq(measurements.indicatorId, indicatorId), eq(measurements.year, year)));
}
