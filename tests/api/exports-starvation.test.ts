/**
 * Exports that cannot starve the API (src/http/export-guard.ts, src/db/export-handle.ts), tried
 * as a user would: real HTTP on 127.0.0.1, clients that start a status download of a large year
 * and stop reading, so the server's socket buffers fill and the export waits on them.
 *
 * PostgreSQL: the API pool has its default size (DB_POOL_MAX 10) and the exports their own pool,
 * opened by openDatabase() as the server opens it. Twenty stalled downloads (ten CSV, ten XLSX)
 * hold twenty export cursors, and ordinary requests still answer; after the stall timeout the
 * server cuts them and every export connection is back, idle, with no transaction left open.
 *
 * PGlite has one connection and no pool: an export there reads in keyset pages, each a short query
 * of its own, so a stalled download holds no connection to begin with and the pool checks do not
 * apply. What does apply and is checked on both: ordinary requests answer while twenty downloads
 * are stalled, the stalled connections are cut after the stall timeout and their slots freed,
 * and past EXPORT_CONCURRENCY a new export is refused at once with 503 + Retry-After.
 *
 * No latency is asserted (a busy 2-core machine): only that requests answer, and with what.
 */
import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import type { Config } from '../../src/config.js';
import type { Database } from '../../src/db/client.js';
import { openDatabase } from '../../src/db/open.js';
import { adminToken, testConfig } from '../helpers/app.js';
import type { TestDatabase } from '../helpers/database.js';
import { createTestDatabase } from '../helpers/database.js';
import { API, createDirection, createGoal, createOrganization, createPlan } from '../helpers/fixtures.js';

/** Rows of the exported year: ~25 MB of CSV and ~10 MB of XLSX, more than a socket's buffers hold. */
const ROWS = 16_000;
const STALL_SECONDS = 2;

let seed: TestDatabase;
const opened: Database[] = [];
const apps: FastifyInstance[] = [];
/** Every download's client request, destroyed after the file (a failing run may leave them stalled). */
const clients: http.ClientRequest[] = [];

interface Server {
  app: FastifyInstance;
  database: Database;
  base: string;
  token: string;
}

/** An app over the seeded database, listening on 127.0.0.1, its database opened as the server opens it. */
async function serve(overrides: Partial<Config>): Promise<Server> {
  const config: Config = { ...testConfig, EXPORT_STALL_TIMEOUT_SECONDS: STALL_SECONDS, ...overrides };
  // PostgreSQL: a database handle of its own with the production pool sizes (DB_POOL_MAX, the
  // export pool); the test helper's handle (a pool of 5) only seeds and inspects.
  const database = seed.url ? await openDatabase({ ...config, DATABASE_URL: seed.url }) : seed.database;
  if (seed.url) opened.push(database);
  const app = await buildApp({ db: database.db, config, logger: false });
  apps.push(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { app, database, base: `http://127.0.0.1:${port}`, token: await adminToken(app) };
}

/** Starts a download and resolves with the response once its head arrived, without reading the body. */
function startDownload(s: Server, path: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      `${s.base}${path}`,
      { agent: false, headers: { authorization: `Bearer ${s.token}` } },
      (res) => {
        res.on('error', () => {}); // a cut-off download errors ("aborted") once read; inspected via res.complete
        resolve(res);
      },
    );
    req.on('error', reject);
    clients.push(req);
  });
}

/** Reads the rest of a response; resolves with the bytes read and whether the message was complete. */
function readRest(res: IncomingMessage): Promise<{ bytes: number; complete: boolean; body: string }> {
  return new Promise((resolve) => {
    let bytes = 0;
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => {
      bytes += c.length;
      if (chunks.length < 4) chunks.push(c);
    });
    res.on('close', () => resolve({ bytes, complete: res.complete, body: Buffer.concat(chunks).toString('utf8') }));
    res.resume();
  });
}

