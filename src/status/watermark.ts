/**
 * The watermark for an ETag on the streamed status export (GET /status?format=csv|xlsx), for
 * src/http/export-etag.ts, computed in src/exports/status.ts before streaming from the same `db`
 * the export reads (the replica when DATABASE_READ_URL is set: a watermark from the primary could
 * be newer than the replica's file and make a 304 stale).
 *
 * It covers a superset of what the read model's rows (read-model.ts) are computed from, under the
 * same StatusFilter, so it never misses a change whatever shape the export's query takes: every
 * indicator under the filter (with its goal, direction and plan stamps), its measurements of the
 * year and the year before (trend, previous percentile), the organizations (their codes and names
 * are cells of the rows), and the plans' approvals of the year.
 * ?status= is ignored (a derived status moves only when those do).
 */
import type { SQL } from 'drizzle-orm';
import { and, eq, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { Db } from '../db/client.js';
import { joinUpSql } from '../db/plan-tree.js';
import {
  directions,
  evaluationMethodVersions,
  goals,
  indicators,
  measurements,
  organizations,
  plans,
  yearApprovals,
} from '../db/schema.js';
import { changeWatermark } from '../lists/watermark.js';
import type { StatusFilter } from './read-model.js';
import { bindValues, filterConditions } from './read-model.js';

const stamps = (...columns: AnyPgColumn[]) => columns.map((c) => sql`${c}`);
const where = (...conditions: (SQL | undefined)[]) => and(sql`true`, ...conditions)!;

export async function statusExportWatermark(db: Db, filter: StatusFilter): Promise<string> {
  const onTree = (f: StatusFilter) => filterConditions(f, bindValues(f)).filter((c) => c !== undefined);
  const { organizationId, planId, indicatorId, valueType, goalId, directionId, code } = filter;
  // Every filter on the tree (yearFrom/yearTo narrow years only: all years of the indicators are a superset).
  const indicatorFilter = onTree({ organizationId, planId, indicatorId, valueType, goalId, directionId, code });
  const planFilter = onTree({ organizationId: filter.organizationId, planId: filter.planId });
  const years =
    filter.year !== undefined ? sql`${measurements.year} in (${filter.year}, ${filter.year - 1})` : undefined;
  const tree = sql`from ${indicators} ${joinUpSql(indicators)}`;
  const marks = await Promise.all([
    // Without a filter every row of each table is in the superset, so the tables need not be joined
    // (a third of the export's time before its first byte at 1M measurements, measured).
    ...(indicatorFilter.length === 0
      ? [
          changeWatermark(db, stamps(indicators.changeXid), sql`from ${indicators}`),
          changeWatermark(
            db,
            stamps(goals.changeXid, directions.changeXid, plans.changeXid),
            sql`from ${goals} ${joinUpSql(goals)}`,
          ),
          changeWatermark(db, stamps(measurements.changeXid), sql`from ${measurements} where ${where(years)}`),
        ]
      : [
          changeWatermark(
            db,
            stamps(indicators.changeXid, goals.changeXid, directions.changeXid, plans.changeXid),
            sql`${tree} where ${where(...indicatorFilter)}`,
          ),
          changeWatermark(
            db,
            stamps(measurements.changeXid),
            sql`${tree} inner join ${measurements} on ${eq(measurements.indicatorId, indicators.id)} where ${where(...indicatorFilter, years)}`,
          ),
        ]),
    // The organizations' codes and names are cells of every row (issue 15): the one of the filter, or every one.
    changeWatermark(
      db,
      stamps(organizations.changeXid),
      sql`from ${organizations} where ${where(filter.organizationId !== undefined ? eq(organizations.id, filter.organizationId) : undefined)}`,
    ),
    changeWatermark(
      db,
      stamps(yearApprovals.changeXid),
      sql`from ${yearApprovals} inner join ${plans} on ${eq(plans.id, yearApprovals.planId)}
        where ${where(...planFilter, filter.year !== undefined ? eq(yearApprovals.year, filter.year) : undefined)}`,
    ),
    // Evaluation methods (issue 18): a method change writes a version row and touches no plan row, yet moves degrees and bands.
    changeWatermark(
      db,
      [sql`extract(epoch from ${evaluationMethodVersions.createdAt})::numeric`],
      sql`from ${evaluationMethodVersions}`,
    ),
  ]);
  return marks.join('|');
}
