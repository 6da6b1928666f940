import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('configuration', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ PORT: 3000, HOST: '127.0.0.1', DATA_DIR: './data', LOG_LEVEL: 'info' });
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it('names every bad variable', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', DATABASE_URL: 'not a url' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/PORT/);
    expect(message).toMatch(/LOG_LEVEL/);
    expect(message).toMatch(/DATABASE_URL/);
  });

  it('treats empty strings as unset and parses flags', () => {
    expect(loadConfig({ DATABASE_URL: '', DEMO_DATA: 'false' })).toMatchObject({
      DATABASE_URL: undefined,
      DEMO_DATA: false,
    });
    expect(() => loadConfig({ DEMO_DATA: 'maybe' })).toThrow(/DEMO_DATA/);
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT/);
  });

  it('reads the rate-limit Redis: unset by default (per process), redis:// or rediss:// only, a prefix of its own', () => {
    expect(loadConfig({}).RATE_LIMIT_REDIS_URL).toBeUndefined();
    expect(loadConfig({}).RATE_LIMIT_REDIS_PREFIX).toBe('nysana:rate:');
    expect(loadConfig({ RATE_LIMIT_REDIS_URL: '' }).RATE_LIMIT_REDIS_URL).toBeUndefined();
    expect(loadConfig({ RATE_LIMIT_REDIS_URL: 'redis://redis:6379', RATE_LIMIT_REDIS_PREFIX: 'a:' })).toMatchObject({
      RATE_LIMIT_REDIS_URL: 'redis://redis:6379',
      RATE_LIMIT_REDIS_PREFIX: 'a:',
    });
    expect(loadConfig({ RATE_LIMIT_REDIS_URL: 'rediss://user:pw@cache.example:6380/2' }).RATE_LIMIT_REDIS_URL).toMatch(
      /^rediss:/,
    );
    for (const bad of ['http://redis:6379', 'redis', 'not a url']) {
      expect(() => loadConfig({ RATE_LIMIT_REDIS_URL: bad })).toThrow(/RATE_LIMIT_REDIS_URL/);
    }
    expect(() => loadConfig({ RATE_LIMIT_REDIS_PREFIX: '' })).toThrow(/RATE_LIMIT_REDIS_PREFIX/);
  });

  it('bounds streamed exports: defaults, ranges, and a pool never smaller than the concurrency', () => {
    expect(loadConfig({})).toMatchObject({ EXPORT_CONCURRENCY: 4, EXPORT_STALL_TIMEOUT_SECONDS: 30 });
    expect(loadConfig({}).EXPORT_POOL_MAX).toBeUndefined(); // then the pool has EXPORT_CONCURRENCY connections
    expect(
      loadConfig({ EXPORT_CONCURRENCY: '8', EXPORT_POOL_MAX: '8', EXPORT_STALL_TIMEOUT_SECONDS: '1' }),
    ).toMatchObject({
      EXPORT_CONCURRENCY: 8,
      EXPORT_POOL_MAX: 8,
      EXPORT_STALL_TIMEOUT_SECONDS: 1,
    });
    expect(loadConfig({ EXPORT_POOL_MAX: '' }).EXPORT_POOL_MAX).toBeUndefined();
    // An admitted export could wait for a connection, and time out, with fewer connections than exports.
    expect(() => loadConfig({ EXPORT_CONCURRENCY: '6', EXPORT_POOL_MAX: '5' })).toThrow(
      /EXPORT_POOL_MAX: must be at least EXPORT_CONCURRENCY \(6\)/,
    );
    for (const bad of [
      { EXPORT_CONCURRENCY: '0' },
      { EXPORT_CONCURRENCY: '-1' },
      { EXPORT_CONCURRENCY: '2.5' },
      { EXPORT_CONCURRENCY: 'many' },
    ]) {
      expect(() => loadConfig(bad)).toThrow(/EXPORT_CONCURRENCY/);
    }
    for (const bad of ['0', '-5', '3601', 'soon'])
      expect(() => loadConfig({ EXPORT_STALL_TIMEOUT_SECONDS: bad })).toThrow(/EXPORT_STALL_TIMEOUT_SECONDS/);
    expect(() => loadConfig({ EXPORT_POOL_MAX: '0' })).toThrow(/EXPORT_POOL_MAX/);
  });

  it("bounds the heap's growth factor: 50% by default, 0 leaves V8's own, 0..300 only, whole numbers", () => {
    expect(loadConfig({}).HEAP_GROWING_PERCENT).toBe(50);
    expect(loadConfig({ HEAP_GROWING_PERCENT: '0' }).HEAP_GROWING_PERCENT).toBe(0);
    expect(loadConfig({ HEAP_GROWING_PERCENT: '300' }).HEAP_GROWING_PERCENT).toBe(300);
    for (const bad of ['-1', '301', '1.5', 'lots']) {
      expect(() => loadConfig({ HEAP_GROWING_PERCENT: bad }), bad).toThrow(/HEAP_GROWING_PERCENT/);
    }
  });
});
