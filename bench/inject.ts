/**
 * CPU cost of one request through the whole app in-process (fastify inject: no sockets), for
 * ablation while profiling: `npx tsx bench/inject.ts <path> [requests]` against the bench database.
 */
import { buildApp } from '../src/app.js';
import { ConfigSchema } from '../src/config.js';
import { openPostgres } from '../src/db/client.js';

const path = process.argv[2] ?? '/health/live';
const n = Number(process.argv[3] ?? 2000);
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/nysana_bench';
const token = process.env.TOKEN ?? '';
const database = await openPostgres({ url, poolMax: 10 });
const config = {
  ...ConfigSchema.parse({ DATABASE_URL: url, MAX_EVENT_LOOP_DELAY_MS: '0', WRITE_RATE_LIMIT_PER_MINUTE: '0' }),
  LOG_LEVEL: 'warn' as const,
};
const app = await buildApp({ db: database.db, config, logger: false });
await app.ready();
const headers = token ? { authorization: `Bearer ${token}` } : {};
const one = async () => {
  const res = await app.inject({ method: 'GET', url: path, headers });
  if (res.statusCode !== 200) throw new Error(`${res.statusCode} ${res.body.slice(0, 200)}`);
};
for (let i = 0; i < 300; i++) await one(); // warm-up
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const concurrency = 10;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    for (let i = 0; i < n / concurrency; i++) await one();
  }),
);
const cpu = process.cpuUsage(cpu0);
console.log(
  `${path}: ${((cpu.user + cpu.system) / 1000 / n).toFixed(3)} ms CPU/request, ${((performance.now() - t0) / n).toFixed(3)} ms wall/request`,
);
await app.close();
await database.close();
