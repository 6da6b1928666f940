/**
 * Where the rate-limit counters live, and @fastify/rate-limit registered over them (its limiters are
 * made where they apply: the write budget in src/http/write-limit.ts, the /auth limit in
 * src/auth/routes.ts).
 *
 * With RATE_LIMIT_REDIS_URL the counters are in Redis, so replicas share every budget; without it,
 * each process counts on its own. A Redis that does not answer fails open (the request is let through
 * and a warning logged): an unreachable limiter store must not take the API down with it, and the
 * lockouts' per-address budget is backed by argon2's cost anyway.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { Count, Counters } from '../shared/rate-counters.js';
import { memoryCounters, redisCounters } from '../shared/rate-counters.js';

interface RateLimitConfig {
  RATE_LIMIT_REDIS_URL?: string | undefined;
  RATE_LIMIT_REDIS_PREFIX: string;
}

/**
 * A Redis client that never makes a request wait for a connection: without one, a command fails at
 * once (no offline queue) and the limit fails open, while ioredis reconnects in the background.
 */
function connectRateLimitRedis(url: string): Redis {
  return new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 1_000,
  });
}

/** Counters whose failures are logged and read as "nothing counted yet". */
function failOpen(counters: Counters, log: () => FastifyBaseLogger): Counters {
  const none: Count = { current: 0, ttl: 0 };
  const warn = (error: unknown) => log().warn({ err: error }, 'rate-limit store unavailable; request let through');
  return {
    kind: counters.kind,
    incr: (key, windowMs) => counters.incr(key, windowMs).catch((error: unknown) => (warn(error), none)),
    read: (key) => counters.read(key).catch((error: unknown) => (warn(error), none)),
    decr: (key) => counters.decr(key).catch(warn),
    reset: (key) => counters.reset(key).catch(warn),
  };
}

/**
 * The counters for this configuration (no I/O yet: the Redis client connects on first use), and a
 * function that registers @fastify/rate-limit over them and closes the client with the app.
 */
export function createRateLimits(config: RateLimitConfig) {
  const redis = config.RATE_LIMIT_REDIS_URL ? connectRateLimitRedis(config.RATE_LIMIT_REDIS_URL) : undefined;
  let logger: FastifyBaseLogger | undefined;
  const log = () => logger!;
  const counters = redis ? failOpen(redisCounters(redis, config.RATE_LIMIT_REDIS_PREFIX), log) : memoryCounters();
  const register = async (app: FastifyInstance) => {
    logger = app.log;
    if (redis) {
      // Without a listener ioredis prints every failed reconnect to stderr.
      redis.on('error', (error: unknown) => app.log.warn({ err: error }, 'rate-limit Redis connection failed'));
      // Connected before the first request (within connectTimeout); a Redis that is down does not stop start-up.
      app.addHook('onReady', async () => {
        await redis
          .connect()
          .catch((error: unknown) => app.log.warn({ err: error }, 'rate-limit Redis unreachable; limits fail open'));
      });
      app.addHook('onClose', () => {
        redis.disconnect();
        return Promise.resolve();
      });
    }
    // global: false: each limiter is attached where it applies. Draft-spec headers: RateLimit-Limit,
    // RateLimit-Remaining, RateLimit-Reset (and Retry-After on a 429).
    await app.register(rateLimit, { global: false, store: rateLimitStore(counters), enableDraftSpec: true });
  };
  return { counters, register };
}

/**
 * Counters as a store class for @fastify/rate-limit (its `store` option takes a constructor).
 * Every limiter's key generator already names its limit ("writes:", "auth-ip:"), so children share
 * the one store.
 */
function rateLimitStore(counters: Counters): FastifyRateLimitStoreCtor {
  class CountersStore implements FastifyRateLimitStore {
    incr(key: string, callback: (error: Error | null, result?: Count) => void, timeWindow: number) {
      counters.incr(key, timeWindow).then(
        (count) => callback(null, count),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    }

    child(): FastifyRateLimitStore {
      return this;
    }
  }
  return CountersStore;
}
