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

  beforeAll(async () => {
    server = await createOwnPostgres();
    database = await openPostgres({ url: server.url, poolMax: 4, connectTimeoutMs: 1_000 });
    await migrate(database);
    app = await buildApp({ db: database.db, config: { ...testConfig, MAX_EVENT_LOOP_DELAY_MS: 0 }, logger: false });
    await app.ready();
    token = await adminToken(app);
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  }, 120_000);

  afterAll(async () => {
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
});
