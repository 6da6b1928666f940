/**
 * One list's rows in one order, as every delivery mode reads them: the JSON page, the CSV/XLSX
 * export (src/exports/tabular.ts) and the total. A list is described once by a KeysetList and
 * read here; src/http/list-pipeline.ts chooses the mode (page, export or incremental sync) from
 * the request. Nothing here knows about HTTP.
 */
import type { Db } from '../db/client.js';
import { page } from './cursor.js';

/** The sort key of a row, as a cursor carries it. */
export type Key = unknown[];

export interface KeysetList<Row, Dto> {
  /** A ?cursor= back to the key it was made from; throws the 400 of an invalid cursor. */
  decodeCursor(cursor: string): Key;
  /** Up to `size` rows after `after` (from the start without it), in list order, read from `db`. */
  fetch(db: Db, after: Key | undefined, size: number): Promise<Row[]>;
  keyOf(row: Row): Key;
  toDto(row: Row): Dto;
  /** How many rows match the list's filter (the cursor aside): one count statement. */
  count(db: Db): Promise<number>;
}

export interface ListPage<Dto> {
  items: Dto[];
  nextCursor: string | null;
  total?: number;
}

interface PageRequest {
  limit: number;
  cursor?: string;
  /** Whether to answer `total`; without it no count statement runs. */
  count: boolean;
  /**
   * Resolves when the list's parent exists and throws its 404 otherwise; read beside the page, so
   * an unknown parent is told from an empty list without a round trip more.
   */
  parent?: () => Promise<void>;
}

/** One page: `limit` rows after the cursor, the next cursor, and the total when asked. */
export async function readPage<Row, Dto>(db: Db, list: KeysetList<Row, Dto>, q: PageRequest): Promise<ListPage<Dto>> {
  const after = q.cursor ? list.decodeCursor(q.cursor) : undefined;
  const [rows, total] = await Promise.all([
    list.fetch(db, after, q.limit + 1),
    q.count ? list.count(db) : undefined,
    q.parent?.(),
  ]);
  const result = page(rows, q.limit, (row) => list.keyOf(row));
  return {
    items: result.items.map((row) => list.toDto(row)),
    nextCursor: result.nextCursor,
    ...(total === undefined ? {} : { total }),
  };
}
