/**
 * `npm run bench` (about 1,000,000 measurements) and `npm run bench -- --quick` (about 10,000).
 *
 * Creates a fresh database `nysana_bench` on the local PostgreSQL (BENCH_ADMIN_URL, default
 * postgres://postgres@127.0.0.1:5432/postgres), migrates it, generates the dataset inside
 * PostgreSQL (bench/dataset.ts), then starts three servers over it, each in its own process with
 * the same pool size, and loads them with autocannon from this process:
 *   service  the real app as `npm start` runs it (dist/server.js, built first), with a bench admin's token
 *   limit    bench/limit-server.ts: node:http + pg + prepared SQL, same JSON, no framework
 *   peer     bench/peer-server.ts: PostGraphile 4 over the same tables, equivalent GraphQL
 *   cached   the real app again with the status cache on (CACHE=on; `service` runs CACHE=off), for the
 *            cached scenarios with a 1% write mix and the notification lag (bench/cached.ts)
 * Prints a markdown table and writes it into docs/benchmarks.md between the markers of the mode.
 *
 * Options: --quick, --duration=SECONDS, --rounds=N, --connections=N, --pool=N, --measurements=N, --no-write,
 * --only=status19,status300,feed,bulk,csv,cached19,cached300,cachedfeed,lag,webhooks (a subset of the scenarios; implies --no-write).
 * webhooks (bench/webhooks.ts): single PUTs without and with one active webhook subscription, and the delivery lag
 *   (the receiver, verifying every signature, runs in a child process: bench/webhook-receiver.ts).
 * Environment: BENCH_DB (database name, default nysana_bench) and BENCH_PORT (first of three
 * ports, default 3100), so two runs can share a machine without touching each other.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { ConfigSchema } from '../src/config.js';
import { openPostgres } from '../src/db/client.js';
import { migrate } from '../src/db/migrate.js';
import { users } from '../src/db/schema.js';
import { BENCH_YEAR, counts, generate, planUuid, plansFor } from './dataset.js';
import { startNodeFlags } from './node-flags.js';
import { cachedWithWrites, notificationLag, writableIndicator } from './cached.js';
import { webhookWrites, writableMeasurements } from './webhooks.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const quick = args.includes('--quick');
const mode = quick ? 'quick' : 'full';
const DURATION = Number(option('duration') ?? (quick ? 4 : 10));
const WARMUP = quick ? 1 : 3;
/** Each status cell's DURATION is taken as ROUNDS rounds in turn with the other servers' (measureTogether). */
const ROUNDS = Number(option('rounds') ?? 5);
const ROUND_SECONDS = Math.max(1, Math.round(DURATION / ROUNDS));
/** The full-year CSV export is taken this many times per server, in turn (exportInTurn). */
const EXPORTS = quick ? 1 : 3;
const CONNECTIONS = Number(option('connections') ?? 50);
const POOL = Number(option('pool') ?? 10);
const MEASUREMENTS = Number(option('measurements') ?? (quick ? 10_000 : 1_000_000));
const ADMIN_URL = process.env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DB_NAME = process.env.BENCH_DB ?? 'nysana_bench';
const ONLY = option('only')?.split(',');
const wanted = (key: string) => !ONLY || ONLY.includes(key);
const dbUrl = (() => {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${DB_NAME}`;
  return u.toString();
})();

type Target = 'service' | 'limit' | 'peer' | 'cached';
const PORT = Number(process.env.BENCH_PORT ?? 3100);
const PORTS: Record<Target, number> = { service: PORT, limit: PORT + 1, peer: PORT + 2, cached: PORT + 3 };
const children: ChildProcess[] = [];

function log(message: string) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>, url = ADMIN_URL): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function freshDatabase(): Promise<void> {
  await admin(async (c) => {
    await c.query(`drop database if exists ${DB_NAME} with (force)`);
    await c.query(`create database ${DB_NAME}`);
  });
  const database = await openPostgres({ url: dbUrl, poolMax: 2 });
  try {
    await migrate(database);
  } finally {
    await database.close();
  }
}

async function grow(from: number, to: number): Promise<void> {
  const started = Date.now();
  await admin((c) => generate(c, from, to), dbUrl);
  const n = await admin(counts, dbUrl);
  log(
    `dataset: ${n.plans} plans, ${n.indicators} indicators, ${n.measurements} measurements (+${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
}

/** A bench admin in the database and an access token the service (same key table) accepts. */
async function adminToken(): Promise<string> {
  const database = await openPostgres({ url: dbUrl, poolMax: 2 });
  const config = { ...ConfigSchema.parse({ DATABASE_URL: dbUrl }), LOG_LEVEL: 'silent' as const };
  const app = await buildApp({ db: database.db, config, logger: false });
  try {
    await app.ready(); // generates and stores the signing key
    const [row] = await database.db
      .insert(users)
      .values({ email: 'bench@nysana.test', displayName: 'Bench', role: 'admin', passwordHash: 'x' })
      .returning({ id: users.id });
    const { token } = await app.auth.tokens.sign(
      { kind: 'user', id: row!.id, role: 'admin', organizationId: null },
      4 * 3600,
    );
    return token;
  } finally {
    await app.close();
    await database.close();
  }
}

const NODE_FLAGS = startNodeFlags();

function start(target: Target): ChildProcess {
  const script = {
    service: 'dist/server.js',
    limit: 'bench/limit-server.ts',
    peer: 'bench/peer-server.ts',
    cached: 'dist/server.js',
  }[target];
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    DATABASE_URL: dbUrl,
    PORT: String(PORTS[target]),
    HOST: '127.0.0.1',
    POOL_MAX: String(POOL),
    DB_POOL_MAX: String(POOL),
    LOG_LEVEL: 'warn',
    DEMO_DATA: 'false',
    // Measure the work, not the guards: load shedding and the write budget off.
    MAX_EVENT_LOOP_DELAY_MS: '0',
    WRITE_RATE_LIMIT_PER_MINUTE: '0',
    // The status cache (issue 21) only where it is measured: `service` stays the uncached answer.
    CACHE: target === 'cached' ? 'on' : 'off',
    // The webhooks scenario's receiver listens on 127.0.0.1 over plain http.
    WEBHOOK_ALLOW_HTTP: 'true',
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
  };
  // limit and peer: tsx over their sources; all of them with `npm start`'s node flags (node-flags.ts).
  const argv = [
    ...NODE_FLAGS,
    ...(target === 'service' || target === 'cached' ? [script] : ['--import', 'tsx', script]),
  ];
  const child = spawn(process.execPath, argv, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  child.on('exit', (code, signal) => {
    if (((code && code !== 0) || signal) && !stopping) log(`${target} exited with ${code ?? signal}: ${stderr}`);
  });
  children.push(child);
  return child;
}

let stopping = false;
function stopAll() {
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
}

async function waitReady(target: Target, child: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return false;
    try {
      const res = await fetch(`http://127.0.0.1:${PORTS[target]}/health/ready`);
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

interface Request {
  method: 'GET' | 'POST';
  path: string;
  body?: string;
  headers?: Record<string, string>;
}

interface Result {
  scenario: string;
  target: Target;
  reqPerSec?: number;
  p50?: number;
  p99?: number;
  bytes?: number;
  note?: string;
  extra?: string;
}
const results: Result[] = [];

async function cannon(target: Target, req: Request, duration: number, connections = CONNECTIONS) {
  return autocannon({
    url: `http://127.0.0.1:${PORTS[target]}${req.path}`,
    method: req.method,
    body: req.body,
    headers: req.headers,
    connections,
    duration,
    timeout: 30,
  });
}

/** The answer must be a 2xx (and pass `check`) before its speed means anything; logs and records why not. */
async function answers(scenario: string, target: Target, req: Request, check?: (body: string) => string | undefined) {
  const res = await fetch(`http://127.0.0.1:${PORTS[target]}${req.path}`, {
    method: req.method,
    body: req.body,
    headers: req.headers,
  });
  const body = await res.text();
  const problem = !res.ok ? `HTTP ${res.status}: ${body.slice(0, 200)}` : check?.(body);
  if (!problem) return body;
  log(`${scenario} / ${target}: ${problem}`);
  results.push({ scenario, target, note: `n/a: ${problem.slice(0, 120)}` });
  return undefined;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/**
 * Loads each target for DURATION seconds in all, as ROUNDS short rounds taken in turn (A B, B A, A B, ...),
 * so that what the shared machine does meanwhile (a checkpoint, autovacuum, another process) falls on all of
 * them alike: a ratio between targets then compares like with like. req/s is all requests over all rounds;
 * p50 and p99 are the medians of the rounds' own.
 */
async function measureTogether(
  scenario: string,
  cells: { target: Target; req: Request; check?: (body: string) => string | undefined }[],
  connections: number,
) {
  const live: { target: Target; req: Request; bytes: number }[] = [];
  for (const c of cells) {
    const body = await answers(scenario, c.target, c.req, c.check);
    if (body !== undefined) live.push({ target: c.target, req: c.req, bytes: Buffer.byteLength(body) });
  }
  for (const c of live) await cannon(c.target, c.req, WARMUP, connections);
  const rounds = live.map(() => [] as autocannon.Result[]);
  for (let round = 0; round < ROUNDS; round++) {
    const order = live.map((_, i) => i);
    if (round % 2) order.reverse();
    for (const i of order) rounds[i]!.push(await cannon(live[i]!.target, live[i]!.req, ROUND_SECONDS, connections));
  }
  const perSecond = (rs: autocannon.Result[]) =>
    rs.reduce((n, r) => n + r.requests.total, 0) / rs.reduce((t, r) => t + r.duration, 0);
  const limitRounds = rounds[live.findIndex((c) => c.target === 'limit')];
  live.forEach((c, i) => {
    const rs = rounds[i]!;
    const failed = rs.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0);
    // Each round's ratio to the limit's round beside it: how far one round could mislead.
    const spread =
      limitRounds && c.target !== 'limit'
        ? rs.map((r, k) => r.requests.total / r.duration / (limitRounds[k]!.requests.total / limitRounds[k]!.duration))
        : [];
    const reqPerSec = perSecond(rs);
    results.push({
      scenario,
      target: c.target,
      reqPerSec,
      p50: median(rs.map((r) => r.latency.p50)),
      p99: median(rs.map((r) => r.latency.p99)),
      bytes: c.bytes,
      note:
        [
          connections !== CONNECTIONS ? `${connections} connections` : '',
          spread.length ? `rounds ${Math.min(...spread).toFixed(2)}-${Math.max(...spread).toFixed(2)}x the limit` : '',
          failed ? `${failed} errors/timeouts (30 s)` : '',
        ]
          .filter(Boolean)
          .join(', ') || undefined,
    });
    log(
      `${scenario} / ${c.target}: ${reqPerSec.toFixed(0)} req/s over ${rs.length} rounds${spread.length ? ` (${spread.map((x) => x.toFixed(2)).join(', ')}x the limit)` : ''}${failed ? `, ${failed} failed` : ''}`,
    );
  });
}

function rssKb(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Row count and digest of a streamed CSV answer (read chunk by chunk, never held whole). */
async function readCsv(res: Response): Promise<{ rows: number; bytes: number; digest: string }> {
  const hash = createHash('sha256');
  let lines = 0;
  let bytes = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    hash.update(buf);
    bytes += buf.length;
    for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) lines++;
  }
  return { rows: lines - 1, bytes, digest: hash.digest('hex') }; // minus the header line
}

const csvDigests = new Map<string, string>();

/**
 * A whole export as one request without ?limit, streamed to the end, as a BI tool reads it
 * (Power BI, Excel "From Web"): rows/s and the server's peak RSS (/proc/PID/status every 20 ms).
 * The service's and the limit's CSV must be byte-identical (same digest) to be compared.
 */
interface ExportSample {
  rows: number;
  bytes: number;
  seconds: number;
  peakKb: number;
  /** RSS when the request was sent: what the process held from earlier scenarios. */
  startKb: number;
}

/** One export streamed to the end, with the server's peak RSS sampled meanwhile; throws what went wrong. */
async function exportOnce(
  target: Target,
  child: ChildProcess,
  headers: Record<string, string>,
  scenario: string,
  query: string,
  format: 'csv' | 'xlsx',
): Promise<ExportSample> {
  if (child.exitCode !== null || child.signalCode !== null) {
    throw new Error(`${target} server is not running (${child.exitCode ?? child.signalCode})`);
  }
  const startKb = rssKb(child.pid!).rss;
  let peakKb = startKb;
  const sampler = setInterval(() => {
    try {
      peakKb = Math.max(peakKb, rssKb(child.pid!).rss);
    } catch {
      // process gone
    }
  }, 20);
  const started = performance.now();
  let rows = 0;
  let bytes = 0;
  try {
    const res: Response = await fetch(`http://127.0.0.1:${PORTS[target]}/api/v1/status?${query}`, { headers });
    if (!res.ok) throw new Error(`HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
    if (format === 'xlsx') {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.byteLength;
    } else {
      const r = await readCsv(res);
      rows = r.rows;
      bytes = r.bytes;
      const seen = csvDigests.get(scenario);
      if (seen === undefined) csvDigests.set(scenario, r.digest);
      else if (seen !== r.digest) throw new Error(`CSV differs from the service's (${r.rows} rows)`);
    }
  } finally {
    clearInterval(sampler);
  }
  return { rows, bytes, seconds: (performance.now() - started) / 1000, peakKb, startKb };
}

/**
 * Each server exports `times` times, the servers in turn (service, limit, service, limit, ...) so that
 * what the machine does meanwhile falls on both alike; the row gives the median export and the highest peak RSS.
 */
async function exportInTurn(
  cells: { target: Target; child: ChildProcess; headers: Record<string, string> }[],
  o: { scenario?: string; query?: string; format?: 'csv' | 'xlsx'; times?: number } = {},
) {
  const scenario = o.scenario ?? `full-year CSV export (${BENCH_YEAR})`;
  const query = o.query ?? `year=${BENCH_YEAR}&format=csv`;
  const format = o.format ?? 'csv';
  const samples = cells.map(() => [] as ExportSample[]);
  const failed = new Map<number, string>();
  for (let round = 0; round < (o.times ?? 1); round++) {
    for (const [i, c] of cells.entries()) {
      if (failed.has(i)) continue;
      try {
        samples[i]!.push(await exportOnce(c.target, c.child, c.headers, scenario, query, format));
      } catch (error) {
        failed.set(i, String(error));
        log(`${scenario} / ${c.target}: ${String(error)}`);
      }
    }
  }
  cells.forEach((c, i) => {
    const error = failed.get(i);
    if (error !== undefined) {
      results.push({ scenario, target: c.target, note: `n/a: ${error.slice(0, 120)}` });
      return;
    }
    const runs = samples[i]!;
    const seconds = median(runs.map((r) => r.seconds));
    const { rows, bytes } = runs[0]!;
    const peak = Math.max(...runs.map((r) => r.peakKb));
    const before = runs.find((r) => r.peakKb === peak)!.startKb;
    const what = format === 'xlsx' ? `${(bytes / 1048576).toFixed(1)} MB` : `${rows.toLocaleString('en')} rows`;
    const rate =
      format === 'xlsx' ? `${(bytes / 1048576 / seconds).toFixed(1)} MB/s` : `${(rows / seconds).toFixed(0)} rows/s`;
    const each =
      runs.length > 1 ? ` (median of ${runs.length}: ${runs.map((r) => r.seconds.toFixed(2)).join(', ')} s)` : '';
    const extra = `${what} in one streamed response, ${seconds.toFixed(2)} s${each}, ${rate}, peak RSS ${(peak / 1024).toFixed(0)} MB (${(before / 1024).toFixed(0)} MB when that export began)`;
    results.push({ scenario, target: c.target, extra });
    log(`${scenario} / ${c.target}: ${extra}`);
  });
}

async function warmExport(target: Target, headers: Record<string, string>) {
  const res = await fetch(`http://127.0.0.1:${PORTS[target]}/api/v1/status?year=${BENCH_YEAR - 1}&format=csv`, {
    headers,
  });
  for await (const _chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    // discarded
  }
}

const BULK = 'POST /measurements/bulk (1,000 rows/request)';

/**
 * Bulk upserts: CLIENTS concurrent clients, each sending BATCHES requests of 1,000 new values
 * for disjoint (indicator, year) pairs of the generic plans, so every row is a real update.
 */
async function bulkWrites(target: Target, headers: Record<string, string>) {
  const clients = 4;
  const batches = quick ? 1 : 10;
  const size = 1_000;
  const round = target === 'service' ? 1 : 2; // different values on each target's run
  const ids = await admin(
    async (c) =>
      (
        await c.query<{ id: string; year: number; rank: boolean }>(
          `select i.id, y as year, i.value_type = 'rank' as rank from indicators i join goals g on g.id = i.goal_id join directions d on d.id = g.direction_id
        join plans p on p.id = d.plan_id cross join generate_series(2016, 2025) y
        where p.code not in ('P-0', 'P-1') order by i.id, y limit $1`,
          [clients * (batches + 1) * size],
        )
      ).rows.map((r) => r),
    dbUrl,
  );
  if (ids.length < clients * (batches + 1) * size) {
    results.push({
      scenario: BULK,
      target,
      note: `n/a: only ${ids.length} indicator-years for ${clients * (batches + 1) * size} rows`,
    });
    return;
  }
  // Batch n of the run: 1,000 rows of their own. Ranks are whole numbers (and get a rating size);
  // other values change in the 2nd decimal.
  const batch = (n: number) =>
    ids
      .slice(n * size, (n + 1) * size)
      .map(({ id: indicatorId, year, rank }, k) =>
        rank
          ? { indicatorId, year, plan: 10 + round, fact: 12 + round, ratingSize: 180 }
          : { indicatorId, year, plan: 50 + round + (k % 7) / 100, fact: 40 + round + (k % 11) / 100 },
      );
  const send = async (rows: ReturnType<typeof batch>) => {
    const res = await fetch(`http://127.0.0.1:${PORTS[target]}/api/v1/measurements/bulk`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ rows }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`HTTP ${res.status}: ${text.slice(0, 160)}`);
  };
  const latencies: number[] = [];
  let started: number;
  try {
    // Warm-up, untimed, as the GET scenarios have: one batch per client on rows of its own.
    await Promise.all(Array.from({ length: clients }, (_, c) => send(batch(clients * batches + c))));
    started = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        for (let b = 0; b < batches; b++) {
          const rows = batch(c * batches + b);
          const t = performance.now();
          await send(rows);
          latencies.push(performance.now() - t);
        }
      }),
    );
  } catch (error) {
    results.push({ scenario: BULK, target, note: `n/a: ${String(error).slice(0, 160)}` });
    return;
  }
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const rowsPerSec = (clients * batches * size) / seconds;
  results.push({
    scenario: BULK,
    target,
    reqPerSec: latencies.length / seconds,
    p50: latencies[Math.floor(latencies.length / 2)],
    p99: latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))],
    extra: `${rowsPerSec.toFixed(0)} rows/s (${clients} clients x ${batches} requests)`,
  });
  log(`${BULK} / ${target}: ${rowsPerSec.toFixed(0)} rows/s`);
}

