/**
 * Incremental sync: `?updatedSince=` on the lists and the status feed returns what changed,
 * deletions included, and a cursor that neither skips nor repeats rows while others write.
 *
 * Why not page by updated_at: updated_at is the writing transaction's start time, and a
 * transaction can commit after a reader already paged past that time; the row is then behind the
 * reader's cursor forever. The same happens with any counter taken while the writer runs
 * (sequence values are handed out in one order and committed in another).
 *
 * What we do instead:
 *  - Every synced row carries `change_xid`, the id (xid8 as bigint; 64-bit, never wraps) of the
 *    last transaction that inserted or updated it, set by a trigger; every delete leaves a
 *    tombstone in `sync_deletions` stamped the same way (migration 0005_sync_triggers).
 *  - A reader first takes X = pg_snapshot_xmin(pg_current_snapshot()): every transaction with an
 *    id below X has finished (committed or aborted) and no new transaction can get an id below X.
 *    So the set of rows with change_xid < X is final: nothing can join it later. The reader
 *    serves only those, ordered by (change_xid, key), and pages with a keyset cursor on that order.
 *    Rows of transactions still running (or of later ones) have change_xid >= X and come on a
 *    later page or a later sync, after the cursor, never behind it.
 *  - A row changed again after it was served gets a larger change_xid and is served again at its
 *    new version (that is the point); it is never served twice at the same version.
 *  - On the last page `syncCursor` is ["sync", X]: "everything below X was seen". Passing it as
 *    ?cursor= next time resumes exactly there, with no clock involved.
 * Works on PostgreSQL 13+ and PGlite (single connection: there X is simply the next xid).
 * Liveness note: X is cluster-wide, so a long-running transaction anywhere on the server delays
 * (never loses) newer changes until it ends.
 */
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import type { Tx } from '../db/tx.js';
import { encodeCursor } from '../lists/cursor.js';
import { invalid } from '../shared/errors.js';
import { Instant, TotalField, Uuid } from '../shared/schemas.js';

export const UpdatedSince = Instant.describe(
  'Incremental sync: only rows changed (created, updated or deleted) at or after this instant (ISO 8601 with offset). ' +
    'Deleted rows come as tombstones `{ id, deleted: true, updatedAt, ... }` (updatedAt is the deletion time). ' +
    'Items are ordered by commit order (not by updatedAt); follow nextCursor, then keep `syncCursor` of the last page ' +
    'and pass it as ?cursor= next time: nothing committed in between is skipped, however late it commits. ' +
    'A first sync (or a resync after 410) starts at 1970-01-01T00:00:00Z: every live row. Lists with tombstones answer 410 Gone ' +
    'to any later instant before the tombstone retention horizon (SYNC_TOMBSTONE_RETENTION_DAYS, default 90): resync from scratch.',
);

export const syncListDescription =
  ' With ?updatedSince= (or a cursor from a previous sync) the list switches to incremental sync: changed rows and ' +
  'tombstones of deleted ones, in commit order; a row changed while you page comes again at its newer version, later. ' +
  'Filters other than the parent apply to live rows only (tombstones are never filtered out by them). Tombstones are kept ' +
  'SYNC_TOMBSTONE_RETENTION_DAYS (default 90): an updatedSince before the pruning horizon, or a cursor older than the newest ' +
  'pruned deletion, answers 410 Gone; then list again without updatedSince and cursor.';

export const SyncCursorField = z
  .string()
  .nullable()
  .optional()
  .describe('Incremental sync only: pass as ?cursor= on your next sync to get exactly what changed after this answer.');

export function tombstoneOf(name: string, fields: z.ZodRawShape = {}) {
  return z
    .object({
      id: Uuid,
      deleted: z.literal(true).describe('Always true: this row was deleted.'),
      updatedAt: z.iso.datetime().describe('When it was deleted.'),
      ...fields,
    })
    .meta({ id: `${name}Tombstone`, description: `A deleted ${name.toLowerCase()} (incremental sync only).` });
}

/**
 * What tells a live row of a sync answer from a tombstone (`deleted: true`): `deleted: false`. The
 * ordinary list pages share the schema and leave it out.
 */
export const LiveRowMarker = z
  .object({
    deleted: z
      .literal(false)
      .optional()
      .describe('false on the live rows of an incremental sync; absent from ordinary list pages.'),
  })
  .meta({ id: 'LiveRowMarker', description: 'Marks a live row in an incremental sync answer, beside tombstones.' });

