/**
 * A per-caller budget of writes (per user or client; per address before authentication), so one
 * runaway integration cannot starve everyone else. In process memory, like the /auth limits.
 *
 * Only writes that reached the database count: a write answered 503 (database down, query
 * cancelled) is refunded when its answer goes out, or a client retrying through an outage would
 * meet a wall of 429s once the database is back. Counting happens before the handler (and a refund
 * after), not after, so a burst of concurrent writes cannot all slip under the limit.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RateDecision } from '../auth/rate-limit.js';
import { RateLimiter } from '../auth/rate-limit.js';
import { HttpProblem } from './problem.js';
import { isLimitedWrite, sendRateLimitHeaders } from './rate-limit-headers.js';

/** The limiter key a request was counted under, to refund it. */
const counted = new WeakMap<object, string>();
/** What the count said, for the RateLimit headers of the answer. */
const decisions = new WeakMap<object, RateDecision>();

const keyOf = (request: FastifyRequest) => (request.principal ? `${request.principal.kind}:${request.principal.id}` : `ip:${request.ip}`);

export function registerWriteLimit(scope: FastifyInstance, perMinute: number) {
  if (perMinute <= 0) return;
  const limiter = new RateLimiter(perMinute, 60_000);
  // Callback style: every read passes through here too, and an async hook costs a promise each.
  scope.addHook('preHandler', (request, reply, done) => {
    // /auth/* has limits of its own, tuned for guessing rather than volume.
    if (!isLimitedWrite(request.method, request.routeOptions.url ?? '')) return done();
    const key = keyOf(request);
    const decision = limiter.hit(key);
    decisions.set(request, decision);
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
  // Every answer to a write says where its caller stands, also one refused before the count (401, 403,
  // an invalid body): the OpenAPI document declares the headers on all of them.
  scope.addHook('onSend', (request, reply, payload, done) => {
    if (isLimitedWrite(request.method, request.routeOptions.url ?? '')) {
      sendRateLimitHeaders(reply, perMinute, decisions.get(request) ?? limiter.peek(keyOf(request)));
    }
    done(null, payload);
  });
  scope.addHook('onResponse', (request, reply, done) => {
    const key = counted.get(request);
    if (key !== undefined && reply.statusCode === 503) limiter.refund(key);
    done();
  });
}
