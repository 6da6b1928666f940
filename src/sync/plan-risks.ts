/**
 * Incremental sync of the plan-wide risk register (GET /plans/{id}/risks?updatedSince=). A row is
 * a risk joined with its goal and direction (their codes are part of it), so its position is the
 * latest change among the three: renaming a goal's code re-serves that goal's risks. Goals and
 * directions never move to another plan, so a risk stays in its plan's register until deleted.
 * A deleted risk gives a tombstone `{ id, goalId, planId, year, deleted: true, updatedAt }`; its
 * plan is recorded when it is deleted (migration 0007), since the goal may go in the same cascade.
 * See cursor.ts for why the (position, id) cursor neither skips nor repeats rows under concurrent writes.
 */
import { and, asc, eq, gte, lt, sql } from 'drizzle-orm';
import type { z } from 'zod';
import type { Db } from '../db/client.js';
import { joinUp } from '../db/plan-tree.js';
import { directions, goals, risks, syncDeletions } from '../db/schema.js';
import { iso } from '../shared/decimal.js';
import { Uuid, Year } from '../shared/schemas.js';
import type { SyncPosition } from './cursor.js';
import { afterPosition, decodeSyncCursor, snapshotXmin, syncPage, tombstoneOf } from './cursor.js';
import { assertWithinRetention } from './retention.js';

export const PlanRiskTombstone = tombstoneOf('PlanRisk', { goalId: Uuid, planId: Uuid, year: Year.nullable() });
export type PlanRiskTombstone = z.output<typeof PlanRiskTombstone>;

export async function planRiskSync(db: Db, planId: string, f: { since?: string; cursor?: string; limit: number }) {
  const position: SyncPosition | undefined = f.cursor ? decodeSyncCursor(f.cursor, ['uuid']) : undefined;
  const watermark = await snapshotXmin(db);
  const since = f.since ? new Date(f.since) : undefined;
  const pos = sql<number>`greatest(${risks.changeXid}, ${goals.changeXid}, ${directions.changeXid})`;
  const changedAt = sql`greatest(${risks.updatedAt}, ${goals.updatedAt}, ${directions.updatedAt})`;

  const live = joinUp(
    db
      .select({
        risk: risks,
        goalCode: goals.code,
        directionId: directions.id,
        directionCode: directions.code,
        pos: pos.mapWith(Number),
      })
      .from(risks)
      .innerJoin(goals, eq(goals.id, risks.goalId))
      .$dynamic(),
    goals,
    directions,
  )
    .where(
      and(
        eq(directions.planId, planId),
        sql`${pos} < ${watermark}`,
        since ? sql`${changedAt} >= ${since.toISOString()}::timestamptz` : undefined,
        afterPosition(pos, [risks.id], position, ['uuid']),
      ),
    )
    .orderBy(sql`${pos}`, asc(risks.id))
    .limit(f.limit + 1);
  const dead = db
    .select()
    .from(syncDeletions)
    .where(
      and(
        eq(syncDeletions.entityType, 'risk'),
        eq(syncDeletions.planId, planId),
        lt(syncDeletions.changeXid, watermark),
        since ? gte(syncDeletions.deletedAt, since) : undefined,
        afterPosition(syncDeletions.changeXid, [syncDeletions.entityId], position, ['uuid']),
      ),
    )
    .orderBy(asc(syncDeletions.changeXid), asc(syncDeletions.entityId))
    .limit(f.limit + 1);

  const [liveRows, deadRows] = await Promise.all([live, dead]);
  await assertWithinRetention(db, since, position);
  type LiveRow = Omit<(typeof liveRows)[number], 'pos'>;
  type Item = { xid: number; key: string[]; live?: LiveRow; tombstone?: PlanRiskTombstone };
  return syncPage<Item>(
    liveRows.map(({ pos: xid, ...row }) => ({ xid, key: [row.risk.id], live: row })),
    deadRows.map((d) => ({
      xid: d.changeXid,
      key: [d.entityId],
      tombstone: {
        id: d.entityId,
        goalId: d.parentId!,
        planId,
        year: d.year,
        deleted: true as const,
        updatedAt: iso(d.deletedAt),
      },
    })),
    f.limit,
    watermark,
    position,
  );
}
