/**
 * All SQL of the feed's planning sets (Organizations ... Measurements): one page of a set under a
 * condition and an order, and its count. Conditions and orderings arrive as SQL built from the
 * model's property expressions with bound values (filter-sql.ts); nothing is filtered in Node.
 * The status rows read through the status read model instead (status-set.ts).
 */
import type { SQL } from 'drizzle-orm';
import { asc, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { decimalToNumber } from '../shared/decimal.js';
import type { EntitySet, Scope, TableSetName } from './model.js';
import { propertyOf, TABLE_OF } from './model.js';

export interface PageRequest {
  where: SQL | undefined;
  /** The client's $orderby; the reader ends it with a unique key of its own. */
  orderBy: SQL[];
  limit: number;
  offset: number;
}

export type EntityRow = Record<string, unknown>;

export async function readTablePage(
  db: Db,
  set: EntitySet & { name: TableSetName },
  scope: Scope,
  page: PageRequest,
): Promise<EntityRow[]> {
  const selection: Record<string, SQL> = {};
  for (const p of set.properties) selection[p.name] = sql`${p.sql(scope)}`;
  const rows = await db
    .select(selection)
    .from(TABLE_OF[set.name])
    .where(page.where)
    // The set's key last: a total order, so offset pages are stable.
    .orderBy(...page.orderBy, ...set.keys.map((key) => asc(sql`${propertyOf(set, key)!.sql(scope)}`)))
    .limit(page.limit)
    .offset(page.offset);
  const decimals = set.properties.filter((p) => p.kind === 'decimal').map((p) => p.name);
  // numeric travels as text; the feed speaks JSON numbers (stored values hold at most 15 significant digits).
  for (const row of rows as EntityRow[])
    for (const name of decimals) row[name] = decimalToNumber(row[name] as string | null);
  return rows as EntityRow[];
}

export async function countTable(
  db: Db,
  set: EntitySet & { name: TableSetName },
  where: SQL | undefined,
): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(TABLE_OF[set.name])
    .where(where);
  return row?.n ?? 0;
}
