/**
 * Incremental sync of the audit trail (GET /audit?updatedSince=). Audit rows are only ever
 * inserted, so there is nothing to tombstone and no retention horizon (410) applies: updatedSince
 * filters by `at`, and the cursor pages by (change_xid, id), the same snapshot-xmin guarantee as
 * every other sync (cursor.ts). Paging by id alone would skip rows: ids come from a sequence,
 * handed out in one order and committed in another.
 */
import type { SQL } from 'drizzle-orm';
import { and, asc, gte, lt } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { auditLog } from '../db/schema.js';
import type { SyncPosition } from './cursor.js';
import { afterPosition, decodeSyncCursor, snapshotXmin, syncPage } from './cursor.js';

export async function auditSync(
  db: Db,
  conditions: (SQL | undefined)[],
  f: { since?: string; cursor?: string; limit: number },
) {
  const position: SyncPosition | undefined = f.cursor ? decodeSyncCursor(f.cursor, ['int']) : undefined;
  const watermark = await snapshotXmin(db);
  const rows = await db
    .select()
    .from(auditLog)
    .where(
      and(
        ...conditions,
        lt(auditLog.changeXid, watermark),
        f.since ? gte(auditLog.at, new Date(f.since)) : undefined,
        afterPosition(auditLog.changeXid, [auditLog.id], position, ['bigint']),
      ),
    )
    .orderBy(asc(auditLog.changeXid), asc(auditLog.id))
    .limit(f.limit + 1);
  const page = syncPage(
    rows.map((row) => ({ xid: row.changeXid, key: [row.id], row })),
    [],
    f.limit,
    watermark,
    position,
  );
  return { rows: page.items.map((i) => i.row), nextCursor: page.nextCursor, syncCursor: page.syncCursor };
}
