/**
 * The HTTP side of the status cache: a status route hands its key and its computation; a hit is
 * sent as stored (ETag and body), a miss is computed, serialized once, stored and sent. The ETag
 * is the same weak hash of the body that src/http/conditional.ts gives every uncached read, so a
 * client's validator stays valid whether the answer came from the cache or not.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ifNoneMatchHits, weakEtagOf } from '../http/conditional.js';
import type { AnswerScope, CachedAnswer, StatusCache } from './cache.js';

export interface Computed<T> {
  value: T;
  scope: AnswerScope;
  /** Headers that belong to the answer (a page's Link), stored and sent with it. */
  headers?: Record<string, string>;
}

function send(request: FastifyRequest, reply: FastifyReply, answer: CachedAnswer): void {
  if (answer.headers) reply.headers(answer.headers);
  reply.header('etag', answer.etag);
  if (ifNoneMatchHits(request, answer.etag)) reply.code(304).send();
  else reply.type('application/json; charset=utf-8').send(answer.body);
}

/**
 * Answers from `cache` or from `compute`, which reads the database. Only 200 answers are cached:
 * `compute` throws for 400/404, and those go to the error handler. Without a cache (CACHE=off) the
 * value is returned for the route's own serializer, exactly as before the cache existed.
 * `key` is a function: with CACHE=off no key is built (a feed page's key sorts its filter and
 * formats the day, per request, for nothing).
 */
export async function answerCached<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  cache: StatusCache | undefined,
  key: () => string,
  compute: () => Promise<Computed<T>>,
): Promise<T | void> {
  if (!cache) {
    const { value, headers } = await compute();
    if (headers) reply.headers(headers);
    return value;
  }
  const cacheKey = key();
  const hit = cache.get(cacheKey);
  if (hit) return send(request, reply, hit);
  // Before the first read of the computation (see StatusCache.store).
  const stamp = cache.stamp();
  const { value, scope, headers } = await compute();
  const body = JSON.stringify(value);
  const answer = { body, etag: weakEtagOf(body), headers };
  cache.store(cacheKey, answer, stamp, scope);
  return send(request, reply, answer);
}
