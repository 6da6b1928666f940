/**
 * ETags for streamed exports (CSV/XLSX). conditional.ts hashes a buffered body, which a stream
 * does not have until it has been sent. So an export gets a weak ETag from a cheap watermark of the
 * rows it will hold, computed BEFORE streaming: a write committing meanwhile can make the file newer
 * than its ETag (the next request then simply gets 200 again), never older, so a 304 is never stale.
 *
 * Watermark (src/lists/watermark.ts): count, sum and max of change_xid over the filtered rows (and of the joined rows whose
 * fields the export shows). Why the sum and not just max + count: transaction ids are handed out
 * at start and committed in any order, so a late commit can stamp a row with an id below the
 * current max; the max and count stay, the sum moves. Deletions change the count.
 * The request's URL (filters, format, paging, lang) and its Accept and Accept-Language headers are
 * part of the tag, so two different files never share one.
 */
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ifNoneMatchHits } from './conditional.js';

export function exportEtagOf(request: FastifyRequest, watermark: string): string {
  const hash = createHash('sha256')
    .update(
      `${request.url}\n${request.headers.accept ?? ''}\n${request.headers['accept-language'] ?? ''}\n${watermark}`,
    )
    .digest('base64url')
    .slice(0, 27);
  return `W/"x${hash}"`;
}

/**
 * Sets the export's ETag; true when If-None-Match names it, and the caller answers 304 instead of
 * streaming: `if (await exportNotModified(...)) return reply.code(304).send(null);`
 */
export async function exportNotModified(
  request: FastifyRequest,
  reply: FastifyReply,
  watermark: Promise<string>,
): Promise<boolean> {
  const etag = exportEtagOf(request, await watermark);
  reply.header('etag', etag);
  return ifNoneMatchHits(request, etag);
}

export const exportEtagDescription =
  " Exports carry a weak ETag computed before streaming from the matching rows' change stamps and count; If-None-Match with it answers 304.";
