/**
 * The planning hierarchy as a tree of parent -> children tables, so cascade deletes and
 * "does it have children" questions are answered by one generic walk.
 */
import type { SQL } from 'drizzle-orm';
import { inArray, sql } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Db } from './client.js';
import type { Tx } from './tx.js';
import { directions, goals, indicators, measurements, organizations, plans } from './schema.js';

type AnyRow = Record<string, unknown> & { id: string };

/** How a deleted row is named in the audit trail: its API form, and a key that outlives its id. */
export type DescribeDeleted = (row: AnyRow) => { before: object; entityKey?: string };

interface ChildLink {
  table: PgTable & { id: AnyPgColumn };
  parentColumn: AnyPgColumn;
  /** The audit trail's entityType of its rows, e.g. "goal". */
  entityType: string;
  /** Defaults to the row as stored (camelCase columns), for tables whose API form is that. */
  describe?: DescribeDeleted;
}

const children = new Map<PgTable, ChildLink[]>([
  [organizations, [{ table: plans, parentColumn: plans.organizationId, entityType: 'plan' }]],
  [plans, [{ table: directions, parentColumn: directions.planId, entityType: 'direction' }]],
  [directions, [{ table: goals, parentColumn: goals.directionId, entityType: 'goal' }]],
  [goals, [{ table: indicators, parentColumn: indicators.goalId, entityType: 'indicator' }]],
  [indicators, [{ table: measurements, parentColumn: measurements.indicatorId, entityType: 'measurement' }]],
]);

/** Lets other modules (risks, notes) hang their tables under an entity. */
export function registerChild(parent: PgTable, link: ChildLink) {
  children.set(parent, [...(children.get(parent) ?? []), link]);
}

/**
 * Lets the module that owns `table` say how its deleted rows read in the audit trail (its DTO),
 * without this data module importing feature code.
 */
export function describeDeleted(table: PgTable, describe: DescribeDeleted) {
  for (const links of children.values()) {
    for (const link of links) if (link.table === table) link.describe = describe;
  }
}

/** One row a cascade removed, as the audit trail records it. */
export interface DeletedRow {
  entityType: string;
  entityId: string;
  entityKey?: string;
  before: object;
}

/**
 * Deletes every descendant of the rows `parentIds` selects, deepest first, and answers each
 * deleted row (deepest first too) so the caller records one audit entry per row.
 */
export async function deleteDescendants(tx: Tx | Db, parent: PgTable, parentIds: SQL): Promise<DeletedRow[]> {
  const deleted: DeletedRow[] = [];
  for (const link of children.get(parent) ?? []) {
    const childIds = sql`(select ${link.table.id} from ${link.table} where ${inArray(link.parentColumn, parentIds)})`;
    deleted.push(...(await deleteDescendants(tx, link.table, childIds)));
    const rows = (await tx.delete(link.table).where(inArray(link.parentColumn, parentIds)).returning()) as AnyRow[];
    for (const row of rows) {
      // The default form: the row as stored, without the sync stamp (not part of any API answer).
      const { changeXid: _stamp, ...stored } = row;
      const described = link.describe?.(row) ?? { before: stored };
      deleted.push({ entityType: link.entityType, entityId: row.id, ...described });
    }
  }
  return deleted;
}
