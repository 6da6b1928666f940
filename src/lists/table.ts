/**
 * The KeysetList of one table: rows matching `where`, in `orderBy` order, keyset-paged on those
 * columns, counted with the same `where`. Rows are typed as the table's own select model, so a
 * module's toDto takes its rows as they are (no casts at the call site).
 */
import type { SQL } from 'drizzle-orm';
import { and, asc, count, desc, getTableColumns } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Db } from '../db/client.js';
import { after } from '../db/keyset.js';
import { invalid } from '../shared/errors.js';
import { decodeCursor } from './cursor.js';
import type { Key, KeysetList } from './keyset.js';

interface TableListOptions<T extends PgTable, Dto> {
  table: T;
  /** The filter, the parent included; undefined entries are skipped. */
  where: (SQL | undefined)[];
  /** Sort keys, all in one direction; the last must be unique (the id). */
  orderBy: AnyPgColumn[];
  direction?: 'asc' | 'desc';
  toDto: (row: T['$inferSelect']) => Dto;
  /** When the key's values need more checks than decodeCursor's (e.g. a bigint id). */
  decodeCursor?: (cursor: string) => Key;
}

/** The property names (camelCase, as on rows) of `columns` in `table`; a column of another table fails at start-up. */
function rowKeysOf(table: PgTable, columns: AnyPgColumn[]): string[] {
  const byColumn = new Map<unknown, string>(
    Object.entries(getTableColumns(table)).map(([key, column]) => [column, key]),
  );
  return columns.map((column) => {
    const key = byColumn.get(column);
    if (key === undefined) throw new Error(`list order column ${column.name} is not a column of the listed table`);
    return key;
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Whether a cursor value casts to the column's type: a cursor is client input, and a value that
 * does not (a year "abc", an id "x") must answer the invalid cursor's 400, never a SQL error.
 */
function castable(column: AnyPgColumn, value: unknown): boolean {
  if (value === null) return true;
  const type = column.getSQLType();
  if (/int|serial/.test(type)) return Number.isSafeInteger(value);
  if (type === 'uuid') return typeof value === 'string' && UUID.test(value);
  if (type.startsWith('timestamp')) return typeof value === 'string' && !Number.isNaN(Date.parse(value));
  return typeof value === 'string' || typeof value === 'number';
}

function decodeKey(cursor: string, columns: AnyPgColumn[]): Key {
  const values = decodeCursor(cursor, columns.length);
  if (values.every((v, i) => castable(columns[i]!, v))) return values;
  throw invalid('The cursor is not valid for this list; start again without it.', [
    { path: 'query.cursor', message: 'invalid cursor' },
  ]);
}

/** Cursor values are JSON: instants travel as ISO strings (cast back to the column's type in SQL). */
const cursorValue = (value: unknown) => (value instanceof Date ? value.toISOString() : value);

export function tableList<T extends PgTable, Dto>(o: TableListOptions<T, Dto>): KeysetList<T['$inferSelect'], Dto> {
  const keys = rowKeysOf(o.table, o.orderBy);
  const direction = o.direction ?? 'asc';
  const order = o.orderBy.map((column) => (direction === 'asc' ? asc(column) : desc(column)));
  // drizzle cannot follow a generic table through select(): read it as the PgTable it is; its rows
  // are then the table's select model, which the return type names.
  const table: PgTable = o.table;
  return {
    decodeCursor: o.decodeCursor ?? ((cursor) => decodeKey(cursor, o.orderBy)),
    fetch: async (db: Db, from: Key | undefined, size: number): Promise<T['$inferSelect'][]> =>
      db
        .select()
        .from(table)
        .where(and(...o.where, from ? after(o.orderBy, from, direction) : undefined))
        .orderBy(...order)
        .limit(size),
    keyOf: (row) => keys.map((key) => cursorValue(row[key])),
    toDto: o.toDto,
    count: async (db: Db) => {
      const [row] = await db
        .select({ n: count() })
        .from(table)
        .where(and(...o.where));
      return row?.n ?? 0;
    },
  };
}
