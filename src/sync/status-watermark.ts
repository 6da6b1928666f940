/**
 * The watermark for an ETag on the streamed status feed export (GET /status?format=csv|xlsx),
 * for src/http/export-etag.ts, computed in src/exports/status.ts before streaming from the same `db`
 * the export reads (the replica when DATABASE_READ_URL is set: a watermark from the primary could
 * be newer than the replica's file and make a 304 stale).
 *
 * It covers a superset of what a status row is computed from, so it never misses a change whatever
 * shape the feed query takes: every indicator under the filters (with its goal, direction and plan
 * stamps), its measurements of the year and the year before (trend, previous percentile), and the
 * plans' approvals of the year. ?status= is ignored (a derived status moves only when those do).
 */
import { sql } from 'drizzle-orm';
import type { SQL } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { changeWatermark } from '../http/export-etag.js';

export interface StatusWatermarkFilters {
  year?: number;
  organizationId?: string;
  planId?: string;
  valueType?: 'percent' | 'number' | 'rank';
}

export async function statusExportWatermark(db: Db, f: StatusWatermarkFilters): Promise<string> {
  const planFilter = (p: string): SQL =>
    sql.join(
      [
        sql`true`,
        f.organizationId ? sql`${sql.raw(p)}.organization_id = ${f.organizationId}` : undefined,
        f.planId ? sql`${sql.raw(p)}.id = ${f.planId}` : undefined,
      ].filter((c): c is SQL => c !== undefined),
      sql` and `,
    );
  const tree = sql`from indicators i join goals g on g.id = i.goal_id join directions d on d.id = g.direction_id join plans p on p.id = d.plan_id`;
  const indicatorFilter = sql`${planFilter('p')} ${f.valueType ? sql`and i.value_type = ${f.valueType}` : sql``}`;
  const years = f.year !== undefined ? sql`and m.year in (${f.year}, ${f.year - 1})` : sql``;
  // Without a filter every row of each table is in the superset, so the tables need not be joined
  // (a third of the export's time before its first byte at 1M measurements, measured).
  const unfiltered = !f.organizationId && !f.planId && !f.valueType;
  const marks = await Promise.all([
    ...(unfiltered
      ? [
          changeWatermark(db, [sql`change_xid`], sql`from indicators`),
          changeWatermark(db, [sql`g.change_xid`, sql`d.change_xid`, sql`p.change_xid`], sql`from goals g join directions d on d.id = g.direction_id join plans p on p.id = d.plan_id`),
          changeWatermark(db, [sql`m.change_xid`], sql`from measurements m ${f.year !== undefined ? sql`where m.year in (${f.year}, ${f.year - 1})` : sql``}`),
        ]
      : [
          changeWatermark(db, [sql`i.change_xid`, sql`g.change_xid`, sql`d.change_xid`, sql`p.change_xid`], sql`${tree} where ${indicatorFilter}`),
          changeWatermark(db, [sql`m.change_xid`], sql`${tree} join measurements m on m.indicator_id = i.id where ${indicatorFilter} ${years}`),
        ]),
    changeWatermark(
      db,
      [sql`a.change_xid`],
      sql`from year_approvals a join plans p on p.id = a.plan_id where ${planFilter('p')} ${f.year !== undefined ? sql`and a.year = ${f.year}` : sql``}`,
    ),
  ]);
  return marks.join('|');
}
