/**
 * The SQL every planning entity's writes share (organizations, plans, directions, goals,
 * indicators, risks): find and lock by id, lock the parent, insert, update with a version bump,
 * delete. drizzle's column generics do not survive a table passed as a value, so rows cross this
 * boundary as `EntityRow` and each feature types them in its toDto.
 */
import type { SQL } from 'drizzle-orm';
import { eq, sql } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Db } from '../db/client.js';
import type { Tx } from '../db/tx.js';
import { MAX_POSITION } from '../shared/schemas.js';

export type EntityRow = Record<string, unknown> & { id: string; version: number };
export type EntityTable = PgTable & { id: AnyPgColumn; version: AnyPgColumn; updatedAt: AnyPgColumn };
export type Executor = Db | Tx;

/** What a generic table accepts as values: drizzle checks the columns at run time, the feature's toInsert at compile time. */
type Values = PgTable['$inferInsert'];

export async function findEntity(
  executor: Executor,
  table: EntityTable,
  id: string,
  lock?: 'update',
): Promise<EntityRow | undefined> {
  const query = executor.select().from(table).where(eq(table.id, id)).limit(1).$dynamic();
  const rows = (await (lock ? query.for(lock) : query)) as unknown as EntityRow[];
  return rows[0];
}

/** Share-locks the parent row so a concurrent cascade delete cannot orphan a new child; false when it is missing. */
export async function lockParent(tx: Tx, table: PgTable & { id: AnyPgColumn }, id: string): Promise<boolean> {
  const found = await tx.select({ id: table.id }).from(table).where(eq(table.id, id)).for('share');
  return found.length > 0;
}

/** After the last position under the parent, capped at the largest position the schema allows. */
export const nextPosition = (table: PgTable, parentColumn: AnyPgColumn, parentId: string | undefined): SQL =>
  sql`(select least(coalesce(max(position), 0) + 1, ${sql.raw(String(MAX_POSITION))}) from ${table} where ${eq(parentColumn, parentId)})`;

export async function insertEntity(tx: Tx, table: EntityTable, values: Record<string, unknown>): Promise<EntityRow> {
  const rows = (await tx
    .insert(table)
    .values(values as Values)
    .returning()) as unknown as EntityRow[];
  return rows[0]!;
}

export async function updateEntity(
  tx: Tx,
  table: EntityTable,
  id: string,
  changes: Record<string, unknown>,
): Promise<EntityRow> {
  const rows = (await tx
    .update(table)
    .set({ ...changes, version: sql`${table.version} + 1`, updatedAt: sql`now()` } as Values)
    .where(eq(table.id, id))
    .returning()) as unknown as EntityRow[];
  return rows[0]!;
}

export async function deleteEntity(tx: Tx, table: EntityTable, id: string): Promise<void> {
  await tx.delete(table).where(eq(table.id, id));
}
