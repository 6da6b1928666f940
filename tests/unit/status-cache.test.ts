import { describe, expect, it } from 'vitest';
import { entryBytes, StatusCache } from '../../src/status-cache/cache.js';
import { feedPageKey, indicatorStatusKey, planStatusKey } from '../../src/status-cache/key.js';

const answer = (body: string) => ({ body, etag: `W/"${body.length}"` });
const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';

function liveCache(maxBytes = 1_000_000) {
  const cache = new StatusCache(maxBytes);
  cache.resume();
  return cache;
}

describe('StatusCache', () => {
  it('serves nothing and stores nothing until invalidation is live', () => {
    const cache = new StatusCache(1_000_000);
    expect(cache.stamp()).toBeUndefined();
    expect(cache.store('k', answer('x'), cache.stamp(), { planIds: [A] })).toBe(false);
    expect(cache.get('k')).toBeUndefined();
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 0, bypasses: 1, entries: 0, bytes: 0, live: false });
  });

  it('counts a miss, then a hit that returns the stored body and ETag', () => {
    const cache = liveCache();
    expect(cache.get('k')).toBeUndefined();
    expect(cache.store('k', answer('{"a":1}'), cache.stamp(), { planIds: [A] })).toBe(true);
    expect(cache.get('k')).toMatchObject(answer('{"a":1}'));
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, entries: 1, bytes: entryBytes('k', answer('{"a":1}')) });
  });

  it('refuses an answer whose computation started before an eviction (it may hold the old state)', () => {
    const cache = liveCache();
    const stamp = cache.stamp();
    cache.evictPlans([B]); // a commit of another plan: still refused (one generation for all)
    expect(cache.store('k', answer('old'), stamp, { planIds: [A] })).toBe(false);
    expect(cache.store('k', answer('new'), cache.stamp(), { planIds: [A] })).toBe(true);
  });

  it('refuses an answer computed across a lost and regained listener', () => {
    const cache = liveCache();
    const stamp = cache.stamp();
    cache.suspend();
    cache.resume();
    expect(cache.store('k', answer('x'), stamp, { planIds: [A] })).toBe(false);
  });

  it("evicts the named plans' answers and every feed page, and keeps other plans'", () => {
    const cache = liveCache();
    const s = cache.stamp();
    cache.store('a', answer('a'), s, { planIds: [A] });
    cache.store('b', answer('b'), s, { planIds: [B] });
    cache.store('f', answer('f'), s, { feed: true });
    cache.evictPlans([A]);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('f')).toBeUndefined();
    expect(cache.get('b')).toMatchObject(answer('b'));
    expect(cache.stats()).toMatchObject({ invalidations: 2, entries: 1, notifications: 1, evictions: 0 });
    cache.evictPlans([]); // a plan with nothing cached: nothing to drop, nothing fails
    expect(cache.stats().entries).toBe(1);
  });

  it('suspend() empties the cache and bypasses reads; resume() starts empty', () => {
    const cache = liveCache();
    cache.store('a', answer('a'), cache.stamp(), { planIds: [A] });
    cache.suspend();
    expect(cache.get('a')).toBeUndefined();
    expect(cache.stats()).toMatchObject({ entries: 0, bytes: 0, bypasses: 1, live: false });
    cache.resume();
    expect(cache.get('a')).toBeUndefined();
    expect(cache.stats().misses).toBe(1);
  });

  it('stays within maxBytes by evicting the least recently used, and keeps a recently read one', () => {
    const one = entryBytes('k0', answer('x'.repeat(100)));
    const cache = liveCache(one * 3);
    for (const k of ['k0', 'k1', 'k2']) cache.store(k, answer('x'.repeat(100)), cache.stamp(), { planIds: [A] });
    cache.get('k0'); // k1 is now the least recently used
    cache.store('k3', answer('x'.repeat(100)), cache.stamp(), { planIds: [A] });
    expect(cache.get('k1')).toBeUndefined();
    expect(cache.get('k0')).toBeDefined();
    expect(cache.stats()).toMatchObject({ evictions: 1, entries: 3, bytes: one * 3 });
    // Evicted by size, then by plan: the plan index holds no stale key.
    cache.evictPlans([A]);
    expect(cache.stats()).toMatchObject({ entries: 0, bytes: 0 });
  });

  it('refuses an answer larger than the whole cache, and a zero-byte cache stores nothing', () => {
    const cache = liveCache(100);
    expect(cache.store('k', answer('x'.repeat(1000)), cache.stamp(), { planIds: [A] })).toBe(false);
    const none = liveCache(0);
    expect(none.store('k', answer(''), none.stamp(), { planIds: [A] })).toBe(false);
    expect(none.stats().bytes).toBe(0);
  });

  it('replacing a key keeps the byte count exact', () => {
    const cache = liveCache();
    cache.store('k', answer('short'), cache.stamp(), { planIds: [A] });
    cache.store('k', answer('a longer body'), cache.stamp(), { planIds: [B] });
    expect(cache.stats()).toMatchObject({ entries: 1, bytes: entryBytes('k', answer('a longer body')) });
    cache.evictPlans([A]);
    expect(cache.stats().entries).toBe(1);
    cache.evictPlans([B]);
    expect(cache.stats().entries).toBe(0);
  });
});

describe('cache keys', () => {
  it('differ by every part of the request that changes the answer', () => {
    const keys = [
      planStatusKey(A, 2016, undefined, false),
      planStatusKey(A, 2016, 'ru', false),
      planStatusKey(A, 2017, undefined, false),
      planStatusKey(B, 2016, undefined, false),
      planStatusKey(A, 2016, undefined, true),
      indicatorStatusKey(A, 2016, undefined),
      indicatorStatusKey(A, undefined, undefined),
      feedPageKey({ year: 2016 }, 50, undefined, undefined, false),
      feedPageKey({ year: 2016 }, 51, undefined, undefined, false),
      feedPageKey({ year: 2016, planId: A }, 50, undefined, undefined, false),
      feedPageKey({ year: 2016, organizationId: A }, 50, undefined, undefined, false),
      feedPageKey({ year: 2016, status: 'achieved' }, 50, undefined, undefined, false),
      feedPageKey({ year: 2016 }, 50, 'c1', undefined, false),
      feedPageKey({ year: 2016 }, 50, undefined, 'en', false),
      feedPageKey({ year: 2016 }, 50, undefined, undefined, true),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('cannot be forged by a cursor holding separators', () => {
    expect(feedPageKey({}, 50, 'x","kk', undefined, false)).not.toBe(feedPageKey({}, 50, 'x', 'kk', false));
  });
});
