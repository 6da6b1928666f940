/**
 * Keyset pagination: the cursor carries the sort key of the last row returned, so pages stay
 * stable while others insert (no OFFSET drift) and every page costs one index range scan.
 */
import type { SQL } from 'drizzle-orm';
import { sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { badRequest } from './problem.js';

const CursorValues = z.array(z.union([z.string().max(256), z.number(), z.null()])).min(1).max(4);

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
  throw badRequest('The cursor is not valid for this list; start again without it.', [
    { path: 'query.cursor', message: 'invalid cursor' },
  ]);
}

/** `(k1, k2, ...) > (v1, v2, ...)` for ascending keys (`<` for descending ones). */
export function after(columns: AnyPgColumn[], values: unknown[], direction: 'asc' | 'desc' = 'asc'): SQL {
  const left = sql.join(columns.map((c) => sql`${c}`), sql`, `);
  const right = sql.join(
    values.map((v, i) => sql`${v}::${sql.raw(sqlTypeOf(columns[i]!))}`),
    sql`, `,
  );
  return direction === 'asc' ? sql`(${left}) > (${right})` : sql`(${left}) < (${right})`;
}

// Serial columns name a column default, not a type a value can be cast to.
const SERIAL_TYPES: Record<string, string> = { smallserial: 'smallint', serial: 'integer', bigserial: 'bigint' };

function sqlTypeOf(column: AnyPgColumn): string {
  const type = column.getSQLType();
  return SERIAL_TYPES[type] ?? type;
}

/** Takes limit+1 rows, returns `limit` and the cursor of the last one when there was more. */
export function page<Row>(rows: Row[], limit: number, keyOf: (row: Row) => unknown[]) {
  const hasMore = rows.length > limit;
  const items = hasMore ? rows.slice(0, limit) : rows;
  const last = items[items.length - 1];
  return { items, nextCursor: hasMore && last ? encodeCursor(keyOf(last)) : null };
}

/**
 * The next page as a `Link: <...>; rel="next"` header (RFC 8288) and X-Next-Cursor: the request's
 * own path and query with ?cursor= replaced, so filters, limit, format and count carry over.
 */
export function setNextLink(request: FastifyRequest, reply: FastifyReply, nextCursor: string | null): void {
  if (!nextCursor) return;
  const url = new URL(request.url, 'http://x');
  url.searchParams.set('cursor', nextCursor);
  reply.header('link', `<${url.pathname}${url.search}>; rel="next"`).header('x-next-cursor', nextCursor);
}
