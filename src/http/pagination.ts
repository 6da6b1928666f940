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
  const url = new URL(request.url, 'http://x');
  url.searchParams.set('cursor', nextCursor);
  return { link: `<${url.pathname}${url.search}>; rel="next"`, 'x-next-cursor': nextCursor };
}
