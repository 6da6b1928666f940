/**
 * Rate limits shared through Redis (RATE_LIMIT_REDIS_URL): two app instances over one database and
 * one Redis, as two replicas behind a load balancer, spend one budget between them. Every run uses
 * keys under a prefix of its own and deletes only those.
 *
 * Skips when no Redis answers at TEST_REDIS_URL (default redis://127.0.0.1:6379): the budgets are
 * Redis's to share, and there is nothing to share without it. CI starts one (.ci/run).
 * The last block (an unreachable Redis fails open) needs no Redis and always runs.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import type { Config } from '../../src/config.js';
import type { TestDatabase } from '../helpers/database.js';
import { createTestDatabase } from '../helpers/database.js';
import { NO_AUTH, bearer, call, createTestUser, testConfig } from '../helpers/app.js';

const API = '/api/v1';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `nysana-test:${randomUUID()}:`;

async function redisAnswers(): Promise<boolean> {
  const probe = new Redis(REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 1_000,
    retryStrategy: () => null,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

const redisUp = await redisAnswers();
if (!redisUp) console.warn(`[rate-limit-shared] no Redis answers at ${REDIS_URL}: the shared-budget tests skip`);

let database: TestDatabase;
const apps: FastifyInstance[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  for (const app of apps) await app.close();
  await database?.dispose();
  if (!redisUp) return;
  // Only this run's keys: other runs (and other helpers) may share the Redis.
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
});

/** An app over the shared database with these settings (closed after the file). */
async function replica(overrides: Partial<Config>): Promise<FastifyInstance> {
  const app = await buildApp({ db: database.database.db, config: { ...testConfig, ...overrides }, logger: false });
  await app.ready();
  apps.push(app);
  return app;
}

/** Two replicas on one Redis, under their own key prefix. */
async function replicas(name: string, overrides: Partial<Config>): Promise<[FastifyInstance, FastifyInstance]> {
  const shared = { RATE_LIMIT_REDIS_URL: REDIS_URL, RATE_LIMIT_REDIS_PREFIX: `${PREFIX}${name}:`, ...overrides };
  return [await replica(shared), await replica(shared)];
}

