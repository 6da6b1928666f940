/**
 * The status cache's scenarios (issue 21) for bench/run.ts: the same reads as the uncached
 * scenarios, answered by a second service process with the cache on (CACHE=on; the `service`
 * process runs CACHE=off), under a 1% write mix: every 100th request of each connection is a PUT
 * of a measurement of the plan being read, so the answers are evicted and recomputed all the time.
 * And the notification lag: a write committed on the uncached replica, until the cached replica
 * answers the new value.
 */
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';

export interface CachedRead {
  /** GET path of the read. */
  path: string;
  /** The indicator whose measurement of `year` the 1% writes change (a plan the read covers). */
  indicatorId: string;
  year: number;
  /** Its stored plan value and fact (the writes alternate the fact with fact + 0.1, and restore it after). */
  plan: number | null;
  fact: number;
}

export interface CachedResult {
  reqPerSec: number;
  p50: number;
  p99: number;
  failed: number;
  writes: number;
}

const json = (headers: Record<string, string>) => ({ ...headers, 'content-type': 'application/json' });
const measurementPath = (r: CachedRead) => `/api/v1/indicators/${r.indicatorId}/measurements/${r.year}`;
const writeBody = (r: CachedRead, n: number) =>
  JSON.stringify({ plan: r.plan, fact: n % 2 === 0 ? r.fact : Math.round((r.fact + 0.1) * 10) / 10 });

/** The first indicator of a plan status answer with a stored fact, for the writes. */
export function writableIndicator(answer: string, path: string, year: number): CachedRead {
  type Row = { indicatorId: string; plan: number | null; fact: number | null };
  const doc = JSON.parse(answer) as { directions: { goals: { indicators: Row[] }[] }[] };
  const row = doc.directions.flatMap((d) => d.goals.flatMap((g) => g.indicators)).find((i) => i.fact !== null);
  if (!row) throw new Error('no measured indicator to write to');
  return { path, indicatorId: row.indicatorId, year, plan: row.plan, fact: row.fact! };
}

async function restore(base: string, headers: Record<string, string>, read: CachedRead) {
  const res = await fetch(`${base}${measurementPath(read)}`, {
    method: 'PUT',
    headers: json(headers),
    body: writeBody(read, 0),
  });
  await res.text();
  if (!res.ok) throw new Error(`restoring the measurement failed: HTTP ${res.status}`);
}

/** Reads with every 100th request a write, as autocannon's per-connection request cycle. */
export async function cachedWithWrites(
  base: string,
  headers: Record<string, string>,
  read: CachedRead,
  o: { connections: number; duration: number; warmup: number },
): Promise<CachedResult> {
  let n = 0;
  const cycle: autocannon.Request[] = [
    ...Array.from({ length: 99 }, () => ({ method: 'GET' as const, path: read.path, headers })),
    {
      method: 'PUT',
      path: measurementPath(read),
      headers: json(headers),
      setupRequest: (req: autocannon.Request) => ({ ...req, body: writeBody(read, ++n) }),
    },
  ];
  const run = (duration: number) =>
    autocannon({ url: base, connections: o.connections, duration, timeout: 30, requests: cycle });
  await run(o.warmup);
  const before = n;
  const r = await run(o.duration);
  await restore(base, headers, read);
  const failed = r.non2xx + r.errors + r.timeouts;
  return { reqPerSec: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, failed, writes: n - before };
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

/**
 * Commit on `writer` (the uncached replica) to the first changed answer on `reader` (the cached
 * one), `samples` times: the reader's answer is cached first, the write's response marks the
 * commit, then the reader is polled with If-None-Match until it answers 200. The figure includes
 * up to one poll's round trip (a cached 304, a fraction of a millisecond here).
 */
export async function notificationLag(
  writer: string,
  reader: string,
  headers: Record<string, string>,
  read: CachedRead,
  samples: number,
): Promise<{ p50: number; p99: number; max: number; samples: number }> {
  const lags: number[] = [];
  for (let i = 1; i <= samples; i++) {
    await fetch(`${reader}${read.path}`, { headers }).then((r) => r.text());
    const cached = await fetch(`${reader}${read.path}`, { headers });
    await cached.text();
    const etag = cached.headers.get('etag') ?? '';
    const put = await fetch(`${writer}${measurementPath(read)}`, {
      method: 'PUT',
      headers: json(headers),
      // A value no earlier write left behind: a write equal to what is stored changes nothing (no row, no
      // notification), and a PUT of the scenario before may still commit after its restore.
      body: JSON.stringify({ plan: read.plan, fact: Math.round((read.fact + 0.2 + i / 1000) * 1000) / 1000 }),
    });
    await put.text();
    if (!put.ok) throw new Error(`write failed: HTTP ${put.status}`);
    const committed = performance.now();
    for (let polls = 0; ; polls++) {
      const res = await fetch(`${reader}${read.path}`, { headers: { ...headers, 'if-none-match': etag } });
      await res.text();
      if (res.status === 200) break;
      if (polls > 100_000) throw new Error('the cached replica never saw the write');
    }
    lags.push(performance.now() - committed);
  }
  await restore(writer, headers, read);
  lags.sort((a, b) => a - b);
  return { p50: quantile(lags, 0.5), p99: quantile(lags, 0.99), max: lags[lags.length - 1]!, samples: lags.length };
}
