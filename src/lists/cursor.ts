/**
 * Keyset pagination: the cursor carries the sort key of the last row returned, so pages stay
 * stable while others insert (no OFFSET drift) and every page costs one index range scan.
 */
import { z } from 'zod';
import { invalid } from '../shared/errors.js';

const CursorValues = z
  .array(z.union([z.string().max(256), z.number(), z.null()]))
  .min(1)
  .max(4);

export function encodeCursor(values: unknown[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

export function decodeCursor(cursor: string, arity: number): unknown[] {
  try {
    const values = CursorValues.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    if (values.length === arity) return values;
  } catch {
    // fall through: any malformed cursor gets the same answer
  }
  throw invalid('The cursor is not valid for this list; start again without it.', [
    { path: 'query.cursor', message: 'invalid cursor' },
  ]);
}

/** Takes limit+1 rows, returns `limit` and the cursor of the last one when there was more. */
export function page<Row>(rows: Row[], limit: number, keyOf: (row: Row) => unknown[]) {
  const hasMore = rows.length > limit;
  const items = hasMore ? rows.slice(0, limit) : rows;
  const last = items[items.length - 1];
  return { items, nextCursor: hasMore && last ? encodeCursor(keyOf(last)) : null };
}
