/**
 * Tombstone retention. Deletions are kept SYNC_TOMBSTONE_RETENTION_DAYS, then pruned, so
 * sync_deletions does not grow forever. A client whose last sync is older than what was pruned
 * could miss deletions; rather than answer it silently incomplete, its sync answers 410 Gone and
 * it starts again from scratch (a full sync: updatedSince at the epoch, see FULL_SYNC_SINCE).
 *
 * The horizon is recorded by the pruner itself (table sync_horizon, one row), in the same
 * transaction as the delete, so readers need no configuration and no clock:
 *  - prunedBefore: the cutoff of the last prune that deleted something. An updatedSince before it
 *    answers 410 (even if nothing between it and the cutoff was deleted: the answer does not depend
 *    on which tombstones happened to be pruned). A prune that deleted nothing moves nothing: until
 *    a tombstone is really pruned (a brand-new database, say) no sync is refused.
 *  - prunedXid: the largest change_xid among pruned tombstones. A sync cursor at or below it
 *    answers 410: a pruned tombstone may lie after it. Cursors after it lost nothing.
 * Readers check the horizon after reading their rows: a prune that removed a tombstone they
 * needed committed before their read, so the check sees its horizon.
 */
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { syncHorizon } from '../db/schema.js';
import { GoneError } from '../shared/errors.js';
import type { SyncPosition } from './cursor.js';

export const DAY_MS = 86_400_000;

/**
 * `updatedSince` at the epoch (1970-01-01T00:00:00Z) starts a first, full sync: every live row,
 * then a syncCursor to continue from. A client that holds nothing cannot miss a deletion, so the
 * retention horizon does not apply to it; this is also how a client answered 410 starts again.
 */
export const FULL_SYNC_SINCE = '1970-01-01T00:00:00Z';

export function resyncRequired(what: string): GoneError {
  return new GoneError(
    `${what} is older than the tombstone retention horizon: deletions since then were pruned. Resync from scratch: drop what you hold and sync with updatedSince=${FULL_SYNC_SINCE} (every live row), then continue from its syncCursor.`,
  );
}

export async function readHorizon(db: Db) {
  const rows = await db.select().from(syncHorizon).where(eq(syncHorizon.id, 1));
  return rows[0] ?? { id: 1, prunedXid: 0, prunedBefore: null };
}

/** 410 when a sync from `since` / `position` may need a pruned tombstone. */
export async function assertWithinRetention(db: Db, since: Date | undefined, position: SyncPosition | undefined) {
  if (!since && !position) return;
  const horizon = await readHorizon(db);
  if (since && since.getTime() > 0 && horizon.prunedBefore && since < horizon.prunedBefore)
    throw resyncRequired('updatedSince');
  if (position && horizon.prunedXid > 0 && position.xid <= horizon.prunedXid) throw resyncRequired('The sync cursor');
}

/**
 * Deletes tombstones older than `retentionDays` and moves the horizon, in one transaction.
 * `now` is a parameter for tests; production passes nothing.
 */
export async function pruneTombstones(db: Db, retentionDays: number, now = new Date()) {
  const cutoff = new Date(now.getTime() - retentionDays * DAY_MS);
  return db.transaction(async (tx) => {
    // Serializes concurrent prunes (replicas each run the timer): the horizon only moves forward.
    await tx.select().from(syncHorizon).where(eq(syncHorizon.id, 1)).for('update');
    const result = (await tx.execute(sql`
      with pruned as (delete from sync_deletions where deleted_at < ${cutoff.toISOString()}::timestamptz returning change_xid)
      select count(*)::int as deleted, coalesce(max(change_xid), 0)::text as max_xid from pruned`)) as unknown as {
      rows: { deleted: number; max_xid: string }[];
    };
    const deleted = Number(result.rows[0]!.deleted);
    const maxXid = Number(result.rows[0]!.max_xid);
    // Nothing pruned, nothing lost: the horizon stays where it was (nowhere, on a new database).
    if (deleted === 0) return { deleted, cutoff };
    await tx.execute(sql`
      insert into sync_horizon (id, pruned_xid, pruned_before) values (1, ${maxXid}, ${cutoff.toISOString()}::timestamptz)
      on conflict (id) do update set
        pruned_xid = greatest(sync_horizon.pruned_xid, excluded.pruned_xid),
        pruned_before = greatest(sync_horizon.pruned_before, excluded.pruned_before)`);
    return { deleted, cutoff };
  });
}

/**
 * The server's pruning timer: once soon after start, then every interval; unref'd so it never
 * keeps the process alive, and a failure (database down) is logged and retried next time.
 */
export function startPruneTimer(
  db: Db,
  o: {
    retentionDays: number;
    intervalMinutes: number;
    log: { info: (o: object, m: string) => void; warn: (o: object, m: string) => void };
  },
): () => void {
  if (o.intervalMinutes <= 0) return () => {};
  const run = async () => {
    try {
      const { deleted, cutoff } = await pruneTombstones(db, o.retentionDays);
      if (deleted > 0) o.log.info({ deleted, cutoff }, 'pruned sync tombstones');
    } catch (err) {
      o.log.warn({ err }, 'pruning sync tombstones failed; retrying at the next interval');
    }
  };
  const first = setTimeout(run, 5_000);
  const every = setInterval(run, o.intervalMinutes * 60_000);
  first.unref();
  every.unref();
  return () => {
    clearTimeout(first);
    clearInterval(every);
  };
}
