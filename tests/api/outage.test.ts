/**
 * Resilience: the test's own PostgreSQL is stopped under load. Requests then answer 503
 * problem+json with Retry-After (never a 500, never a crash), /health/ready answers 503, and once
 * the server is back the same process answers 200 again without a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import type { Database } from '../../src/db/client.js';
import { openPostgres } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { adminToken, testConfig } from '../helpers/app.js';
import type { OwnPostgres } from '../helpers/own-postgres.js';
import { createOwnPostgres, ownPostgresUnavailable } from '../helpers/own-postgres.js';

const unavailable = ownPostgresUnavailable();

describe.skipIf(unavailable)(`database outage${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let server: OwnPostgres;
  let database: Database;
  let base: string;
  let app: Awaited<ReturnType<typeof buildApp>>;
  let token: string;
  /** The same database behind an app with a write budget of 3 a minute. */
  let limited: Awaited<ReturnType<typeof buildApp>>;
  let limitedToken: string;

  beforeAll(async () => {
    server = await createOwnPostgres();
    database = await openPostgres({ url: server.url, poolMax: 4, connectTimeoutMs: 1_000 });
    await migrate(database);
    app = await buildApp({ db: database.db, config: { ...testConfig, MAX_EVENT_LOOP_DELAY_MS: 0 }, logger: false });
    await app.ready();
    token = await adminToken(app);
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    limited = await buildApp({
      db: database.db,
      config: { ...testConfig, MAX_EVENT_LOOP_DELAY_MS: 0, WRITE_RATE_LIMIT_PER_MINUTE: 3 },
      logger: false,
    });
    await limited.ready();
    limitedToken = await adminToken(limited);
  }, 120_000);

  afterAll(async () => {
    await limited?.close();
    await app?.close();
    await database?.close();
    server?.destroy();
  });

  const get = (path: string) => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });

  it('answers 503 while the database is down and recovers when it returns', async () => {
    expect((await get('/health/ready')).status).toBe(200);
    expect((await get('/api/v1/organizations')).status).toBe(200);

    server.stop();
    const during = await Promise.all(Array.from({ length: 20 }, () => get('/api/v1/organizations')));
    for (const res of during) {
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toMatch(/problem\+json/);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      const body = await res.json();
      expect(JSON.stringify(body)).not.toMatch(/ECONNREFUSED|stack|at /);
    }
    expect((await get('/health/ready')).status).toBe(503);
    expect((await get('/health/live')).status).toBe(200);

    server.start();
    let recovered = 0;
    for (let attempt = 0; attempt < 50 && recovered === 0; attempt++) {
      const res = await get('/api/v1/organizations');
      if (res.status === 200) recovered++;
      else await new Promise((r) => setTimeout(r, 200));
    }
    expect(recovered).toBe(1);
    expect((await get('/health/ready')).status).toBe(200);
  }, 120_000);

  it("does not charge writes answered 503 during the outage to the caller's write budget", async () => {
    const write = (code: string) =>
      limited.inject({
        method: 'POST',
        url: '/api/v1/organizations',
        headers: { authorization: `Bearer ${limitedToken}`, 'content-type': 'application/json' },
        payload: { code, name: { en: code } },
      });
    expect((await write('BUDGET-0')).statusCode).toBe(201);
    server.stop();
    // Let the pool see its idle connections die first (stop() blocked the event loop throughout).
    // Handing out a dead idle client whose BEGIN then fails leaks it in drizzle 0.45's transaction()
    // (BEGIN runs outside its try/finally release): a separate bug, not this test's subject.
    await new Promise((r) => setTimeout(r, 300));
    try {
      for (let i = 0; i < 6; i++) expect((await write(`DOWN-${i}`)).statusCode).toBe(503);
    } finally {
      server.start();
    }
    // Back up: the budget of 3 still has 2 left (one write reached the database), then 429.
    const after: number[] = [];
    for (let attempt = 0; attempt < 50 && after.length === 0; attempt++) {
      const res = await write('BUDGET-1');
      if (res.statusCode === 503) await new Promise((r) => setTimeout(r, 200));
      else after.push(res.statusCode);
    }
    after.push((await write('BUDGET-2')).statusCode, (await write('BUDGET-3')).statusCode);
    expect(after).toEqual([201, 201, 429]);
  }, 120_000);
});