// --- GraphQL equivalents (PostGraphile default inflection) ---------------------------------

const gqlMeasurement = 'plan fact ratingSize score note';
const gqlIndicator = 'id goalId code name unit group valueType betterWhen';
const PLAN_QUERY = `query($id: UUID!, $year: Int!, $prev: Int!) {
  planById(id: $id) { id organizationId startYear endYear
    directionsByPlanId(orderBy: [POSITION_ASC, CODE_ASC]) { nodes { id code title position
      goalsByDirectionId(orderBy: [POSITION_ASC, CODE_ASC]) { nodes { id code title position
        indicatorsByGoalId(orderBy: [POSITION_ASC, CODE_ASC]) { nodes { ${gqlIndicator}
          current: measurementsByIndicatorId(condition: { year: $year }) { nodes { ${gqlMeasurement} } }
          previous: measurementsByIndicatorId(condition: { year: $prev }) { nodes { fact ratingSize } }
        } }
      } }
    } }
  }
  allYearApprovals(condition: { planId: $id, year: $year }) { nodes { document date } }
}`;
const FEED_QUERY = `query($year: Int!, $prev: Int!) {
  allIndicators(first: 50, orderBy: ID_ASC) { pageInfo { hasNextPage endCursor } nodes { ${gqlIndicator}
    goalByGoalId { directionId directionByDirectionId { planId planByPlanId { organizationId startYear endYear } } }
    current: measurementsByIndicatorId(condition: { year: $year }) { nodes { ${gqlMeasurement} } }
    previous: measurementsByIndicatorId(condition: { year: $prev }) { nodes { fact ratingSize } }
  } }
}`;
const graphql = (query: string, variables: Record<string, unknown>): Request => ({
  method: 'POST',
  path: '/graphql',
  body: JSON.stringify({ query, variables }),
  headers: { 'content-type': 'application/json' },
});
const gqlCheck = (body: string) => {
  const parsed = JSON.parse(body) as { errors?: { message: string }[] };
  return parsed.errors ? `GraphQL error: ${parsed.errors[0]?.message}` : undefined;
};

