/**
 * The planning hierarchy as a tree of parent -> children tables, so cascade deletes and
 * "does it have children" questions are answered by one generic walk.
 */
import type { SQL } from 'drizzle-orm';
import { inArray, sql } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Db } from './client.js';
import { directions, goals, indicators, measurements, organizations, plans } from './schema.js';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

interface ChildLink {
  table: PgTable & { id: AnyPgColumn };
  parentColumn: AnyPgColumn;
}

const children = new Map<PgTable, ChildLink[]>([
  [organizations, [{ table: plans, parentColumn: plans.organizationId }]],
  [plans, [{ table: directions, parentColumn: directions.planId }]],
  [directions, [{ table: goals, parentColumn: goals.directionId }]],
  [goals, [{ table: indicators, parentColumn: indicators.goalId }]],
  [indicators, [{ table: measurements, parentColumn: measurements.indicatorId }]],
]);

/** Lets other modules (risks, notes) hang their tables under an entity. */
export function registerChild(parent: PgTable, link: ChildLink) {
  children.set(parent, [...(children.get(parent) ?? []), link]);
}

/** Deletes every descendant of the rows `parentIds` selects, deepest first. */
export async function deleteDescendants(tx: Tx | Db, parent: PgTable, parentIds: SQL): Promise<void> {
  for (const link of children.get(parent) ?? []) {
    const childIds = sql`(select ${link.table.id} from ${link.table} where ${inArray(link.parentColumn, parentIds)})`;
    await deleteDescendants(tx, link.table, childIds);
    await tx.delete(link.table).where(inArray(link.parentColumn, parentIds));
  }
}

export type { Tx };