describe.skipIf(!redisUp)('rate limits shared by two replicas through Redis', () => {
  it('spends one write budget between them, with RateLimit-* headers, then 429 problem+json with Retry-After on both', async () => {
    const [a, b] = await replicas('writes', { WRITE_RATE_LIMIT_PER_MINUTE: 3 });
    const admin = await createTestUser(a, { role: 'admin' });
    const auth = { authorization: `Bearer ${admin.token}` };
    const write = (app: FastifyInstance, i: number) =>
      call(app, 'POST', `${API}/organizations`, { code: `SHARED${i}`, name: { en: `Shared ${i}` } }, auth);
    const answers = [await write(a, 0), await write(b, 1), await write(a, 2), await write(b, 3), await write(a, 4)];
    expect(answers.map((r) => r.status)).toEqual([201, 201, 201, 429, 429]);
    expect(answers.slice(0, 3).map((r) => [r.headers['ratelimit-limit'], r.headers['ratelimit-remaining']])).toEqual([
      ['3', '2'],
      ['3', '1'],
      ['3', '0'],
    ]);
    for (const refused of answers.slice(3)) {
      expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(refused.body).toMatchObject({ status: 429, detail: expect.stringMatching(/More than 3 writes a minute/) });
    }
    // Reads are not writes: no budget, no headers.
    const read = await call(b, 'GET', `${API}/organizations`, undefined, auth);
    expect(read.status).toBe(200);
    expect(read.headers['ratelimit-limit']).toBeUndefined();
    expect(read.body.items.map((o: { code: string }) => o.code).sort()).toEqual(['SHARED0', 'SHARED1', 'SHARED2']);
    // Another caller has a budget of its own.
    const other = await createTestUser(b, { role: 'admin' });
    const theirs = await call(
      a,
      'POST',
      `${API}/organizations`,
      { code: 'OTHER', name: { en: 'Other' } },
      bearer(other.token),
    );
    expect(theirs.status).toBe(201);
  });

  it('counts /auth requests per address across replicas', async () => {
    const [a, b] = await replicas('auth-ip', { AUTH_RATE_LIMIT_PER_MINUTE: 4 });
    const refresh = (app: FastifyInstance, ip: string) =>
      app.inject({ method: 'POST', url: `${API}/auth/refresh`, payload: { refreshToken: 'nyr_x' }, remoteAddress: ip });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await refresh(i % 2 === 0 ? a : b, '10.20.0.1')).statusCode);
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
    const refused = await refresh(b, '10.20.0.1');
    expect(refused.headers['ratelimit-limit']).toBe('4');
    expect(refused.headers['cache-control']).toBe('no-store');
    expect((await refresh(a, '10.20.0.2')).statusCode).toBe(401);
  });

  it('locks an account for the guessing address on every replica; a success elsewhere does not unlock it', async () => {
    const [a, b] = await replicas('lockout', { AUTH_MAX_FAILURES: 3, AUTH_LOCKOUT_SECONDS: 600 });
    const user = await createTestUser(a, { role: 'viewer' });
    const login = (app: FastifyInstance, password: string, ip: string) =>
      app.inject({
        method: 'POST',
        url: `${API}/auth/login`,
        payload: { email: user.email, password },
        remoteAddress: ip,
      });
    expect((await login(a, 'wrong password one', '10.30.0.1')).statusCode).toBe(401);
    expect((await login(b, 'wrong password two', '10.30.0.1')).statusCode).toBe(401);
    expect((await login(a, 'wrong password three', '10.30.0.1')).statusCode).toBe(401);
    const locked = await login(b, user.password, '10.30.0.1');
    expect(locked.statusCode).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(500);
    expect((await login(b, user.password, '10.30.0.2')).statusCode).toBe(200);
    expect((await login(a, user.password, '10.30.0.1')).statusCode).toBe(429);
  });

  it('keeps replicas with different prefixes apart (two deployments on one Redis)', async () => {
    const [a] = await replicas('deploy-a', { WRITE_RATE_LIMIT_PER_MINUTE: 1 });
    const [b] = await replicas('deploy-b', { WRITE_RATE_LIMIT_PER_MINUTE: 1 });
    const admin = await createTestUser(a, { role: 'admin' });
    const auth = { authorization: `Bearer ${admin.token}` };
    expect((await call(a, 'POST', `${API}/organizations`, { code: 'DEPA', name: { en: 'A' } }, auth)).status).toBe(201);
    expect((await call(b, 'POST', `${API}/organizations`, { code: 'DEPB', name: { en: 'B' } }, auth)).status).toBe(201);
    expect((await call(a, 'POST', `${API}/organizations`, { code: 'DEPA2', name: { en: 'A2' } }, auth)).status).toBe(
      429,
    );
  });
});

describe('a rate-limit Redis that does not answer', () => {
  it('lets requests through (fails open) rather than failing them', async () => {
    // Port 1 on the loopback: nothing listens there, so every connection is refused at once.
    const app = await replica({
      RATE_LIMIT_REDIS_URL: 'redis://127.0.0.1:1',
      WRITE_RATE_LIMIT_PER_MINUTE: 1,
      AUTH_MAX_FAILURES: 1,
    });
    const admin = await createTestUser(app, { role: 'admin' });
    const auth = { authorization: `Bearer ${admin.token}` };
    for (const code of ['OPEN1', 'OPEN2']) {
      expect((await call(app, 'POST', `${API}/organizations`, { code, name: { en: code } }, auth)).status).toBe(201);
    }
    const user = await createTestUser(app, { role: 'viewer' });
    const login = (password: string) =>
      call(app, 'POST', `${API}/auth/login`, { email: user.email, password }, NO_AUTH);
    expect((await login('wrong password here')).status).toBe(401);
    expect((await login(user.password)).status).toBe(200);
  });
});
