/**
 * Hand-written SQL for the few hot reads where drizzle's per-request work showed in profiles
 * (building the query, then mapping every column of every row: ~12% of a plan-status request).
 * Rows come back as arrays, decoded by the caller by position. On PostgreSQL the statement is
 * named, so each connection parses and plans it once; PGlite has no statement cache to name.
 *
 * Both drivers decode the same way for the types used here: numeric as a string (exact), int4
 * and float8 as numbers, jsonb as parsed JSON, uuid and text as strings, bool as boolean.
 * Timestamps differ between the drivers, so queries select them as epoch milliseconds (float8).
 */
import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import type { Db } from './client.js';

export interface NamedSql {
  /** Unique per statement text: PostgreSQL keeps one prepared statement per name and connection. */
  name: string;
  text: string;
}

type Client = pg.Pool | PGlite;

const isPool = (client: Client): client is pg.Pool => 'totalCount' in client;

/** Rows as arrays; `statement` without a name runs unprepared (for SQL whose text varies). */
export async function queryArrays(
  db: Db,
  statement: NamedSql | { text: string },
  values: unknown[],
): Promise<unknown[][]> {
  const client = (db as unknown as { $client: Client }).$client;
  if (isPool(client)) {
    const name = 'name' in statement ? statement.name : undefined;
    const result = await client.query<unknown[]>({
      ...(name ? { name } : {}),
      text: statement.text,
      values,
      rowMode: 'array',
    });
    return result.rows;
  }
  const result = await client.query<unknown[]>(statement.text, values, { rowMode: 'array' });
  return result.rows;
}
