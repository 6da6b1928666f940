/**
 * Reading a large result through a server-side cursor (DECLARE / FETCH in a read-only
 * transaction on one pooled client), for streamed exports on PostgreSQL: the database plans and
 * runs the query once, and the next FETCH is already on the wire while the current batch is
 * encoded. PGlite has one connection, which a long transaction would hold against every other
 * request, so it has no pool here (callers page with keysets instead).
 */
import type { Pool, PoolClient, QueryConfig } from 'pg';
import type { Db } from './client.js';

/** The node-postgres pool behind a drizzle handle, or undefined (PGlite). */
export function pgPoolOf(db: Db): Pool | undefined {
  const client = (db as unknown as { $client?: unknown }).$client as Partial<Pool> | undefined;
  return client && typeof client.connect === 'function' && typeof client.totalCount === 'number' ? (client as Pool) : undefined;
}

/** Type parsers that parse nothing: each value stays the text PostgreSQL sent. */
const RAW_TEXT: NonNullable<QueryConfig['types']> = { getTypeParser: () => (value: string) => value } as never;

export interface OpenCursor {
  /**
   * The transaction's snapshot, exported (pg_export_snapshot): other connections can read exactly
   * what the cursor reads with SET TRANSACTION SNAPSHOT while it is open.
   */
  snapshot: string;
  /** The rows, `size` at a time, as arrays; iterate once. */
  batches: AsyncGenerator<unknown[][]>;
  /** Ends the transaction and gives the client back when `batches` was never iterated. */
  close(): Promise<void>;
}

/**
 * A server-side cursor over `text` in a read-only REPEATABLE READ transaction whose snapshot is
 * exported, with its first FETCH already on the wire when this resolves. The client goes back to
 * the pool when the rows end, on an error, when the consumer stops early (an aborted download:
 * the stream is destroyed and the generator returns), or on close() if the rows were never read;
 * a connection that failed is discarded instead. `raw`: every value as the text PostgreSQL sent
 * (no type parsing; null stays null), for rows that are only copied into text anyway.
 */
export async function openCursor(pool: Pool, text: string, params: unknown[], size: number, options: { raw?: boolean } = {}): Promise<OpenCursor> {
  const client: PoolClient = await pool.connect();
  let finished = false;
  /** Rolls back (unless committed) and releases, once. */
  const finish = async (committed: boolean, failure?: Error) => {
    if (finished) return;
    finished = true;
    let broken = failure;
    if (!committed) {
      try {
        await client.query('rollback');
        broken = undefined; // the connection is fine again
      } catch (error) {
        broken ??= error as Error;
      }
    }
    client.release(broken);
  };
  const fetch = () => {
    const p = client.query<unknown[]>({ text: `fetch ${size} from export_cursor`, rowMode: 'array', ...(options.raw ? { types: RAW_TEXT } : {}) });
    p.catch(() => {}); // awaited below; this only keeps an abandoned prefetch from being "unhandled"
    return p;
  };
  let snapshot: string;
  let first: ReturnType<typeof fetch>;
  try {
    await client.query('begin isolation level repeatable read read only');
    const exported = await client.query<{ id: string }>('select pg_export_snapshot() as id');
    snapshot = exported.rows[0]!.id;
    // Queued behind each other on this connection: the statement is planned and its first batch
    // read while the caller does other work with the snapshot.
    const declared = client.query(`declare export_cursor no scroll cursor for ${text}`, params);
    declared.catch(() => {});
    first = fetch();
    await declared;
  } catch (error) {
    await finish(false, error as Error);
    throw error;
  }

  let started = false;
  async function* batches(): AsyncGenerator<unknown[][]> {
    started = true;
    if (finished) return;
    let committed = false;
    try {
      // Two FETCHes stay queued on the connection: PostgreSQL reads the next batch while the
      // driver decodes one and this one is encoded and sent, so neither side waits for the other.
      const pending = [first, fetch()];
      for (;;) {
        const { rows } = await pending.shift()!;
        if (rows.length === 0) break;
        const more = rows.length === size;
        if (more) pending.push(fetch());
        yield rows;
        if (!more) break;
      }
      await client.query('commit');
      committed = true;
    } catch (error) {
      await finish(false, error as Error);
      throw error;
    } finally {
      await finish(committed);
    }
  }
  return {
    snapshot,
    batches: batches(),
    close: async () => {
      if (!started) await finish(false);
    },
  };
}

/** The rows of `text` through a server-side cursor (openCursor), for callers that only iterate. */
export async function* cursorBatches(pool: Pool, text: string, params: unknown[], size: number, options: { raw?: boolean } = {}): AsyncGenerator<unknown[][]> {
  const cursor = await openCursor(pool, text, params, size, options);
  yield* cursor.batches;
}
