/**
 * Which organization owns a planning row: editors may write only their own organization's data.
 * One indexed join per call; undefined when the row does not exist.
 */
import { eq } from 'drizzle-orm';
import type { Db } from './client.js';
import type { Tx } from './tx.js';
import { joinUp } from './plan-tree.js';
import { directions, goals, indicators, plans, risks } from './schema.js';

async function first(rows: Promise<{ organizationId: string }[]>) {
  return (await rows)[0]?.organizationId;
}

export const organizationOf = {
  plan: (db: Db, id: string) =>
    first(db.select({ organizationId: plans.organizationId }).from(plans).where(eq(plans.id, id))),
  direction: (db: Db, id: string) =>
    first(
      joinUp(db.select({ organizationId: plans.organizationId }).from(directions).$dynamic(), directions).where(
        eq(directions.id, id),
      ),
    ),
  goal: (db: Db, id: string) =>
    first(
      joinUp(db.select({ organizationId: plans.organizationId }).from(goals).$dynamic(), goals).where(eq(goals.id, id)),
    ),
  indicator: (db: Db, id: string) =>
    first(
      joinUp(db.select({ organizationId: plans.organizationId }).from(indicators).$dynamic(), indicators).where(
        eq(indicators.id, id),
      ),
    ),
  risk: (db: Db, id: string) =>
    first(
      joinUp(
        db
          .select({ organizationId: plans.organizationId })
          .from(risks)
          .innerJoin(goals, eq(goals.id, risks.goalId))
          .$dynamic(),
        goals,
      ).where(eq(risks.id, id)),
    ),
};

/** The plan a direction / goal / indicator belongs to (approved years lock its data). */
export const planIdOf = {
  direction: async (db: Db | Tx, directionId: string) =>
    (await db.select({ planId: directions.planId }).from(directions).where(eq(directions.id, directionId)))[0]?.planId,
  goal: async (db: Db | Tx, goalId: string) =>
    (
      await joinUp(db.select({ planId: directions.planId }).from(goals).$dynamic(), goals, directions).where(
        eq(goals.id, goalId),
      )
    )[0]?.planId,
};