// --- the run ---------------------------------------------------------------------------------

async function machine(): Promise<string[]> {
  const version = await admin(
    async (c) => (await c.query<{ server_version: string }>('show server_version')).rows[0]!.server_version,
  );
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return [
    `- ${os.cpus().length} cores (${cpu}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.type()} ${os.release()}`,
    `- Node ${process.version}, PostgreSQL ${version} (local, default settings), load average at start ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' / ')}`,
    `- autocannon in the runner's process on the same cores: ${CONNECTIONS} connections, ${DURATION} s per cell after ${WARMUP} s warm-up (the status cells as ${ROUNDS} rounds of ${ROUND_SECONDS} s, the servers in turn); pool of ${POOL} connections in every server`,
  ];
}

const fmt = (n: number | undefined, digits = 0) =>
  n === undefined ? 'n/a' : n.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function table(rows: Result[]): string {
  const lines = [
    '| scenario | server | req/s | p50 ms | p99 ms | vs limit | vs peer | notes |',
    '|---|---|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of rows) {
    const limit = results.find((x) => x.scenario === r.scenario && x.target === 'limit')?.reqPerSec;
    const peer = results.find((x) => x.scenario === r.scenario && x.target === 'peer')?.reqPerSec;
    const ratio = (other: number | undefined) =>
      r.reqPerSec && other ? `${(r.reqPerSec / other).toFixed(2)}x` : 'n/a';
    const notes = [r.bytes ? `${(r.bytes / 1024).toFixed(1)} KB/answer` : '', r.extra ?? '', r.note ?? '']
      .filter(Boolean)
      .join('; ');
    lines.push(
      `| ${r.scenario} | ${r.target} | ${fmt(r.reqPerSec)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${ratio(limit)} | ${ratio(peer)} | ${notes} |`,
    );
  }
  return lines.join('\n');
}

