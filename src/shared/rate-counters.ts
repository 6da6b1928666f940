/**
 * The counters behind every rate limit: the write budget and the per-address /auth limit (counted by
 * @fastify/rate-limit, which asks them through the store in src/http/rate-limits.ts) and the
 * failed-login and failed-client lockouts (src/auth/rate-limit.ts). No HTTP here: services use them too.
 *
 * Fixed windows: the first count of a key starts its window, and the key is forgotten when it ends.
 * Two backends with one meaning: process memory (each replica counts on its own), or Redis when
 * RATE_LIMIT_REDIS_URL is set (every replica counts in one place, so N replicas give one budget).
 *
 * Why not the library's own stores: today's limits also take a count back (a write answered 503 never
 * reached the database) and forget a key (a successful login clears that address's failures); the
 * library's stores can only add.
 */
import type { Redis } from 'ioredis';

export interface Count {
  /** Events counted in the key's current window (0: no window). */
  current: number;
  /** Milliseconds until the window ends (0: no window). */
  ttl: number;
}

export interface Counters {
  /** Counts one event under `key`; the first one starts a window of `windowMs`. */
  incr(key: string, windowMs: number): Promise<Count>;
  /** The key's count, without counting. */
  read(key: string): Promise<Count>;
  /** Takes one event back (never below zero, never starting a window). */
  decr(key: string): Promise<void>;
  /** Forgets the key. */
  reset(key: string): Promise<void>;
  /** Where the counts live, for the log line at start-up. */
  readonly kind: 'memory' | 'redis';
}

const MAX_KEYS = 100_000;

interface Window {
  count: number;
  endsAt: number;
}

/** Counters in this process's memory, bounded: a flood of distinct keys cannot grow it past MAX_KEYS. */
export function memoryCounters(): Counters {
  const windows = new Map<string, Window>();
  let nextSweep = 0;
  const sweep = (now: number) => {
    if (now < nextSweep && windows.size < MAX_KEYS) return;
    nextSweep = now + 60_000;
    for (const [key, window] of windows) if (window.endsAt <= now) windows.delete(key);
    // Still full: forget the oldest half rather than grow without bound.
    let excess = windows.size >= MAX_KEYS ? windows.size - MAX_KEYS / 2 : 0;
    for (const key of windows.keys()) {
      if (excess-- <= 0) break;
      windows.delete(key);
    }
  };
  const live = (key: string, now: number) => {
    const window = windows.get(key);
    if (window && window.endsAt <= now) {
      windows.delete(key);
      return undefined;
    }
    return window;
  };
  const countOf = (window: Window | undefined, now: number): Count =>
    window ? { current: window.count, ttl: Math.max(1, window.endsAt - now) } : { current: 0, ttl: 0 };
  return {
    kind: 'memory',
    incr(key, windowMs) {
      const now = Date.now();
      sweep(now);
      let window = live(key, now);
      if (!window) {
        window = { count: 0, endsAt: now + windowMs };
        windows.set(key, window);
      }
      window.count += 1;
      return Promise.resolve(countOf(window, now));
    },
    read(key) {
      const now = Date.now();
      return Promise.resolve(countOf(live(key, now), now));
    },
    decr(key) {
      const window = live(key, Date.now());
      if (window && window.count > 0) window.count -= 1;
      return Promise.resolve();
    },
    reset(key) {
      windows.delete(key);
      return Promise.resolve();
    },
  };
}

// The same fixed window as @fastify/rate-limit's own Redis store: INCR, and PEXPIRE on the first count.
const INCR = `
local current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 1 then ttl = 1 end
return {current, ttl}`;
const READ = `
local current = redis.call('GET', KEYS[1])
if not current then return {0, 0} end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 1 then return {0, 0} end
return {tonumber(current), ttl}`;
// Only a live window with a positive count is decremented: DECR on a missing key would create one without expiry.
const DECR = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current > 0 and redis.call('PTTL', KEYS[1]) > 0 then redis.call('DECR', KEYS[1]) end
return 0`;

type Script = (key: string, ...args: (string | number)[]) => Promise<unknown>;

const pair = (value: unknown): Count => {
  const [current, ttl] = Array.isArray(value) ? (value as unknown[]).map(Number) : [0, 0];
  return { current: current ?? 0, ttl: ttl ?? 0 };
};

/** Counters in Redis under `prefix` (every key this app writes starts with it). */
export function redisCounters(redis: Redis, prefix: string): Counters {
  // ioredis sends each script once (EVALSHA after that) and adds it as a method of the client.
  const script = (name: string, lua: string): Script => {
    redis.defineCommand(name, { numberOfKeys: 1, lua });
    return (redis as unknown as Record<string, Script>)[name]!.bind(redis);
  };
  const incr = script('nysanaRateIncr', INCR);
  const read = script('nysanaRateRead', READ);
  const decr = script('nysanaRateDecr', DECR);
  return {
    kind: 'redis',
    incr: async (key, windowMs) => pair(await incr(prefix + key, windowMs)),
    read: async (key) => pair(await read(prefix + key)),
    decr: async (key) => {
      await decr(prefix + key);
    },
    reset: async (key) => {
      await redis.del(prefix + key);
    },
  };
}
