/**
 * Fixed-window counters in process memory. Enough for one replica; with N replicas behind a load
 * balancer an attacker gets up to N times the budget, which is why the per-account lockout also
 * exists (it bounds guesses per account, not per connection). A shared store (Redis, PostgreSQL)
 * would make the limits global; the interface here is small enough to swap.
 */
export interface RateDecision {
  allowed: boolean;
  /** Seconds until the window resets (for Retry-After); 0 when allowed. */
  retryAfter: number;
  /** Events the window still allows after this one (the RateLimit-Remaining header). */
  remaining: number;
  /** Seconds until the window resets, allowed or not (the RateLimit-Reset header). */
  resetSeconds: number;
}

interface Window {
  count: number;
  resetsAt: number;
}

const MAX_KEYS = 100_000;

export class RateLimiter {
  private windows = new Map<string, Window>();
  private nextSweep = 0;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  /** Counts one event for `key` and says whether it is within the limit. */
  hit(key: string): RateDecision {
    const window = this.current(key, true)!;
    window.count += 1;
    return this.decide(window);
  }

  /** Whether `key` is over its limit, without counting (e.g. "is this account locked?"). */
  check(key: string): RateDecision {
    const window = this.current(key, false);
    return window ? this.decide({ ...window, count: window.count + 1 }) : { allowed: true, retryAfter: 0, remaining: this.limit - 1, resetSeconds: 0 };
  }

  /** Where `key` stands now, counting nothing (for the RateLimit headers of an answer that was not counted). */
  peek(key: string): RateDecision {
    const window = this.current(key, false);
    if (!window) return { allowed: true, retryAfter: 0, remaining: this.limit, resetSeconds: Math.ceil(this.windowMs / 1000) };
    return { ...this.decide(window), allowed: window.count < this.limit };
  }

  /** Takes back one counted event (it turned out not to count, e.g. a write that never reached the database). */
  refund(key: string) {
    const window = this.current(key, false);
    if (window && window.count > 0) window.count -= 1;
  }

  reset(key: string) {
    this.windows.delete(key);
  }

  private decide(window: Window): RateDecision {
    const resetSeconds = Math.max(1, Math.ceil((window.resetsAt - Date.now()) / 1000));
    const remaining = Math.max(0, this.limit - window.count);
    if (window.count <= this.limit) return { allowed: true, retryAfter: 0, remaining, resetSeconds };
    return { allowed: false, retryAfter: resetSeconds, remaining, resetSeconds };
  }

  private current(key: string, create: boolean): Window | undefined {
    const now = Date.now();
    this.sweep(now);
    let window = this.windows.get(key);
    if (window && window.resetsAt <= now) {
      this.windows.delete(key);
      window = undefined;
    }
    if (!window && create) {
      window = { count: 0, resetsAt: now + this.windowMs };
      this.windows.set(key, window);
    }
    return window;
  }

  private sweep(now: number) {
    if (now < this.nextSweep && this.windows.size < MAX_KEYS) return;
    this.nextSweep = now + this.windowMs;
    for (const [key, window] of this.windows) if (window.resetsAt <= now) this.windows.delete(key);
    // Still full (a flood of distinct keys): forget the oldest rather than grow without bound.
    if (this.windows.size >= MAX_KEYS) {
      let excess = this.windows.size - MAX_KEYS / 2;
      for (const key of this.windows.keys()) {
        if (excess-- <= 0) break;
        this.windows.delete(key);
      }
    }
  }
}

export interface AuthLimits {
  /** Every /auth/* request, per client IP. */
  perIp: RateLimiter;
  /**
   * Failed logins per account (lower-cased e-mail) and source address (see failureKey), and failed
   * password changes per user.
   */
  accountFailures: RateLimiter;
  /** Failed client authentications per client_id and source address. */
  clientFailures: RateLimiter;
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

export function createAuthLimits(config: { AUTH_RATE_LIMIT_PER_MINUTE: number; AUTH_MAX_FAILURES: number; AUTH_LOCKOUT_SECONDS: number }): AuthLimits {
  return {
    perIp: new RateLimiter(config.AUTH_RATE_LIMIT_PER_MINUTE, 60_000),
    accountFailures: new RateLimiter(config.AUTH_MAX_FAILURES, config.AUTH_LOCKOUT_SECONDS * 1000),
    clientFailures: new RateLimiter(config.AUTH_MAX_FAILURES * 2, config.AUTH_LOCKOUT_SECONDS * 1000),
  };
}