function writeDoc(block: string) {
  const file = path.join(ROOT, 'docs/benchmarks.md');
  const begin = `<!-- bench:${mode}:begin -->`;
  const end = `<!-- bench:${mode}:end -->`;
  let doc: string;
  try {
    doc = readFileSync(file, 'utf8');
  } catch {
    doc = '# Benchmarks\n';
  }
  const section = `${begin}\n${block}\n${end}`;
  const i = doc.indexOf(begin);
  const j = doc.indexOf(end);
  doc = i >= 0 && j > i ? doc.slice(0, i) + section + doc.slice(j + end.length) : `${doc.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, doc);
  log(`wrote docs/benchmarks.md (${mode})`);
}

async function main() {
  const started = Date.now();
  // The service runs the compiled output, as `npm start` does: build it once, before anything else
  // (tsc's messages to stderr, this script's stdout is the results table).
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
  const describe = await machine();
  log(`mode ${mode}: fresh database ${DB_NAME}`);
  await freshDatabase();
  const totalPlans = plansFor(MEASUREMENTS);
  const token = await adminToken();
  const auth = { authorization: `Bearer ${token}` };
  const small = planUuid(0);
  const big = planUuid(1);
  const planReq = (id: string, headers?: Record<string, string>): Request => ({
    method: 'GET',
    path: `/api/v1/plans/${id}/status?year=${BENCH_YEAR}`,
    headers,
  });
  const scale: string[] = [];

  // Full run: plan status first at about 10,000 measurements, then again at full size.
  const firstPlans = quick ? totalPlans : plansFor(10_000);
  await grow(0, firstPlans);
  const service = start('service');
  if (!(await waitReady('service', service))) throw new Error('the service did not start (see its stderr above)');
  const scaleRun = !quick && !ONLY;
  if (scaleRun) {
    const at = (await admin(counts, dbUrl)).measurements;
    for (const [label, id] of [
      ['19', small],
      ['300', big],
    ] as const) {
      await cannon('service', planReq(id, auth), WARMUP, label === '300' ? 10 : CONNECTIONS); // JIT warm-up, as in measureTogether()
      const r = await cannon('service', planReq(id, auth), DURATION, label === '300' ? 10 : CONNECTIONS);
      scale.push(
        `| ${label} | ${at.toLocaleString('en')} | ${fmt(r.requests.average)} | ${r.latency.p50} | ${r.latency.p99} |`,
      );
      log(
        `scale: ${label}-indicator plan at ${at} measurements: ${r.requests.average.toFixed(0)} req/s, p50 ${r.latency.p50} ms`,
      );
    }
    await grow(firstPlans, totalPlans);
  } else if (firstPlans < totalPlans) {
    await grow(firstPlans, totalPlans); // --only: straight to the full dataset
  }
  const limit = start('limit');
  const peer = start('peer');
  const ready = { service: true, limit: await waitReady('limit', limit), peer: await waitReady('peer', peer) };
  const n = await admin(counts, dbUrl);
  if (scaleRun) {
    for (const [label, id] of [
      ['19', small],
      ['300', big],
    ] as const) {
      const r = await cannon('service', planReq(id, auth), DURATION, label === '300' ? 10 : CONNECTIONS);
      scale.push(
        `| ${label} | ${n.measurements.toLocaleString('en')} | ${fmt(r.requests.average)} | ${r.latency.p50} | ${r.latency.p99} |`,
      );
    }
  }

  // 50 connections each waiting for a 220 KB answer only measure queueing (and time out on a busy
  // machine): the 300-indicator plan runs with 10.
  const scenarios: {
    key: string;
    name: string;
    connections?: number;
    service: Request;
    limit: Request;
    peer: Request;
  }[] = [
    {
      key: 'status19',
      name: `plan status, 19 indicators`,
      service: planReq(small, auth),
      limit: planReq(small),
      peer: graphql(PLAN_QUERY, { id: small, year: BENCH_YEAR, prev: BENCH_YEAR - 1 }),
    },
    {
      key: 'status300',
      name: `plan status, 300 indicators`,
      connections: 10,
      service: planReq(big, auth),
      limit: planReq(big),
      peer: graphql(PLAN_QUERY, { id: big, year: BENCH_YEAR, prev: BENCH_YEAR - 1 }),
    },
    {
      key: 'feed',
      name: `GET /status, one page of 50`,
      service: { method: 'GET', path: `/api/v1/status?year=${BENCH_YEAR}&limit=50`, headers: auth },
      limit: { method: 'GET', path: `/api/v1/status?year=${BENCH_YEAR}&limit=50` },
      peer: graphql(FEED_QUERY, { year: BENCH_YEAR, prev: BENCH_YEAR - 1 }),
    },
  ];
  // The service's and the limit's answers must agree before their speeds are compared.
  const same = async (req: Request, other: Request) => {
    const get = async (target: Target, r: Request) =>
      (await (await fetch(`http://127.0.0.1:${PORTS[target]}${r.path}`, { headers: r.headers })).json()) as unknown;
    // Canonical: jsonb objects come back from PostgreSQL with their keys in its own order.
    const strip = (v: unknown) =>
      JSON.stringify(v, (_k, x: unknown) =>
        x && typeof x === 'object' && !Array.isArray(x)
          ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1)))
          : x,
      );
    return strip(await get('service', req)) === strip(await get('limit', other));
  };
  for (const s of scenarios.filter((x) => wanted(x.key))) {
    const cells = [];
    for (const target of ['service', 'limit', 'peer'] as const) {
      if (!ready[target]) results.push({ scenario: s.name, target, note: `n/a: ${target} server did not start` });
      else cells.push({ target, req: s[target], check: target === 'peer' ? gqlCheck : undefined });
    }
    await measureTogether(s.name, cells, s.connections ?? CONNECTIONS);
    if (ready.limit && !(await same(s.service, s.limit))) {
      log(`${s.name}: the service and the limit answer differently`);
      results.push({ scenario: s.name, target: 'limit', note: 'answer differs from the service' });
    }
  }

  // The status cache: the same reads on the cached process with a 1% write mix, beside the rows above.
  const cachedKeys = ['cached19', 'cached300', 'cachedfeed', 'lag'];
  if (cachedKeys.some(wanted)) {
    const cachedChild = start('cached');
    if (!(await waitReady('cached', cachedChild))) {
      results.push({ scenario: 'status cache', target: 'cached', note: 'n/a: the cached service did not start' });
    } else {
      const base = (t: Target) => `http://127.0.0.1:${PORTS[t]}`;
      const planAnswer = async (id: string) =>
        (await fetch(`${base('service')}${planReq(id).path}`, { headers: auth })).text();
      const smallRead = writableIndicator(await planAnswer(small), planReq(small).path, BENCH_YEAR);
      const bigRead = writableIndicator(await planAnswer(big), planReq(big).path, BENCH_YEAR);
      const cachedCells: [string, string, typeof smallRead, number][] = [
        ['cached19', scenarios[0]!.name, smallRead, CONNECTIONS],
        ['cached300', scenarios[1]!.name, bigRead, 10],
        ['cachedfeed', scenarios[2]!.name, { ...smallRead, path: scenarios[2]!.service.path }, CONNECTIONS],
      ];
      for (const [, scenario, read, connections] of cachedCells.filter(([k]) => wanted(k))) {
        const r = await cachedWithWrites(base('cached'), auth, read, {
          connections,
          duration: DURATION,
          warmup: WARMUP,
        });
        const note = [
          `1% writes (${r.writes} PUTs of a measurement the read covers)`,
          connections !== CONNECTIONS ? `${connections} connections` : '',
          r.failed ? `${r.failed} errors/timeouts` : '',
        ]
          .filter(Boolean)
          .join(', ');
        results.push({ scenario, target: 'cached', reqPerSec: r.reqPerSec, p50: r.p50, p99: r.p99, note });
        log(
          `${scenario} / cached: ${r.reqPerSec.toFixed(0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.writes} writes`,
        );
      }
      if (wanted('lag')) {
        const lag = await notificationLag(base('service'), base('cached'), auth, smallRead, quick ? 50 : 200);
        const extra = `p50 ${lag.p50.toFixed(2)} ms, p99 ${lag.p99.toFixed(2)} ms, max ${lag.max.toFixed(2)} ms over ${lag.samples} writes`;
        results.push({
          scenario: 'notification lag: commit on one replica to the changed answer on the other',
          target: 'cached',
          extra,
        });
        log(`notification lag: ${extra}`);
      }
    }
  }

  if (wanted('webhooks')) {
    const answer = await (
      await fetch(`http://127.0.0.1:${PORTS.service}${planReq(big).path}`, { headers: auth })
    ).text();
    const writes = 'PUT one measurement (4 clients, back to back)';
    try {
      const r = await webhookWrites({
        base: `http://127.0.0.1:${PORTS.service}`,
        headers: auth,
        dbUrl,
        targets: writableMeasurements(answer, BENCH_YEAR, 4),
        duration: DURATION,
        warmup: WARMUP,
        lagSamples: quick ? 50 : 200,
      });
      const ratio = r.withPerSec / r.withoutPerSec;
      results.push({ scenario: `${writes}, no webhook subscription`, target: 'service', reqPerSec: r.withoutPerSec });
      results.push({
        scenario: `${writes}, 1 active webhook subscription`,
        target: 'service',
        reqPerSec: r.withPerSec,
        extra: `${(ratio * 100).toFixed(1)}% of the writes/s without (target: at least 90%); ${r.delivered} events delivered meanwhile${r.unverified ? `; ${r.unverified} NOT VERIFIED` : ''}`,
      });
      const lag = r.lag
        ? `p50 ${r.lag.p50.toFixed(2)} ms, p99 ${r.lag.p99.toFixed(2)} ms, max ${r.lag.max.toFixed(2)} ms over ${r.lag.samples} writes`
        : '';
      results.push({
        scenario: 'webhook delivery lag: commit to receiver',
        target: 'service',
        extra: lag || undefined,
        note: r.note,
      });
      log(
        `webhooks: ${r.withoutPerSec.toFixed(0)} writes/s without, ${r.withPerSec.toFixed(0)} with (${(ratio * 100).toFixed(1)}%), ${r.delivered} delivered; lag ${lag || r.note}`,
      );
    } catch (error) {
      results.push({ scenario: writes, target: 'service', note: `n/a: ${String(error).slice(0, 160)}` });
      log(`webhooks: ${String(error)}`);
    }
  }

  if (wanted('bulk')) {
    await bulkWrites('service', auth);
    if (ready.limit) await bulkWrites('limit', {});
    results.push({
      scenario: BULK,
      target: 'peer',
      note: 'n/a: PostGraphile 4 writes one row per mutation (no multi-row upsert without a plugin)',
    });
  }

  if (wanted('csv')) {
    // Warm-up, as every other scenario has: one unmeasured export of the year before (JIT, the
    // statement's plan), so the measured export is the steady state a BI tool's daily pull meets.
    await warmExport('service', auth);
    if (ready.limit) await warmExport('limit', {});
    const both: { target: Target; child: ChildProcess; headers: Record<string, string> }[] = [
      { target: 'service', child: service, headers: auth },
    ];
    if (ready.limit) both.push({ target: 'limit', child: limit, headers: {} });
    await exportInTurn(both, { times: EXPORTS });
    results.push({
      scenario: `full-year CSV export (${BENCH_YEAR})`,
      target: 'peer',
      note: 'n/a: PostGraphile has no CSV output',
    });
    // Every stored measurement (no year): memory must stay flat at a million rows too.
    await exportInTurn(both, { scenario: 'whole feed CSV export (every year)', query: 'format=csv' });
    await exportInTurn([both[0]!], {
      scenario: `full-year XLSX export (${BENCH_YEAR})`,
      query: `year=${BENCH_YEAR}&format=xlsx`,
      format: 'xlsx',
    });
  }

  const stamp = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const block = [
    `### ${mode === 'quick' ? 'Quick run (`npm run bench -- --quick`)' : 'Full run (`npm run bench`)'}, ${stamp} UTC`,
    '',
    `Dataset: ${n.plans.toLocaleString('en')} plans, ${n.indicators.toLocaleString('en')} indicators, ${n.measurements.toLocaleString('en')} measurements; year ${BENCH_YEAR}.`,
    '',
    ...describe,
    `- load average at the end ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' / ')}; run took ${((Date.now() - started) / 1000).toFixed(0)} s`,
    '',
    table(results),
    ...(scale.length
      ? [
          '',
          'Plan status (service) against table size:',
          '',
          '| plan indicators | measurements | req/s | p50 ms | p99 ms |',
          '|---:|---:|---:|---:|---:|',
          ...scale,
        ]
      : []),
  ].join('\n');
  console.log(block);
  if (!args.includes('--no-write') && !ONLY) writeDoc(block);
}

try {
  await main();
} finally {
  stopAll();
}
