import type { FastifyReply, FastifyRequest } from 'fastify';
import { ifNoneMatchHits } from './conditional.js';
import type { IfMatch } from '../shared/if-match.js';

export const etagOf = (version: number) => `"${version}"`;

export function setEtag(reply: FastifyReply, version: number) {
  reply.header('etag', etagOf(version));
}

/** The version an If-Match names, or undefined when absent or "*" (writes without it still work). */
export function ifMatchVersion(request: FastifyRequest): number | undefined {
  const header = request.headers['if-match'];
  if (!header || header.trim() === '*') return undefined;
  const match = /^(?:W\/)?"?(\d+)"?$/.exec(header.trim());
  return match ? Number(match[1]) : -1; // -1 never matches: a malformed If-Match is stale by definition
}

/** The request's If-Match as the services take it (src/shared/if-match.ts). */
export function ifMatchOf(request: FastifyRequest): IfMatch {
  if (!request.headers['if-match']) return undefined;
  return { version: ifMatchVersion(request) };
}

/** If-None-Match names the entity's version ETag (weak comparison, as for every conditional GET). */
export function notModified(request: FastifyRequest, version: number): boolean {
  return ifNoneMatchHits(request, etagOf(version));
}

/** A versioned entity's GET: its version ETag, 304 when If-None-Match names it, else the DTO. */
export function answerVersioned<Row extends { version: number }, Dto>(
  request: FastifyRequest,
  reply: FastifyReply,
  row: Row,
  toDto: (row: Row) => Dto,
): Dto | FastifyReply {
  setEtag(reply, row.version);
  if (notModified(request, row.version)) return reply.code(304).send(null);
  return toDto(row);
}
