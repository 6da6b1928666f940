/**
 * A per-caller budget of writes (per user or client; per address before authentication), so one
 * runaway integration cannot starve everyone else. Counted by @fastify/rate-limit on the counters of
 * src/shared/rate-counters.ts: per process, or shared by every replica with RATE_LIMIT_REDIS_URL.
 * Counted writes carry the RateLimit-Limit / -Remaining / -Reset headers; a refused one 429 and Retry-After.
 *
 * Only writes that reached the database count: a write answered 503 (database down, query
 * cancelled) is refunded when its answer goes out, or a client retrying through an outage would
 * meet a wall of 429s once the database is back. Counting happens before the handler (and a refund
 * after), not after, so a burst of concurrent writes cannot all slip under the limit.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { retryAfterSeconds } from '../auth/rate-limit.js';
import { HttpProblem } from './problem.js';
import type { Counters } from '../shared/rate-counters.js';

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The counter key a request was counted under, to refund it. */
const counted = new WeakMap<object, string>();

const keyOf = (request: FastifyRequest) =>
  `writes:${request.principal ? `${request.principal.kind}:${request.principal.id}` : `ip:${request.ip}`}`;

export function registerWriteLimit(scope: FastifyInstance, perMinute: number, counters: Counters) {
  if (perMinute <= 0) return;
  const limit = scope.rateLimit({
    max: perMinute,
    timeWindow: 60_000,
    keyGenerator: keyOf,
    errorResponseBuilder: (_request, context) => {
      const seconds = retryAfterSeconds(context.ttl);
      return new HttpProblem(429, `More than ${perMinute} writes a minute; retry after ${seconds} s.`, undefined, {
        'retry-after': String(seconds),
      });
    },
  });
  // Before validation (authentication has run in onRequest), so a refused invalid write counts and says
  // so in its headers. Callback style, and reads never reach the limiter: every read passes through
  // here, and an async hook costs a promise each.
  scope.addHook('preValidation', function (request, reply, done) {
    // /auth/* has limits of its own, tuned for guessing rather than volume.
    if (!WRITES.has(request.method) || request.routeOptions.url?.includes('/auth/')) return done();
    limit.call(this, request, reply).then(
      () => {
        counted.set(request, keyOf(request));
        done();
      },
      (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
    );
  });
  scope.addHook('onResponse', (request, reply, done) => {
    const key = counted.get(request);
    if (key === undefined || reply.statusCode !== 503) return done();
    counters.decr(key).then(
      () => done(),
      (error: unknown) => {
        request.log.warn({ err: error }, 'write budget refund failed');
        done();
      },
    );
  });
}
