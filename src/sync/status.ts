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
import type { SQL } from 'drizzle-orm';
import { and, asc, eq, gte, lt, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { directions, goals, indicators, measurements, plans, syncDeletions, yearApprovals } from '../db/schema.js';
import { iso } from '../shared/decimal.js';
import { indicatorColumns, previous } from '../status/queries.js';
import type { SyncPosition } from './cursor.js';
import { afterPosition, decodeSyncCursor, snapshotXmin, syncPage } from './cursor.js';
import { assertWithinRetention } from './retention.js';


export const StatusTombstone = z
  .object({
    indicatorId: z.uuid(),
    year: z.number().int(),
    deleted: z.literal(true).describe('Always true: this row left the feed.'),
    updatedAt: z.iso.datetime().describe('When it was deleted.'),
  })
  .meta({ id: 'StatusTombstone', description: 'A status row whose measurement was deleted (incremental sync only).' });

export interface StatusSyncFilters {
  year?: number;
  organizationId?: string;
  planId?: string;
  valueType?: 'percent' | 'number' | 'rank';
  since?: string;
  cursor?: string;
  limit: number;
}

const maxXid = (q: SQL) => sql`coalesce((${q}), 0)`;

export async function statusSync(db: Db, f: StatusSyncFilters) {
  const position: SyncPosition | undefined = f.cursor ? decodeSyncCursor(f.cursor, ['int', 'uuid']) : undefined;
  const watermark = await snapshotXmin(db);
  const since = f.since ? new Date(f.since) : undefined;

  const prevDeleted = sql`(select max(sd.change_xid) from ${syncDeletions} sd where sd.entity_type = 'measurement' and sd.parent_id = ${indicators.id} and sd.year = ${measurements.year} - 1)`;
  const prevDeletedAt = sql`(select max(sd.deleted_at) from ${syncDeletions} sd where sd.entity_type = 'measurement' and sd.parent_id = ${indicators.id} and sd.year = ${measurements.year} - 1)`;
  const reopened = sql`(select max(sd.change_xid) from ${syncDeletions} sd where sd.entity_type = 'year_approval' and sd.parent_id = ${plans.id} and sd.year = ${measurements.year})`;
  const reopenedAt = sql`(select max(sd.deleted_at) from ${syncDeletions} sd where sd.entity_type = 'year_approval' and sd.parent_id = ${plans.id} and sd.year = ${measurements.year})`;
  const pos = sql<string>`greatest(${measurements.changeXid}, ${indicators.changeXid}, ${plans.changeXid}, coalesce(${previous.changeXid}, 0), coalesce(${yearApprovals.changeXid}, 0), ${maxXid(prevDeleted)}, ${maxXid(reopened)})`;
  const changedAt = sql`greatest(${measurements.updatedAt}, ${indicators.updatedAt}, ${plans.updatedAt}, ${previous.updatedAt}, ${yearApprovals.updatedAt}, ${prevDeletedAt}, ${reopenedAt})`;

  const live = db
    .select({
      ...indicatorColumns,
      directionId: goals.directionId,
      planId: directions.planId,
      organizationId: plans.organizationId,
      year: measurements.year,
      approved: sql<boolean>`(${yearApprovals.id} is not null)`,
      pos: pos.mapWith(Number),
    })
    .from(measurements)
    .innerJoin(indicators, eq(indicators.id, measurements.indicatorId))
    .innerJoin(goals, eq(goals.id, indicators.goalId))
    .innerJoin(directions, eq(directions.id, goals.directionId))
    .innerJoin(plans, eq(plans.id, directions.planId))
    .leftJoin(previous, and(eq(previous.indicatorId, indicators.id), eq(previous.year, sql`${measurements.year} - 1`)))
    .leftJoin(yearApprovals, and(eq(yearApprovals.planId, plans.id), eq(yearApprovals.year, measurements.year)))
    .where(
      and(
        f.year !== undefined ? eq(measurements.year, f.year) : undefined,
        f.organizationId ? eq(plans.organizationId, f.organizationId) : undefined,
        f.planId ? eq(plans.id, f.planId) : undefined,
        f.valueType ? eq(indicators.valueType, f.valueType) : undefined,
        sql`${pos} < ${watermark}`,
        since ? sql`${changedAt} >= ${since.toISOString()}::timestamptz` : undefined,
        afterPosition(pos, [measurements.year, measurements.indicatorId], position, ['int', 'uuid']),
      ),
    )
    .orderBy(sql`${pos}`, asc(measurements.year), asc(measurements.indicatorId))
    .limit(f.limit + 1);

  // Tombstones of indicators that still exist honour the filters; those of deleted indicators
  // cannot be placed and always come (deleting an unknown row is a no-op for the client).
  const filters = [
    f.organizationId ? sql`p2.organization_id = ${f.organizationId}` : undefined,
    f.planId ? sql`p2.id = ${f.planId}` : undefined,
    f.valueType ? sql`i2.value_type = ${f.valueType}` : undefined,
  ].filter((c): c is SQL => c !== undefined);
  const outsideFilters =
    filters.length === 0
      ? undefined
      : sql`not exists (select 1 from ${indicators} i2 join ${goals} g2 on g2.id = i2.goal_id join ${directions} d2 on d2.id = g2.direction_id
          join ${plans} p2 on p2.id = d2.plan_id where i2.id = ${syncDeletions.parentId} and not (${sql.join(filters, sql` and `)}))`;
  const dead = db
    .select()
    .from(syncDeletions)
    .where(
      and(
        eq(syncDeletions.entityType, 'measurement'),
        f.year !== undefined ? eq(syncDeletions.year, f.year) : undefined,
        lt(syncDeletions.changeXid, watermark),
        since ? gte(syncDeletions.deletedAt, since) : undefined,
        afterPosition(syncDeletions.changeXid, [syncDeletions.year, syncDeletions.parentId], position, ['int', 'uuid']),
        sql`not exists (select 1 from ${measurements} m2 where m2.indicator_id = ${syncDeletions.parentId} and m2.year = ${syncDeletions.year})`,
        outsideFilters,
      ),
    )
    .orderBy(asc(syncDeletions.changeXid), asc(syncDeletions.year), asc(syncDeletions.parentId))
    .limit(f.limit + 1);

  const [liveRows, deadRows] = await Promise.all([live, dead]);
  await assertWithinRetention(db, since, position);
  type LiveRow = (typeof liveRows)[number];
  type Item = { xid: number; key: (string | number)[]; live?: LiveRow; tombstone?: z.infer<typeof StatusTombstone> };
  const page = syncPage<Item>(
    liveRows.map((row) => ({ xid: row.pos, key: [row.year, row.indicatorId], live: row })),
    deadRows.map((d) => ({
      xid: d.changeXid,
      key: [d.year!, d.parentId!],
      tombstone: { indicatorId: d.parentId!, year: d.year!, deleted: true as const, updatedAt: iso(d.deletedAt) },
    })),
    f.limit,
    watermark,
    position,
  );
  return page;
}
