import { describe, expect, it } from 'vitest';
import { VerifiedTokenCache } from '../../src/auth/verified-tokens.js';

const entry = (exp: number, nbf = -Infinity) => ({ value: { id: 'u' }, kid: 'k1', exp, nbf });

describe('verified-token cache', () => {
  it('answers until exp + tolerance, then forgets the token', () => {
    const cache = new VerifiedTokenCache<{ id: string }>(10, 30);
    cache.set('t', entry(1000));
    expect(cache.get('t', 999)?.value).toEqual({ id: 'u' });
    expect(cache.get('t', 1029)?.kid).toBe('k1');
    expect(cache.get('t', 1030)).toBeUndefined(); // exp + tolerance: expired, as jose decides
    expect(cache.size).toBe(0);
    expect(cache.get('t', 999)).toBeUndefined(); // gone, not resurrected by an earlier clock
  });

  it('does not answer before nbf - tolerance', () => {
    const cache = new VerifiedTokenCache<{ id: string }>(10, 30);
    cache.set('t', entry(5000, 2000));
    expect(cache.get('t', 1969)).toBeUndefined();
    cache.set('t', entry(5000, 2000));
    expect(cache.get('t', 1970)).toBeDefined();
  });

  it('holds at most maxEntries, dropping the oldest first', () => {
    const cache = new VerifiedTokenCache<{ id: string }>(3, 0);
    for (const t of ['a', 'b', 'c', 'd']) cache.set(t, entry(10));
    expect(cache.size).toBe(3);
    expect(cache.get('a', 0)).toBeUndefined();
    expect(['b', 'c', 'd'].map((t) => cache.get(t, 0)?.kid)).toEqual(['k1', 'k1', 'k1']);
  });

  it('keeps nothing with a size of 0, and only what it was given', () => {
    const off = new VerifiedTokenCache<{ id: string }>(0, 30);
    off.set('t', entry(1000));
    expect(off.get('t', 0)).toBeUndefined();
    const cache = new VerifiedTokenCache<{ id: string }>(10, 30);
    cache.set('t', entry(1000));
    expect(cache.get('t.', 0)).toBeUndefined(); // exact token strings only
    cache.delete('t');
    expect(cache.get('t', 0)).toBeUndefined();
  });
});
