/**
 * Read scale-out: with a read replica (DATABASE_READ_URL) the status routes read from a streaming
 * hot standby while every write, and the answer that confirms it, comes from the primary.
 *
 * A real primary (tests/helpers/own-postgres.ts, wal_level=replica by default) and a standby made
 * with `pg_basebackup -R`. Replay is paused on the standby, a measurement written through the API:
 * the write's answer and the list (primary) show it, the status (standby) does not until replay
 * resumes. Skipped where the PostgreSQL 15 binaries are missing.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import type { Database } from '../../src/db/client.js';
import { openPostgres } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { call, testConfig } from '../helpers/app.js';
import { createTree, expectStatus } from '../helpers/fixtures.js';
import type { OwnPostgres } from '../helpers/own-postgres.js';
import { createOwnPostgres, ownPostgresUnavailable } from '../helpers/own-postgres.js';

const BIN = '/usr/lib/postgresql/15/bin';
const unavailable =
  ownPostgresUnavailable() ?? (existsSync(`${BIN}/pg_basebackup`) ? undefined : `no ${BIN}/pg_basebackup`);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Runs a PostgreSQL binary, as the postgres user when we are root (as own-postgres.ts does). */
function run(args: string[]) {
  const [cmd, ...rest] = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--', ...args] : args;
  execFileSync(cmd!, rest, { stdio: 'pipe', timeout: 120_000 });
}

interface Standby {
  url: string;
  destroy(): void;
}

