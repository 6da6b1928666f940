/**
 * Measures one spreadsheet import (not a test; numbers vary by machine): the event-loop block time
 * seen by a concurrent `GET /health/live` (longest answer while the import runs, pinged every 10 ms),
 * the import's duration and the peak RSS over the idle RSS. Run with the limits raised to accept
 * the sheet, e.g.
 *   IMPORT_MAX_ROWS=200000 IMPORT_MAX_UNCOMPRESSED_BYTES=400000000 node --expose-gc --import tsx scripts/measure-import.ts 100000 [year=2016]
 * The sheet is a real .xlsx written by ExcelJS with shared strings, as Excel writes them.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { buildApp } from '../src/app.js';
import { ConfigSchema } from '../src/config.js';
import { openPglite } from '../src/db/client.js';
import { migrate } from '../src/db/migrate.js';
import { users } from '../src/db/schema.js';
import { XLSX_TYPE } from '../src/imports/parse.js';

const rowCount = Number(process.argv[2] ?? 100_000);
/**
 * year=1990 (default) lies outside the plan: the whole file is read and parsed, then 400, so this
 * measures reading; year=2016 adds matching the rows against the plan (a preview).
 */
const query = process.argv[3] ?? 'year=1990';

async function sheet(rows: number): Promise<Buffer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nysana-measure-'));
  const file = path.join(dir, 'big.xlsx');
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: true });
  const ws = workbook.addWorksheet('2');
  ws.addRow([
    'Нысаналы индикатордың атауы',
    'Ақпарат көзі',
    'Өлш. бірл.',
    'Жоспар',
    'Факт',
    'Ескертпе',
    'betterWhen',
  ]).commit();
  ws.addRow(['1-стратегиялық бағыт. Measured direction']).commit();
  ws.addRow(['1.1-мақсат. Measured goal']).commit();
  for (let i = 0; i < rows; i++) {
    ws.addRow([
      `Indicator number ${i} of the measured plan`,
      'Ministry statistics',
      '%',
      `${i % 100},5 (жоспар)`,
      `${i % 97},1 (факт)`,
      `Note ${i}: fulfilled`,
      'higher',
    ]).commit();
  }
  ws.commit();
  await workbook.commit();
  const bytes = await readFile(file);
  await rm(dir, { recursive: true, force: true });
  return bytes;
}

const bytes = await sheet(rowCount);
const config = {
  ...ConfigSchema.parse(process.env),
  LOG_LEVEL: 'silent' as const,
  MAX_EVENT_LOOP_DELAY_MS: 0,
  WRITE_RATE_LIMIT_PER_MINUTE: 0,
};
const database = await openPglite();
await migrate(database);
const app = await buildApp({ db: database.db, config, logger: false });
await app.ready();
const [admin] = await app.auth.db
  .insert(users)
  .values({ email: 'measure@nysana.test', displayName: 'Measure', role: 'admin', passwordHash: 'x' })
  .returning({ id: users.id });
const { token } = await app.auth.tokens.sign({ kind: 'user', id: admin!.id, role: 'admin', organizationId: null });
const base = await app.listen({ port: 0, host: '127.0.0.1' });
const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
const org = (await (
  await fetch(`${base}/api/v1/organizations`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ code: 'M', name: { en: 'M' } }),
  })
).json()) as { id: string };
const plan = (await (
  await fetch(`${base}/api/v1/plans`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ organizationId: org.id, code: 'P', title: { en: 'P' }, startYear: 2014, endYear: 2018 }),
  })
).json()) as { id: string };

global.gc?.();
await new Promise((r) => setTimeout(r, 500));
const idle = process.memoryUsage().rss;
let peak = idle;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
let slowest = 0;
let pings = 0;
let importing = true;
const pinger = (async () => {
  while (importing) {
    const started = performance.now();
    await fetch(`${base}/health/live`);
    slowest = Math.max(slowest, performance.now() - started);
    pings++;
    await new Promise((r) => setTimeout(r, 10));
  }
})();
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
const started = performance.now();
const res = await fetch(`${base}/api/v1/plans/${plan.id}/import?${query}`, {
  method: 'POST',
  headers: { authorization: `Bearer ${token}`, 'content-type': XLSX_TYPE },
  body: new Uint8Array(bytes),
});
const body = await res.text();
const took = performance.now() - started;
importing = false;
loopDelay.disable();
await pinger;
clearInterval(sampler);
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;
console.log(
  JSON.stringify({
    rows: rowCount,
    fileBytes: bytes.length,
    status: res.status,
    detail: res.status === 200 ? undefined : body.slice(0, 200),
    importMs: Math.round(took),
    longestLivenessMs: Math.round(slowest),
    livenessPings: pings,
    maxEventLoopDelayMs: Math.round(loopDelay.max / 1e6),
    p99EventLoopDelayMs: Math.round(loopDelay.percentile(99) / 1e6),
    loadAverage: os.loadavg()[0]!.toFixed(1),
    idleRss: mb(idle),
    peakRssOverIdle: mb(peak - idle),
  }),
);
await app.close();
await database.close();
