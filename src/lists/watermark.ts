/**
 * A list's change watermark: count, sum and max of change_xid over the filtered rows (and of the
 * joined rows whose fields the list shows). Exports derive their weak ETag from it before
 * streaming (src/http/export-etag.ts explains why the sum and not just max + count).
 */
import type { SQL } from 'drizzle-orm';
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';

/** `count:sum:max` of each stamp expression over `from` (a FROM ... WHERE ... fragment). */
export async function changeWatermark(db: Db, stamps: SQL[], from: SQL): Promise<string> {
  const aggregates = sql.join(
    stamps.map((s) => sql`coalesce(sum(${s}), 0)::text || ':' || coalesce(max(${s}), 0)::text`),
    sql` || '/' || `,
  );
  const result = (await db.execute(sql`select count(*)::text || '/' || ${aggregates} as mark ${from}`)) as unknown as {
    rows: { mark: string }[];
  };
  return result.rows[0]!.mark;
}