/** `{ items: (Entity & { deleted?: false } | Tombstone)[], nextCursor, syncCursor? }`. */
export function syncListOf<E extends z.ZodType, T extends z.ZodType>(entity: E, tombstone: T) {
  return z.object({
    items: z.array(z.union([z.intersection(entity, LiveRowMarker), tombstone])),
    nextCursor: z.string().nullable().describe('Pass as ?cursor= for the next page; null on the last page.'),
    total: TotalField,
    syncCursor: SyncCursorField,
  });
}

/** Every transaction with a smaller id has finished; see the file comment. */
export async function snapshotXmin(db: Db | Tx): Promise<number> {
  const result = (await db.execute(sql`select pg_snapshot_xmin(pg_current_snapshot())::text as xmin`)) as unknown as {
    rows: { xmin: string }[];
  };
  return Number(result.rows[0]!.xmin);
}

export interface SyncPosition {
  /** Everything with change_xid < xid, or with (change_xid, key) <= (xid, key) when key is set, was seen. */
  xid: number;
  key?: (string | number)[];
}

/** Sync cursors start with "sync"; other cursors are the lists' ordinary keyset cursors. */
export function isSyncCursor(cursor: string | undefined): boolean {
  if (!cursor) return false;
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    // ["sync", <xid>, ...]: an ordinary cursor may start with a code "sync", never followed by an integer.
    return Array.isArray(v) && v[0] === 'sync' && Number.isSafeInteger(v[1]);
  } catch {
    return false;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `keyTypes`: the SQL types of the key after change_xid, e.g. ['uuid'] or ['int', 'uuid']. */
export function decodeSyncCursor(cursor: string, keyTypes: ('uuid' | 'int')[]): SyncPosition {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (Array.isArray(v) && v[0] === 'sync' && Number.isSafeInteger(v[1]) && (v[1] as number) >= 0) {
      const key = v.slice(2);
      if (key.length === 0) return { xid: v[1] as number };
      const keyOk =
        key.length === keyTypes.length &&
        key.every((k, i) => (keyTypes[i] === 'uuid' ? typeof k === 'string' && UUID.test(k) : Number.isSafeInteger(k)));
      if (keyOk) return { xid: v[1] as number, key: key as (string | number)[] };
    }
  } catch {
    // fall through
  }
  throw invalid('The cursor is not valid for this list; start again without it.', [
    { path: 'query.cursor', message: 'invalid cursor' },
  ]);
}

export const encodeSyncCursor = (p: SyncPosition) => encodeCursor(['sync', p.xid, ...(p.key ?? [])]);

export interface Sortable {
  xid: number;
  key: (string | number)[];
}

export function compareSortable(a: Sortable, b: Sortable): number {
  if (a.xid !== b.xid) return a.xid - b.xid;
  for (let i = 0; i < a.key.length; i++) {
    const x = a.key[i]!;
    const y = b.key[i]!;
    if (x === y) continue;
    return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * Merges the live rows and tombstones (each fetched ordered and limited to limit + 1) into one
 * page, with the cursors of sync mode.
 */
export function syncPage<T extends Sortable>(
  live: T[],
  dead: T[],
  limit: number,
  watermark: number,
  from?: SyncPosition,
) {
  const merged = [...live, ...dead].sort(compareSortable);
  const hasMore = merged.length > limit;
  const items = hasMore ? merged.slice(0, limit) : merged;
  const last = items[items.length - 1];
  const nextCursor = hasMore && last ? encodeSyncCursor({ xid: last.xid, key: last.key }) : null;
  // The watermark never moves backwards past where the caller already was.
  return {
    items,
    nextCursor,
    syncCursor: nextCursor ?? encodeSyncCursor({ xid: Math.max(watermark, from?.xid ?? 0) }),
  };
}

/** SQL condition "after the cursor" for a position expression and key columns. */
export function afterPosition(xidExpr: unknown, keyExprs: unknown[], p: SyncPosition | undefined, keyTypes: string[]) {
  if (!p) return undefined;
  if (!p.key) return sql`${xidExpr} >= ${p.xid}`;
  const left = sql.join([sql`${xidExpr}`, ...keyExprs.map((k) => sql`${k}`)], sql`, `);
  const right = sql.join([sql`${p.xid}::bigint`, ...p.key.map((v, i) => sql`${v}::${sql.raw(keyTypes[i]!)}`)], sql`, `);
  return sql`(${left}) > (${right})`;
}
