import type { FastifyReply, FastifyRequest } from 'fastify';
import { preconditionFailed } from './problem.js';

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

export function assertIfMatch(request: FastifyRequest, currentVersion: number) {
  const expected = ifMatchVersion(request);
  if (expected !== undefined && expected !== currentVersion) throw preconditionFailed(currentVersion);
}

export function notModified(request: FastifyRequest, version: number): boolean {
  const header = request.headers['if-none-match'];
  if (!header) return false;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etagOf(version) || tag.trim() === '*');
}
