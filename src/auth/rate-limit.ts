/**
 * The /auth limits. Every /auth/* request counts against its address (@fastify/rate-limit, see
 * authRateLimit and src/auth/routes.ts). Failed logins and failed client authentications count
 * against the account and address, and lock that pair out for a while: a count of failures only,
 * cleared by a success, which is not a per-request limit, so it is kept here on the same counters.
 *
 * The counters are in process memory, or in Redis with RATE_LIMIT_REDIS_URL (src/shared/rate-counters.ts).
 * In memory, N replicas behind a load balancer give an attacker up to N times each budget; the
 * per-account lockout still bounds guesses per account and address on each of them.
 */
import type { RateLimitOptions } from '@fastify/rate-limit';
import type { Counters } from '../shared/rate-counters.js';

export interface RateDecision {
  allowed: boolean;
  /** Seconds until the window resets (for Retry-After); 0 when allowed. */
  retryAfter: number;
}

/** Seconds for Retry-After from a window's remaining milliseconds: at least 1. */
export const retryAfterSeconds = (ttlMs: number) => Math.max(1, Math.ceil(ttlMs / 1000));

/** At most `limit` failures per key within a window that starts at the first failure. */
export class Lockout {
  constructor(
    private readonly counters: Counters,
    /** Names this lockout's keys among the other limits' in the shared store. */
    private readonly name: string,
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  /** Whether `key` may try again (false once it has `limit` failures in its window); counts nothing. */
  async check(key: string): Promise<RateDecision> {
    const { current, ttl } = await this.counters.read(this.key(key));
    return current < this.limit
      ? { allowed: true, retryAfter: 0 }
      : { allowed: false, retryAfter: retryAfterSeconds(ttl) };
  }

  /** Counts one failure. */
  async hit(key: string): Promise<void> {
    await this.counters.incr(this.key(key), this.windowMs);
  }

  /** Forgets the key's failures (it succeeded). */
  async reset(key: string): Promise<void> {
    await this.counters.reset(this.key(key));
  }

  private key(key: string) {
    return `${this.name}:${key}`;
  }
}

export interface AuthLimits {
  /** Every /auth/* request, per client IP: options for @fastify/rate-limit (the 429 is built by the routes). */
  perIp: Pick<RateLimitOptions, 'max' | 'timeWindow' | 'keyGenerator'>;
  /**
   * Failed logins per account (lower-cased e-mail) and source address (see failureKey), and failed
   * password changes per user.
   */
  accountFailures: Lockout;
  /** Failed client authentications per client_id and source address. */
  clientFailures: Lockout;
}

/**
 * The key failures are counted under: the account (e-mail or client_id) AND the source address.
 * Counted per account alone, anyone could lock the real user or integration out by sending wrong
 * secrets on purpose; per account and address, the lockout stops only the address that guesses.
 * Guessing from many addresses stays bounded by the per-address /auth limit on each of them, and
 * by argon2's cost for passwords (client secrets are 256-bit random: not guessable at all).
 */
export function failureKey(account: string, address: string): string {
  return `${account}\u0000${address}`;
}

export function createAuthLimits(
  config: { AUTH_RATE_LIMIT_PER_MINUTE: number; AUTH_MAX_FAILURES: number; AUTH_LOCKOUT_SECONDS: number },
  counters: Counters,
): AuthLimits {
  return {
    perIp: {
      max: config.AUTH_RATE_LIMIT_PER_MINUTE,
      timeWindow: 60_000,
      keyGenerator: (request) => `auth-ip:${request.ip}`,
    },
    accountFailures: new Lockout(
      counters,
      'login-failures',
      config.AUTH_MAX_FAILURES,
      config.AUTH_LOCKOUT_SECONDS * 1000,
    ),
    clientFailures: new Lockout(
      counters,
      'client-failures',
      config.AUTH_MAX_FAILURES * 2,
      config.AUTH_LOCKOUT_SECONDS * 1000,
    ),
  };
}
