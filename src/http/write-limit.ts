/**
 * A per-caller budget of writes (per user or client; per address before authentication), so one
 * runaway integration cannot starve everyone else. In process memory, like the /auth limits.
 */
import type { FastifyInstance } from 'fastify';
import { RateLimiter } from '../auth/rate-limit.js';
import { HttpProblem } from './problem.js';

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function registerWriteLimit(scope: FastifyInstance, perMinute: number) {
  if (perMinute <= 0) return;
  const limiter = new RateLimiter(perMinute, 60_000);
  // Callback style: every read passes through here too, and an async hook costs a promise each.
  scope.addHook('preHandler', (request, reply, done) => {
    // /auth/* has limits of its own, tuned for guessing rather than volume.
    if (!WRITES.has(request.method) || request.routeOptions.url?.includes('/auth/')) return done();
    const key = request.principal ? `${request.principal.kind}:${request.principal.id}` : `ip:${request.ip}`;
    const decision = limiter.hit(key);
    if (!decision.allowed) {
      reply.header('retry-after', String(decision.retryAfter));
      return done(
        new HttpProblem(429, `More than ${perMinute} writes a minute; retry after ${decision.retryAfter} s.`, undefined, {
          'retry-after': String(decision.retryAfter),
        }),
      );
    }
    done();
  });
}
