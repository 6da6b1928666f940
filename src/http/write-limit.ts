/**
 * A per-caller budget of writes (per user or client; per address before authentication), so one
 * runaway integration cannot starve everyone else. In process memory, like the /auth limits.
 *
 * Only writes that reached the database count: a write answered 503 (database down, query
 * cancelled) is refunded when its answer goes out, or a client retrying through an outage would
 * meet a wall of 429s once the database is back. Counting happens before the handler (and a refund
 * after), not after, so a burst of concurrent writes cannot all slip under the limit.
 */
import type { FastifyInstance } from 'fastify';
import { RateLimiter } from '../auth/rate-limit.js';
import { HttpProblem } from './problem.js';
import { isLimitedWrite, sendRateLimitHeaders } from './rate-limit-headers.js';

/** The limiter key a request was counted under, to refund it. */
const counted = new WeakMap<object, string>();

export function registerWriteLimit(scope: FastifyInstance, perMinute: number) {
  if (perMinute <= 0) return;
  const limiter = new RateLimiter(perMinute, 60_000);
  // Callback style: every read passes through here too, and an async hook costs a promise each.
  scope.addHook('preHandler', (request, reply, done) => {
    // /auth/* has limits of its own, tuned for guessing rather than volume.
    if (!isLimitedWrite(request.method, request.routeOptions.url ?? '')) return done();
    const key = request.principal ? `${request.principal.kind}:${request.principal.id}` : `ip:${request.ip}`;
    const decision = limiter.hit(key);
    sendRateLimitHeaders(reply, perMinute, decision);
    if (decision.allowed) counted.set(request, key);
    else {
      reply.header('retry-after', String(decision.retryAfter));
      return done(
        new HttpProblem(429, `More than ${perMinute} writes a minute; retry after ${decision.retryAfter} s.`, undefined, {
          'retry-after': String(decision.retryAfter),
        }),
      );
    }
    done();
  });
  scope.addHook('onResponse', (request, reply, done) => {
    const key = counted.get(request);
    if (key !== undefined && reply.statusCode === 503) limiter.refund(key);
    done();
  });
}
