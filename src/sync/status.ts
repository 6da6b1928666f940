/**
 * Incremental sync of the flat status feed (GET /status?updatedSince=). See cursor.ts for the
 * cursor's correctness argument; here a row is one stored measurement (indicator, year) and its
 * position is the latest change among what its status is computed from: the measurement, the
 * previous year's measurement (or its deletion), the indicator, its plan (which may move to another
 * organization), and the year's approval (or its reopening). Any of those changing moves the row past every cursor already handed out.
 * A deleted measurement gives a tombstone { indicatorId, year, deleted: true, updatedAt }, unless
 * the measurement exists again (then its live row, at a later position, replaces it). Tombstones
 * honour ?organizationId, ?planId and ?valueType while the indicator exists; once it is deleted
 * too they cannot be placed and come unfiltered.
 */
import { and, asc, eq, gte, lt, lte, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { joinUpSql } from '../db/plan-tree.js';
import { indicators, measurements, syncDeletions } from '../db/schema.js';
import { iso } from '../shared/decimal.js';
import type { StatusFilter, StatusFrame } from '../status/read-model.js';
import {
  bindValues,
  filterConditions,
  readStatus,
  statusChangedAt,
  statusChangePosition,
  statusViewColumns,
  statusFilterOf,
} from '../status/read-model.js';
import type { SyncPosition } from './cursor.js';
import { afterPosition, decodeSyncCursor, snapshotXmin, syncPage } from './cursor.js';
import { assertWithinRetention } from './retention.js';
import { Year } from '../shared/schemas.js';

export const StatusTombstone = z
  .object({
    indicatorId: z.uuid(),
    year: Year,
    deleted: z.literal(true).describe('Always true: this row left the feed.'),
    updatedAt: z.iso.datetime().describe('When it was deleted.'),
  })
  .meta({ id: 'StatusTombstone', description: 'A status row whose measurement was deleted (incremental sync only).' });

/** The read model's filter (not ?status=: a row leaving it would go unnoticed) and the sync's position. */
export interface StatusSyncPage {
  filter: Omit<StatusFilter, 'status'>;
  since?: string;
  cursor?: string;
  limit: number;
}

/** A status row with its change position. */
const syncColumns = (frame: StatusFrame) => ({
  ...statusViewColumns(frame),
  pos: sql<number>`(${statusChangePosition})::float8`,
});

export async function statusSync(db: Db, page: StatusSyncPage) {
  const f = statusFilterOf(page.filter);
  const position: SyncPosition | undefined = page.cursor ? decodeSyncCursor(page.cursor, ['int', 'uuid']) : undefined;
  const watermark = await snapshotXmin(db);
  const since = page.since ? new Date(page.since) : undefined;

  // Stored measurements only (a year's unmeasured indicators have nothing to sync), in change order.
  const live = readStatus(db, {
    columns: syncColumns,
    filter: f,
    rows: 'measured',
    order: { by: 'change' },
    where: [
      sql`${statusChangePosition} < ${watermark}`,
      since ? sql`${statusChangedAt} >= ${since.toISOString()}::timestamptz` : undefined,
      afterPosition(statusChangePosition, [measurements.year, measurements.indicatorId], position, ['int', 'uuid']),
    ],
    limit: page.limit + 1,
  });

  // Tombstones of indicators that still exist honour the filters; those of deleted indicators
  // cannot be placed and always come (deleting an unknown row is a no-op for the client).
  // The years (year, and issue 15's yearFrom/yearTo) apply to the deletion's own year below.
  const placed = filterConditions(
    { ...f, year: undefined, yearFrom: undefined, yearTo: undefined },
    bindValues(f),
  ).filter((c) => c !== undefined);
  const outsideFilters =
    placed.length === 0
      ? undefined
      : sql`not exists (select 1 from ${indicators} ${joinUpSql(indicators)} where ${indicators.id} = ${syncDeletions.parentId} and not (${and(...placed)}))`;
  const dead = db
    .select()
    .from(syncDeletions)
    .where(
      and(
        eq(syncDeletions.entityType, 'measurement'),
        f.year !== undefined ? eq(syncDeletions.year, f.year) : undefined,
        f.yearFrom !== undefined ? gte(syncDeletions.year, f.yearFrom) : undefined,
        f.yearTo !== undefined ? lte(syncDeletions.year, f.yearTo) : undefined,
        lt(syncDeletions.changeXid, watermark),
        since ? gte(syncDeletions.deletedAt, since) : undefined,
        afterPosition(syncDeletions.changeXid, [syncDeletions.year, syncDeletions.parentId], position, ['int', 'uuid']),
        sql`not exists (select 1 from ${measurements} m2 where m2.indicator_id = ${syncDeletions.parentId} and m2.year = ${syncDeletions.year})`,
        outsideFilters,
      ),
    )
    .orderBy(asc(syncDeletions.changeXid), asc(syncDeletions.year), asc(syncDeletions.parentId))
    .limit(page.limit + 1);

  const [liveRows, deadRows] = await Promise.all([live, dead]);
  await assertWithinRetention(db, since, position);
  type LiveRow = (typeof liveRows)[number];
  type Item = { xid: number; key: (string | number)[]; live?: LiveRow; tombstone?: z.infer<typeof StatusTombstone> };
  return syncPage<Item>(
    liveRows.map((row) => ({ xid: row.pos, key: [row.year, row.indicatorId], live: row })),
    deadRows.map((d) => ({
      xid: d.changeXid,
      key: [d.year!, d.parentId!],
      tombstone: { indicatorId: d.parentId!, year: d.year!, deleted: true as const, updatedAt: iso(d.deletedAt) },
    })),
    page.limit,
    watermark,
    position,
  );
}