async function get(s: Server, path: string) {
  const res = await fetch(`${s.base}${path}`, {
    headers: { authorization: `Bearer ${s.token}` },
    signal: AbortSignal.timeout(60_000),
  });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

async function until(what: string, condition: () => boolean | Promise<boolean>, ms = 60_000) {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function openTransactions(): Promise<number> {
  const result = (await seed.database.db.execute(
    sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and state like 'idle in transaction%'`,
  )) as unknown as { rows: { n: number }[] };
  return result.rows[0]!.n;
}

const YEAR_CSV = `${API}/status?year=2016&format=csv`;
const YEAR_XLSX = `${API}/status?year=2016&format=xlsx`;

beforeAll(async () => {
  seed = await createTestDatabase();
  const app = await buildApp({ db: seed.database.db, config: testConfig, logger: false });
  apps.push(app);
  const org = await createOrganization(app);
  const plan = await createPlan(app, org.id);
  const goal = await createGoal(app, (await createDirection(app, plan.id)).id);
  // Long names of hex text (which compresses only about 2:1), so the XLSX is large too.
  await seed.database.db.execute(
    sql`insert into indicators (goal_id, code, name, unit, source, value_type, better_when, position)
        select ${goal.id}::uuid, 'S.' || g,
          jsonb_build_object('kk', (select string_agg(md5(g::text || ':' || k), '') from generate_series(1, 24) k)),
          jsonb_build_object('kk', (select string_agg(md5(k || ':' || g::text), '') from generate_series(1, 8) k)),
          '{"kk":"s"}'::jsonb, 'percent', 'higher', g
        from generate_series(1, ${ROWS}) g`,
  );
}, 180_000);

afterAll(async () => {
  for (const req of clients) req.destroy();
  for (const app of apps) await app.close();
  for (const database of opened) await database.close();
  await seed?.dispose();
});

describe('stalled downloads', () => {
  it('leave ordinary requests answering, are cut after the stall timeout, and give every connection back', async () => {
    // PostgreSQL: all twenty admitted (the bound is tested below), so twenty export cursors are held
    // at once, twice the API pool, and the API must not notice. PGlite: the default bound (4) as its
    // users get it; twenty admitted would run twenty exports' queries, row building and XLSX
    // compression in this one process on one connection while they fill their buffers, which tests
    // the machine's CPU (a run here took a minute, with requests queued past REQUEST_TIMEOUT_MS), not
    // the guard. The rest is the same: downloads stall, the API answers, the stalled are cut.
    const bound = seed.url ? 20 : 4;
    const s = await serve({ EXPORT_CONCURRENCY: bound });
    const downloads = await Promise.all([
      ...Array.from({ length: 10 }, () => startDownload(s, YEAR_CSV)),
      ...Array.from({ length: 10 }, () => startDownload(s, YEAR_XLSX)),
    ]);

    // While they are stalled: the API and readiness answer, one at a time and ten at once.
    for (let round = 0; round < 3; round++) {
      const [plans, ready] = await Promise.all([get(s, `${API}/plans`), get(s, '/health/ready')]);
      expect(plans.status).toBe(200);
      expect(JSON.parse(plans.body).items.length).toBe(1);
      expect(ready.status).toBe(200);
    }
    const burst = await Promise.all(
      Array.from({ length: 10 }, (_, i) => get(s, i % 2 ? '/health/ready' : `${API}/plans`)),
    );
    expect(burst.map((r) => r.status)).toEqual(Array(10).fill(200));
    // (Checked after the API.) The exports did not wait for a connection either: each started, or
    // (past the bound) was refused at once with the 503 tested below.
    const started = downloads.filter((d) => d.statusCode === 200);
    expect(downloads.filter((d) => d.statusCode === 503).length).toBe(20 - started.length);
    // The first `bound` to arrive hold their slots until cut off: at least those are admitted.
    expect(started.length).toBeGreaterThanOrEqual(bound);

    // The server cuts each stalled download: its slot is free...
    await until('the stalled exports are cut off', () => s.app.exportGuard?.running === 0);
    // ...and (PostgreSQL) its cursor's transaction rolled back and its connection idle in the pool.
    const stats = s.database.exportPoolStats;
    if (stats) {
      await until('the export pool is whole', () => stats().idle === stats().total && stats().waiting === 0);
      expect(stats().total).toBeGreaterThan(0); // the exports did run on their own pool
      await until('no transaction is left open', async () => (await openTransactions()) === 0);
      const api = s.database.poolStats!();
      expect(api.waiting).toBe(0);
      expect(api.total).toBeLessThanOrEqual(10);
    }

    // What the clients see once they read again: whatever was buffered, then a connection closed
    // before the end of the file (so the buffers were full, the downloads truly stalled).
    const rest = await Promise.all(started.map(readRest));
    for (const r of rest) {
      expect(r.complete).toBe(false);
      expect(r.bytes).toBeGreaterThan(0);
    }

    // And everything works again: ten requests at once, and a full export of the same year.
    const after = await Promise.all(Array.from({ length: 10 }, () => get(s, `${API}/plans`)));
    expect(after.map((r) => r.status)).toEqual(Array(10).fill(200));
    const full = await get(s, YEAR_CSV);
    expect(full.status).toBe(200);
    expect(full.body.split('\r\n').filter(Boolean).length).toBe(ROWS + 1);
    const csvBytes = rest
      .filter((_, i) => started[i]!.headers['content-type']?.startsWith('text/csv'))
      .map((r) => r.bytes);
    expect(Math.max(...csvBytes)).toBeLessThan(Buffer.byteLength(full.body));
  }, 240_000);
});

describe('the export concurrency bound', () => {
  it('refuses one export more at once with 503 problem+json and Retry-After, and admits again once a slot is free', async () => {
    // EXPORT_CONCURRENCY at its default; no stall cut-off during this test (tested above), so the
    // four held downloads keep their slots however slow the machine is.
    const s = await serve({ EXPORT_STALL_TIMEOUT_SECONDS: 3_600 });
    const bound = 4;
    const held = await Promise.all(
      Array.from({ length: bound }, (_, i) => startDownload(s, i % 2 ? YEAR_XLSX : YEAR_CSV)),
    );
    expect(held.map((d) => d.statusCode)).toEqual(Array(bound).fill(200));

    for (const path of [
      YEAR_CSV,
      YEAR_XLSX,
      `${API}/status?format=csv`,
      `${API}/organizations?format=csv`,
      `${API}/plans?format=xlsx`,
    ]) {
      const refused = await get(s, path);
      expect(refused.status, path).toBe(503);
      expect(refused.headers.get('content-type'), path).toMatch(/^application\/problem\+json/);
      expect(Number(refused.headers.get('retry-after')), path).toBeGreaterThan(0);
      const problem = JSON.parse(refused.body);
      expect(problem, path).toMatchObject({ status: 503, title: 'Service Unavailable' });
      expect(problem.detail, path).toMatch(/exports are running/);
    }
    expect(testConfig.EXPORT_CONCURRENCY).toBe(bound);
    // A refusal takes no slot; a one-page export (?limit) and the JSON feed are not streamed downloads and still answer.
    expect(s.app.exportGuard.running).toBe(bound);
    expect((await get(s, `${API}/status?year=2016&format=csv&limit=5`)).status).toBe(200);
    expect((await get(s, `${API}/status?year=2016&limit=5`)).status).toBe(200);
    expect((await get(s, `${API}/plans`)).status).toBe(200);

    // The held downloads' clients give up; their slots free, and an export is admitted again and complete.
    for (const d of held) d.destroy();
    await until('the abandoned exports end', () => s.app.exportGuard?.running === 0);
    const again = await get(s, `${API}/organizations?format=csv`);
    expect(again.status).toBe(200);
    expect(again.body.split('\r\n').filter(Boolean).length).toBe(2);
  }, 240_000);
});
