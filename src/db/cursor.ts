/**
 * Reading a large result through a server-side cursor (DECLARE / FETCH in a read-only
 * transaction on one pooled client), for streamed exports on PostgreSQL: the database plans and
 * runs the query once, and the next FETCHes are already on the wire while the current batch is
 * encoded. PGlite has one connection, which a long transaction would hold against every other
 * request, so it has no pool here (callers page with keysets instead).
 */
import type { Pool, PoolClient, QueryConfig } from 'pg';
import type { Db } from './client.js';

/** The node-postgres pool behind a drizzle handle, or undefined (PGlite). */
export function pgPoolOf(db: Db): Pool | undefined {
  const client = (db as unknown as { $client?: unknown }).$client as Partial<Pool> | undefined;
  return client && typeof client.connect === 'function' && typeof client.totalCount === 'number'
    ? (client as Pool)
    : undefined;
}

/** Type parsers that parse nothing: each value stays the text PostgreSQL sent. */
const RAW_TEXT: NonNullable<QueryConfig['types']> = { getTypeParser: () => (value: string) => value } as never;

/**
 * The rows of `text` through a server-side cursor, `size` at a time, as arrays. The client goes
 * back to the pool when the rows end, on an error, and when the consumer stops early (the client
 * aborted the download: the stream is destroyed and the generator returns); a connection that
 * failed is discarded instead. `raw`: every value as the text PostgreSQL sent (no type parsing;
 * null stays null), for rows that are only copied into text anyway.
 */
export async function* cursorBatches(
  pool: Pool,
  text: string,
  params: unknown[],
  size: number,
  options: {
    raw?: boolean;
    /**
     * Statements to run before the cursor opens, on its connection and in its snapshot (the
     * transaction is then REPEATABLE READ): what the rows will be read against, e.g. the
     * placement cells of a CSV export. `query` answers rows as arrays, raw like the cursor's.
     */
    before?: (query: (text: string, values: unknown[]) => Promise<unknown[][]>) => Promise<void>;
  } = {},
): AsyncGenerator<unknown[][]> {
  const client: PoolClient = await pool.connect();
  let broken: Error | undefined;
  let done = false;
  const fetch = () => {
    const p = client.query<unknown[]>({
      text: `fetch ${size} from export_cursor`,
      rowMode: 'array',
      ...(options.raw ? { types: RAW_TEXT } : {}),
    });
    p.catch(() => {}); // awaited below; this only keeps an abandoned prefetch from being "unhandled"
    return p;
  };
  try {
    const before = options.before;
    await client.query(before ? 'begin isolation level repeatable read read only' : 'begin read only');
    if (before)
      await before(
        async (query, values) =>
          (
            await client.query<unknown[]>({
              text: query,
              values,
              rowMode: 'array',
              ...(options.raw ? { types: RAW_TEXT } : {}),
            })
          ).rows,
      );
    await client.query(`declare export_cursor no scroll cursor for ${text}`, params);
    // Two FETCHes stay queued on the connection: PostgreSQL reads the next batch while the driver
    // decodes one and this one is encoded and sent, so neither side waits for the other.
    const pending = [fetch(), fetch()];
    for (;;) {
      const { rows } = await pending.shift()!;
      if (rows.length === 0) break;
      const more = rows.length === size;
      if (more) pending.push(fetch());
      yield rows;
      if (!more) break;
    }
    await client.query('commit');
    done = true;
  } catch (error) {
    broken = error as Error;
    throw error;
  } finally {
    if (!done) {
      try {
        await client.query('rollback');
        broken = undefined; // the connection is fine again
      } catch (error) {
        broken ??= error as Error;
      }
    }
    client.release(broken);
  }
}
