/**
 * Keyset pagination: the cursor carries the sort key of the last row returned, so pages stay
 * stable while others insert (no OFFSET drift) and every page costs one index range scan.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
// Cursors and pages are data code (src/lists/cursor.ts, src/db/keyset.ts); this file adds the HTTP headers.
export { decodeCursor, encodeCursor } from '../lists/cursor.js';

/**
 * The next page as a `Link: <...>; rel="next"` header (RFC 8288) and X-Next-Cursor: the request's
 * own path and query with ?cursor= replaced, so filters, limit, format and count carry over.
 */
export function setNextLink(request: FastifyRequest, reply: FastifyReply, nextCursor: string | null): void {
  reply.headers(nextLinkHeaders(request, nextCursor));
}

/** `Link: <...>; rel="next"` and X-Next-Cursor for a page with a next one (none for the last page). */
export function nextLinkHeaders(request: FastifyRequest, nextCursor: string | null): Record<string, string> {
  if (!nextCursor) return {};
  return { link: `<${nextPageTarget(request.url, nextCursor)}>; rel="next"`, 'x-next-cursor': nextCursor };
}

// Targets the URL API would give back unchanged: plain path segments, and name=value pairs of
// characters form encoding leaves as they are (no %, +, empty pair, pair without "=").
const PLAIN_PATH = /^(?:\/[\w-]+)+\/?$/;
const PLAIN_QUERY = /^[\w*.-]+=[\w*.-]*(?:&[\w*.-]+=[\w*.-]*)*$/;
const PLAIN_VALUE = /^[\w*.-]*$/;

/**
 * The request's path and query with ?cursor= replaced. Parsing and re-serializing the URL was about
 * 1% of a feed page's CPU (node --cpu-prof, docs/benchmarks.md), so a plain target without a cursor
 * (every first page) gets the cursor appended; anything else, the URL API (same result for plain ones).
 */
export function nextPageTarget(target: string, cursor: string): string {
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? '' : target.slice(q + 1);
  if (
    PLAIN_PATH.test(path) &&
    PLAIN_VALUE.test(cursor) &&
    (q < 0 || (PLAIN_QUERY.test(query) && !query.startsWith('cursor=') && !query.includes('&cursor=')))
  ) {
    return `${path}?${query === '' ? '' : `${query}&`}cursor=${cursor}`;
  }
  const url = new URL(target, 'http://x');
  url.searchParams.set('cursor', cursor);
  return `${url.pathname}${url.search}`;
}
