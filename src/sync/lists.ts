/** The sync mode of the entity lists (see cursor.ts for why it is correct under concurrent writes). */
import type { SQL } from 'drizzle-orm';
import { and, asc, eq, gte, lt } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Db } from '../db/client.js';
import { syncDeletions } from '../db/schema.js';
import type { SyncPosition } from './cursor.js';
import { afterPosition, decodeSyncCursor, snapshotXmin, syncPage } from './cursor.js';
import { assertWithinRetention } from './retention.js';
import { iso } from '../shared/decimal.js';

export type SyncTable = PgTable & { id: AnyPgColumn; changeXid: AnyPgColumn; updatedAt: AnyPgColumn };

export function isSyncTable<T extends PgTable>(table: T): table is T & SyncTable {
  return (table as unknown as Record<string, unknown>).changeXid !== undefined;
}

export interface SyncListOptions<T extends SyncTable, Dto, Tombstone> {
  table: T;
  /** entity_type of its tombstones, e.g. "plan". */
  entityType: string;
  /** Conditions on live rows (filters and the parent). */
  liveConditions: (SQL | undefined)[];
  /** Conditions on tombstones (the parent, a year range). */
  deadConditions: (SQL | undefined)[];
  since?: string;
  cursor?: string;
  limit: number;
  toDto: (row: T['$inferSelect']) => Dto;
  toTombstone: (row: typeof syncDeletions.$inferSelect) => Tombstone;
}

export async function syncList<T extends SyncTable, Dto, Tombstone>(db: Db, o: SyncListOptions<T, Dto, Tombstone>) {
  const position: SyncPosition | undefined = o.cursor ? decodeSyncCursor(o.cursor, ['uuid']) : undefined;
  const watermark = await snapshotXmin(db);
  const since = o.since ? new Date(o.since) : undefined;
  // drizzle cannot follow a generic table through select(): read it as the PgTable it is; its rows
  // are the table's select model (src/lists/table.ts does the same).
  const table: PgTable = o.table;
  const [live, dead] = await Promise.all([
    db
      .select()
      .from(table)
      .where(
        and(
          ...o.liveConditions,
          lt(o.table.changeXid, watermark),
          since ? gte(o.table.updatedAt, since) : undefined,
          afterPosition(o.table.changeXid, [o.table.id], position, ['uuid']),
        ),
      )
      .orderBy(asc(o.table.changeXid), asc(o.table.id))
      .limit(o.limit + 1),
    db
      .select()
      .from(syncDeletions)
      .where(
        and(
          eq(syncDeletions.entityType, o.entityType),
          ...o.deadConditions,
          lt(syncDeletions.changeXid, watermark),
          since ? gte(syncDeletions.deletedAt, since) : undefined,
          afterPosition(syncDeletions.changeXid, [syncDeletions.entityId], position, ['uuid']),
        ),
      )
      .orderBy(asc(syncDeletions.changeXid), asc(syncDeletions.entityId))
      .limit(o.limit + 1),
  ]);
  // After the reads: see retention.ts for why that order catches a concurrent prune.
  await assertWithinRetention(db, since, position);
  type Item = { xid: number; key: string[]; value: (Dto & { deleted: false }) | Tombstone };
  const liveItems: Item[] = live.map((row: T['$inferSelect']) => ({
    xid: Number(row.changeXid),
    key: [String(row.id)],
    value: { ...o.toDto(row), deleted: false as const },
  }));
  const deadItems: Item[] = dead.map((row) => ({ xid: row.changeXid, key: [row.entityId], value: o.toTombstone(row) }));
  const result = syncPage(liveItems, deadItems, o.limit, watermark, position);
  return { items: result.items.map((i) => i.value), nextCursor: result.nextCursor, syncCursor: result.syncCursor };
}

/** A tombstone of a per-plan-year row (a year approval, an analytical note): its plan and year. */
export const planYearTombstone = (d: typeof syncDeletions.$inferSelect) => ({
  id: d.entityId,
  deleted: true as const,
  updatedAt: iso(d.deletedAt),
  planId: d.parentId!,
  year: d.year,
});

/** Incremental sync of one plan's per-year rows: the plan's live rows, and the tombstones filed under it. */
export function planYearSync<T extends SyncTable, Dto extends object>(
  db: Db,
  o: Pick<SyncListOptions<T, Dto, never>, 'table' | 'entityType' | 'toDto' | 'since' | 'cursor' | 'limit'> & {
    planColumn: AnyPgColumn;
    planId: string;
  },
) {
  const { planColumn, planId, ...rest } = o;
  return syncList(db, {
    ...rest,
    liveConditions: [eq(planColumn, planId)],
    deadConditions: [eq(syncDeletions.parentId, planId)],
    toTombstone: planYearTombstone,
  });
}
