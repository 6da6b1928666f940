/** Pieces of src/auth that need no database: rate limiter, password policy, configuration. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { hashPassword, needsRehash, verifyPassword } from '../../src/auth/passwords.js';
import { Lockout } from '../../src/auth/rate-limit.js';
import { memoryCounters } from '../../src/shared/rate-counters.js';
import { sameDigest, sha256 } from '../../src/auth/secrets.js';
import { ConfigError, loadConfig } from '../../src/config.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('rate-limit counters in memory, and the lockout over them', () => {
  it('counts within a window that starts at the first event, says how long is left, then forgets', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const counters = memoryCounters();
    for (const n of [1, 2, 3]) expect(await counters.incr('a', 60_000)).toEqual({ current: n, ttl: 60_000 });
    expect((await counters.incr('b', 60_000)).current).toBe(1);
    vi.advanceTimersByTime(30_000);
    expect(await counters.read('a')).toEqual({ current: 3, ttl: 30_000 });
    vi.advanceTimersByTime(30_000);
    expect(await counters.read('a')).toEqual({ current: 0, ttl: 0 });
    expect(await counters.incr('a', 60_000)).toEqual({ current: 1, ttl: 60_000 });
  });

  it('decr takes one back but never below zero nor into a new window; reset forgets', async () => {
    const counters = memoryCounters();
    await counters.decr('none');
    expect(await counters.read('none')).toEqual({ current: 0, ttl: 0 });
    await counters.incr('k', 60_000);
    await counters.decr('k');
    await counters.decr('k');
    expect((await counters.read('k')).current).toBe(0);
    await counters.incr('k', 60_000);
    await counters.reset('k');
    expect((await counters.read('k')).current).toBe(0);
  });

  it('locks a key at its limit of failures, with Retry-After seconds; check() does not count; reset() unlocks', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const lockout = new Lockout(memoryCounters(), 'test', 2, 60_000);
    expect(await lockout.check('k')).toEqual({ allowed: true, retryAfter: 0 });
    expect(await lockout.check('k')).toEqual({ allowed: true, retryAfter: 0 });
    await lockout.hit('k');
    expect((await lockout.check('k')).allowed).toBe(true);
    await lockout.hit('k');
    vi.advanceTimersByTime(100);
    expect(await lockout.check('k')).toEqual({ allowed: false, retryAfter: 60 });
    expect((await lockout.check('other')).allowed).toBe(true);
    await lockout.reset('k');
    expect((await lockout.check('k')).allowed).toBe(true);
  });

  it('stays bounded under a flood of distinct keys', async () => {
    const counters = memoryCounters();
    for (let i = 0; i < 120_000; i++) await counters.incr(`ip-${i}`, 60_000);
    let live = 0;
    for (let i = 0; i < 120_000; i++) if ((await counters.read(`ip-${i}`)).current > 0) live++;
    expect(live).toBeLessThanOrEqual(100_000);
    expect(live).toBeGreaterThan(0);
  });
});

describe('passwords', () => {
  it('hashes with argon2id at the policy parameters and verifies', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verifyPassword(hash, 'correct horse battery staple')).toBe(true);
    expect(await verifyPassword(hash, 'Correct horse battery staple')).toBe(false);
    expect(await verifyPassword('not a hash', 'x')).toBe(false);
    expect(needsRehash(hash)).toBe(false);
  });

  it('asks to rehash weaker or foreign hashes', () => {
    expect(
      needsRehash('$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHRzYWx0$9sTbSlTio3Biev89thdrlKKiCaYsjjYVJxGAL3swxpQ'),
    ).toBe(true);
    expect(
      needsRehash('$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$9sTbSlTio3Biev89thdrlKKiCaYsjjYVJxGAL3swxpQ'),
    ).toBe(true);
    expect(needsRehash('$2b$10$abcdefghijklmnopqrstuv')).toBe(true);
  });
});

describe('secrets', () => {
  it('compares digests in constant time and refuses malformed ones', () => {
    expect(sameDigest(sha256('a'), sha256('a'))).toBe(true);
    expect(sameDigest(sha256('a'), sha256('b'))).toBe(false);
    expect(sameDigest('', '')).toBe(false);
    expect(sameDigest(sha256('a'), 'abcd')).toBe(false);
  });
});

describe('auth configuration', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      JWT_ISSUER: 'nysana',
      JWT_AUDIENCE: 'nysana-api',
      ACCESS_TOKEN_TTL_SECONDS: 900,
      REFRESH_TOKEN_TTL_SECONDS: 86_400,
      SESSION_MAX_AGE_SECONDS: 604_800,
      AUTH_RATE_LIMIT_PER_MINUTE: 60,
      AUTH_MAX_FAILURES: 5,
      AUTH_LOCKOUT_SECONDS: 900,
      TRUST_PROXY: false,
    });
    expect(config.SSO_JWKS_URL).toBeUndefined();
  });

  it('names the variable that is wrong', () => {
    const fails = (env: Record<string, string>, pattern: RegExp) => {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(pattern);
    };
    fails({ SSO_ISSUER: 'https://sso' }, /SSO_JWKS_URL: required/);
    fails({ SSO_JWKS_URL: 'https://sso/certs', SSO_ISSUER: 'nysana', SSO_AUDIENCE: 'x' }, /SSO_ISSUER: must differ/);
    fails({ SSO_ROLE_MAP: '{not json' }, /SSO_ROLE_MAP: is not valid JSON/);
    fails({ SSO_ROLE_MAP: '{"x":"owner"}' }, /SSO_ROLE_MAP/);
    fails({ ACCESS_TOKEN_TTL_SECONDS: '5' }, /ACCESS_TOKEN_TTL_SECONDS/);
    fails({ JWT_KEY_ENCRYPTION_SECRET: 'short' }, /JWT_KEY_ENCRYPTION_SECRET/);
    fails({ JWT_KEY_ID: 'k1' }, /JWT_KEY_ID: only meaningful/);
  });

  it('parses SSO settings', () => {
    const config = loadConfig({
      SSO_JWKS_URL: 'https://idp.egov.kz/certs',
      SSO_ISSUER: 'https://idp.egov.kz',
      SSO_AUDIENCE: 'nysana',
      SSO_ALGORITHMS: 'RS256, ES256',
      SSO_ROLE_MAP: '{"kpi-admin":"admin"}',
      TRUST_PROXY: 'true',
    });
    expect(config.SSO_ALGORITHMS).toEqual(['RS256', 'ES256']);
    expect(config.SSO_ROLE_MAP).toEqual({ 'kpi-admin': 'admin' });
    expect(config.TRUST_PROXY).toBe(true);
  });
});
