/** The sync mode of the entity lists (see cursor.ts for why it is correct under concurrent writes). */
import type { SQL } from 'drizzle-orm';
import { and, asc, eq, gte, lt } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Db } from '../db/client.js';
import { syncDeletions } from '../db/schema.js';
import type { SyncPosition } from './cursor.js';
import { afterPosition, decodeSyncCursor, snapshotXmin, syncPage } from './cursor.js';
import { assertWithinRetention } from './retention.js';

type SyncTable = PgTable & { id: AnyPgColumn; changeXid: AnyPgColumn; updatedAt: AnyPgColumn };
type Row = Record<string, unknown> & { id: string; changeXid: number };

export function isSyncTable(table: PgTable): table is SyncTable {
  return (table as unknown as Record<string, unknown>).changeXid !== undefined;
}

export interface SyncListOptions<Dto> {
  table: SyncTable;
  /** entity_type of its tombstones, e.g. "plan". */
  entityType: string;
  /** Conditions on live rows (filters and the parent). */
  liveConditions: (SQL | undefined)[];
  /** Conditions on tombstones (the parent, a year range). */
  deadConditions: (SQL | undefined)[];
  since?: string;
  cursor?: string;
  limit: number;
  toDto: (row: Row) => Dto;
  toTombstone: (row: typeof syncDeletions.$inferSelect) => Record<string, unknown>;
}

export async function syncList<Dto>(db: Db, o: SyncListOptions<Dto>) {
  const anyDb = db as unknown as AnyDb;
  const position: SyncPosition | undefined = o.cursor ? decodeSyncCursor(o.cursor, ['uuid']) : undefined;
  const watermark = await snapshotXmin(db);
  const since = o.since ? new Date(o.since) : undefined;
  const [live, dead] = await Promise.all([
    anyDb
      .select()
      .from(o.table)
      .where(
        and(
          ...o.liveConditions,
          lt(o.table.changeXid, watermark),
          since ? gte(o.table.updatedAt, since) : undefined,
          afterPosition(o.table.changeXid, [o.table.id], position, ['uuid']),
        ),
      )
      .orderBy(asc(o.table.changeXid), asc(o.table.id))
      .limit(o.limit + 1) as Promise<Row[]>,
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
  type Item = { xid: number; key: string[]; value: unknown };
  const liveItems: Item[] = live.map((row) => ({ xid: Number(row.changeXid), key: [row.id], value: { ...(o.toDto(row) as object), deleted: false } as Dto }));
  const deadItems: Item[] = dead.map((row) => ({ xid: row.changeXid, key: [row.entityId], value: o.toTombstone(row) }));
  const result = syncPage(liveItems, deadItems, o.limit, watermark, position);
  return { items: result.items.map((i) => i.value), nextCursor: result.nextCursor, syncCursor: result.syncCursor };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- drizzle generics do not survive a generic table
type AnyDb = any;
