/** Risk rows: mapping to the API, the plan a goal belongs to, and the plan-wide register query. */
import type { SQL } from 'drizzle-orm';
import { and, asc, count, eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import type { Tx } from '../db/tx.js';
import { registerChild } from '../db/hierarchy.js';
import { joinUp } from '../db/plan-tree.js';
import { directions, goals, plans, risks } from '../db/schema.js';
import { after } from '../db/keyset.js';
import type { KeysetList } from '../lists/keyset.js';
import { iso } from '../shared/decimal.js';
import type { Risk } from './schemas.js';

// Risks hang under goals: deleting a goal (or anything above it) with ?cascade=true takes them
// along; without it, the goal's risks make the delete answer 409 like any other child.
registerChild(goals, {
  table: risks,
  parentColumn: risks.goalId,
  entityType: 'risk',
  describe: (row) => ({ before: toRiskDto(row as unknown as RiskRow) }),
});

export type RiskRow = typeof risks.$inferSelect;

export const toRiskDto = (row: RiskRow): Risk => ({
  id: row.id,
  goalId: row.goalId,
  year: row.year,
  position: row.position,
  risk: row.risk,
  plannedMeasures: row.plannedMeasures,
  actualMeasures: row.actualMeasures ?? null,
  executionStatus: row.executionStatus,
  note: row.note ?? null,
  version: row.version,
  createdAt: iso(row.createdAt),
  updatedAt: iso(row.updatedAt),
});

/**
 * The plan a goal belongs to, with its years (undefined when the goal does not exist). With `lock`,
 * a share lock on the plan row: an approval of one of its years (which takes an update lock) then
 * cannot interleave with the write.
 */
export async function planOfGoal(executor: Db | Tx, goalId: string, lock = false) {
  let query = joinUp(
    executor.select({ planId: plans.id, startYear: plans.startYear, endYear: plans.endYear }).from(goals).$dynamic(),
    goals,
  ).where(eq(goals.id, goalId));
  if (lock) query = query.for('share', { of: plans });
  return (await query)[0];
}

/** Report order: direction, goal, year, position (then id, so the key is unique). */
export const planRiskOrder = [
  directions.position,
  directions.code,
  goals.position,
  goals.code,
  risks.year,
  risks.position,
  risks.id,
];

export interface PlanRiskFilters {
  year?: number;
  executionStatus?: RiskRow['executionStatus'];
  limit?: number;
  cursor?: unknown[];
}

function planRiskConditions(planId: string, f: PlanRiskFilters): (SQL | undefined)[] {
  return [
    eq(directions.planId, planId),
    f.year !== undefined ? eq(risks.year, f.year) : undefined,
    f.executionStatus ? eq(risks.executionStatus, f.executionStatus) : undefined,
  ];
}

/** Every risk of a plan (one query), in report order. */
export function planRisks(db: Db, planId: string, f: PlanRiskFilters) {
  const conditions = [...planRiskConditions(planId, f), f.cursor ? after(planRiskOrder, f.cursor) : undefined];
  const query = joinUp(
    db
      .select({
        risk: risks,
        goalCode: goals.code,
        goalPosition: goals.position,
        directionId: directions.id,
        directionCode: directions.code,
        directionPosition: directions.position,
      })
      .from(risks)
      .innerJoin(goals, eq(goals.id, risks.goalId))
      .$dynamic(),
    goals,
    directions,
  )
    .where(and(...conditions))
    .orderBy(...planRiskOrder.map((c) => asc(c)));
  return f.limit !== undefined ? query.limit(f.limit + 1) : query;
}
export type PlanRiskRow = Awaited<ReturnType<typeof planRisks>>[number];

/** The sort key of a row, as the cursor carries it. */
export const planRiskKey = (row: PlanRiskRow): unknown[] => [
  row.directionPosition,
  row.directionCode,
  row.goalPosition,
  row.goalCode,
  row.risk.year,
  row.risk.position,
  row.risk.id,
];

/** How many risks of the plan match the filters (the register's total). */
export async function countPlanRisks(db: Db, planId: string, f: PlanRiskFilters): Promise<number> {
  const counted = db.select({ n: count() }).from(risks).innerJoin(goals, eq(goals.id, risks.goalId)).$dynamic();
  const [row] = await joinUp(counted, goals, directions).where(and(...planRiskConditions(planId, f)));
  return row?.n ?? 0;
}

/** The plan-wide register as a keyset list; `decodeCursor` checks the 7-part report-order key. */
export function planRiskList<Dto>(
  planId: string,
  f: PlanRiskFilters,
  o: { toDto: (row: PlanRiskRow) => Dto; decodeCursor: (cursor: string) => unknown[] },
): KeysetList<PlanRiskRow, Dto> {
  return {
    decodeCursor: o.decodeCursor,
    // planRisks fetches limit + 1 rows (to see whether a next page exists): ask for size - 1.
    fetch: (db, cursor, size) => planRisks(db, planId, { ...f, cursor, limit: size - 1 }),
    keyOf: planRiskKey,
    toDto: o.toDto,
    count: (db) => countPlanRisks(db, planId, f),
  };
}