/** A hot standby of `primaryUrl`: pg_basebackup -R (standby.signal + primary_conninfo), own port. */
async function createStandby(primaryUrl: string): Promise<Standby> {
  const primary = new URL(primaryUrl);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nysana-standby-'));
  const data = path.join(dir, 'data');
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  run([
    `${BIN}/pg_basebackup`,
    '-h',
    '127.0.0.1',
    '-p',
    primary.port,
    '-U',
    'postgres',
    '-D',
    data,
    '-R',
    '-X',
    'stream',
    '--no-sync',
  ]);
  const port = await freePort();
  const pgCtl = (action: string[]) =>
    run([`${BIN}/pg_ctl`, '-D', data, '-l', path.join(dir, 'log'), '-w', '-t', '60', ...action]);
  pgCtl(['-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c hot_standby=on`, 'start']);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    destroy() {
      try {
        pgCtl(['-m', 'immediate', 'stop']);
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function sqlOn<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

describe.skipIf(unavailable !== undefined)(`read replica${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let primary: OwnPostgres;
  let standby: Standby;
  let database: Database;
  let app: FastifyInstance;

  /** Until the standby has replayed everything the primary has written so far. */
  async function caughtUp() {
    const [{ lsn }] = (await sqlOn<{ lsn: string }>(primary.url, 'select pg_current_wal_lsn()::text as lsn')) as [
      { lsn: string },
    ];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const [row] = await sqlOn<{ done: boolean }>(
        standby.url,
        'select pg_last_wal_replay_lsn() >= $1::pg_lsn as done',
        [lsn],
      );
      if (row?.done) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the standby did not catch up within 30 s');
  }

  beforeAll(async () => {
    primary = await createOwnPostgres();
    const migrating = await openPostgres({ url: primary.url, poolMax: 2, connectTimeoutMs: 30_000 });
    await migrate(migrating);
    await migrating.close();
    standby = await createStandby(primary.url);
    database = await openPostgres({ url: primary.url, readUrl: standby.url, poolMax: 4, connectTimeoutMs: 30_000 });
    app = await buildApp({ db: database.db, readDb: database.read, config: testConfig, logger: false });
    await app.ready();
  }, 180_000);

  afterAll(async () => {
    await app?.close();
    await database?.close();
    standby?.destroy();
    primary?.destroy();
  });

  it('is a real hot standby: in recovery, and it refuses writes', async () => {
    expect(await sqlOn(standby.url, 'select pg_is_in_recovery() as r')).toEqual([{ r: true }]);
    await expect(sqlOn(standby.url, 'create table nope (id int)')).rejects.toThrow(/read-only transaction/);
    expect(database.read).not.toBe(database.db);
  });

  it('answers status GETs from the standby and writes (with their own answers) from the primary', async () => {
    const tree = await createTree(app); // writes: they succeed, so they went to the primary
    await caughtUp();
    const statusUrl = `/api/v1/plans/${tree.plan.id}/status?year=2016`;
    const indicatorOf = (body: {
      directions: { goals: { indicators: { indicatorId: string; status: string; fact: number | null }[] }[] }[];
    }) =>
      body.directions
        .flatMap((d) => d.goals.flatMap((g) => g.indicators))
        .find((i) => i.indicatorId === tree.indicator.id);
    const before = expectStatus(await call(app, 'GET', statusUrl), 200);
    expect(indicatorOf(before)).toMatchObject({ status: 'no_target', fact: null });

    await sqlOn(standby.url, 'select pg_wal_replay_pause()');
    try {
      // The write's own answer comes from the primary (RETURNING), replay or not.
      const written = await call(app, 'PUT', `/api/v1/indicators/${tree.indicator.id}/measurements/2016`, {
        plan: 10,
        fact: 12,
      });
      expect([200, 201]).toContain(written.status);
      expect(written.body).toMatchObject({ year: 2016, plan: 10, fact: 12 });
      expect(
        await sqlOn(primary.url, 'select fact::text from measurements where indicator_id = $1', [tree.indicator.id]),
      ).toEqual([{ fact: '12' }]);
      expect(
        await sqlOn(standby.url, 'select fact::text from measurements where indicator_id = $1', [tree.indicator.id]),
      ).toEqual([]);

      // The list routes still read the primary: they see it at once.
      const list = expectStatus(await call(app, 'GET', `/api/v1/indicators/${tree.indicator.id}/measurements`), 200);
      expect(list.items).toEqual([expect.objectContaining({ year: 2016, fact: 12 })]);

      // The status routes read the paused standby: not yet.
      expect(indicatorOf(expectStatus(await call(app, 'GET', statusUrl), 200))).toMatchObject({
        status: 'no_target',
        fact: null,
      });
      const feed = expectStatus(await call(app, 'GET', `/api/v1/status?year=2016&planId=${tree.plan.id}`), 200);
      expect(feed.items).toEqual([expect.objectContaining({ indicatorId: tree.indicator.id, fact: null })]);
      const one = expectStatus(await call(app, 'GET', `/api/v1/indicators/${tree.indicator.id}/status?year=2016`), 200);
      expect(one).toMatchObject({ fact: null, status: 'no_target' });
      // The CSV export too (its tag and its cursor on the standby), and its own ETag answers 304.
      const csvUrl = `/api/v1/status?year=2016&planId=${tree.plan.id}&format=csv`;
      const csv = await call(app, 'GET', csvUrl);
      expect(csv.status, csv.raw.body).toBe(200);
      expect(csv.raw.body).toContain(`${tree.indicator.id},`);
      expect(csv.raw.body).toContain('no_target');
      expect((await call(app, 'GET', csvUrl, undefined, { 'if-none-match': String(csv.headers.etag) })).status).toBe(
        304,
      );
      // ...and the app's read pool is connected to the standby.
      const [sessions] = await sqlOn<{ n: number }>(
        standby.url,
        "select count(*)::int as n from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()",
      );
      expect(sessions!.n).toBeGreaterThan(0);
    } finally {
      await sqlOn(standby.url, 'select pg_wal_replay_resume()');
    }
    await caughtUp();
    expect(indicatorOf(expectStatus(await call(app, 'GET', statusUrl), 200))).toMatchObject({
      status: 'achieved',
      fact: 12,
    });
  });

  it('serves the incremental status sync from the standby too (its snapshot watermark works in recovery)', async () => {
    const since = new Date(Date.now() - 3_600_000).toISOString();
    const res = await call(app, 'GET', `/api/v1/status?updatedSince=${encodeURIComponent(since)}&year=2016`);
    expect(res.status, res.raw.body).toBe(200);
    expect(res.body.items.length).toBeGreaterThan(0);
  });
});
