/**
 * Conditional GETs for every read: a GET (or HEAD) answered 200 without an ETag of its own gets a
 * weak ETag hashing the exact body sent, and If-None-Match naming it answers 304 with no body.
 * Single entities keep their version ETags ("3"), set by their handlers, and answer 304 themselves.
 * Lists and status documents change whenever any row in them changes, so a hash of the body is
 * the one validator that is always right (it also covers ?lang, CSV and paging).
 * Streamed bodies (exports) are left alone.
 */
import crypto, { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';

// One-shot hashing (Node >= 20.12) skips the Hash object per response; the engines field allows 20.11.
const oneShot = (crypto as { hash?: (algorithm: string, data: string | Buffer, encoding: 'base64url') => string }).hash;
const sha256 = oneShot
  ? (payload: string | Buffer) => oneShot('sha256', payload, 'base64url')
  : (payload: string | Buffer) => createHash('sha256').update(payload).digest('base64url');

export function weakEtagOf(payload: string | Buffer): string {
  return `W/"${sha256(payload).slice(0, 27)}"`;
}

/** RFC 9110 weak comparison of `etag` against every tag of If-None-Match ("*" matches any): the one parser of that header. */
export function ifNoneMatchHits(request: FastifyRequest, etag: string): boolean {
  const header = request.headers['if-none-match'];
  if (!header) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  const wanted = opaque(etag);
  return header.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === wanted);
}

export const NOT_MODIFIED = z.null().describe('Not modified: the If-None-Match ETag is current.');

export function registerConditionalGet(scope: FastifyInstance) {
  // Documents the 304 on every GET of the scope (routes registered after this call).
  scope.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const response = (route.schema as { response?: Record<string, unknown> } | undefined)?.response;
    if (methods.includes('GET') && response && response[304] === undefined && response[200] !== undefined)
      response[304] = NOT_MODIFIED;
  });
  // Callback style, not async: this runs on every read, and a promise per response is measurable.
  scope.addHook('onSend', (request, reply, payload, done) => {
    if ((request.method !== 'GET' && request.method !== 'HEAD') || reply.statusCode !== 200) return done(null, payload);
    if (reply.getHeader('etag') !== undefined) return done(null, payload);
    if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return done(null, payload);
    // A string body is encoded to UTF-8 once, here: the hash and the socket then read the same
    // bytes (hashing the string, measuring it for Content-Length and writing it were three passes;
    // docs/benchmarks.md, the 300-indicator plan status).
    const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
    const etag = weakEtagOf(body);
    reply.header('etag', etag);
    if (ifNoneMatchHits(request, etag)) {
      reply.code(304);
      reply.removeHeader('content-length');
      return done(null, '');
    }
    done(null, body);
  });
}
