/**
 * The webhooks' cost (issue 20 item 7) for bench/run.ts: the same single-measurement PUTs, by several
 * clients for a fixed time, without a subscription and with one active subscription (every event type)
 * to a receiver on 127.0.0.1, alternated twice so drift hits both; then the delivery lag, one write at a
 * time: from the PUT's response (the commit) to the receiver getting the measurement's event.
 * The receiver (bench/webhook-receiver.ts) runs in a child process and verifies every signature with the
 * `standardwebhooks` package: in the bench's own process its CPU slowed the clients whose writes are
 * counted. Requests that do not verify are answered 400 and reported (they must be none).
 * The subscription is written with SQL (as the subscriptions API would store it) and deleted after.
 */
import { fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { EVENT_TYPES } from '../src/webhooks/catalog.js';
import { newSigningSecret } from '../src/webhooks/secret.js';
import type { ReceiverStats } from './webhook-receiver.js';

export interface WritableMeasurement {
  indicatorId: string;
  year: number;
  plan: number | null;
  fact: number;
}

/** Up to `n` indicators of a plan status answer with a stored fact: one per writing client. */
export function writableMeasurements(answer: string, year: number, n: number): WritableMeasurement[] {
  type Row = { indicatorId: string; plan: number | null; fact: number | null };
  const doc = JSON.parse(answer) as { directions: { goals: { indicators: Row[] }[] }[] };
  return doc.directions
    .flatMap((d) => d.goals.flatMap((g) => g.indicators))
    .filter((i) => i.fact !== null)
    .slice(0, n)
    .map((i) => ({ indicatorId: i.indicatorId, year, plan: i.plan, fact: i.fact! }));
}

export interface WebhookBenchResult {
  withoutPerSec: number;
  withPerSec: number;
  /** Events the receiver got while the subscription was active. */
  delivered: number;
  /** Requests whose signature the receiver could not verify (must be 0). */
  unverified: number;
  lag?: { p50: number; p99: number; max: number; samples: number };
  note?: string;
}

interface Receiver {
  url: string;
  /** Verifies with this secret from now on (the subscription's). */
  useSecret(secret: string): Promise<void>;
  stats(): Promise<ReceiverStats>;
  /** Resolves at the arrival (performance.timeOrigin + performance.now()) of the next measurement event. */
  next(timeoutMs: number): Promise<number | undefined>;
  close(): Promise<void>;
}

/** bench/webhook-receiver.ts in a child process: its verifying does not share the load generator's CPU. */
async function startReceiver(): Promise<Receiver> {
  const child = fork(fileURLToPath(new URL('./webhook-receiver.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  type Reply = { url?: string; ready?: true; arrival?: number; stats?: ReceiverStats };
  const nextReply = (key: keyof Reply) =>
    new Promise<Reply>((resolve, reject) => {
      const onMessage = (m: Reply) => {
        if (!(key in m)) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(m);
      };
      const onExit = (code: number | null) => reject(new Error(`the webhook receiver exited (${code})`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const { url } = await nextReply('url');
  return {
    url: url!,
    async useSecret(secret) {
      const ready = nextReply('ready');
      child.send({ secret });
      await ready;
    },
    async stats() {
      const answer = nextReply('stats');
      child.send({ stats: true });
      return (await answer).stats!;
    },
    next(timeoutMs) {
      child.send({ watch: true });
      let timer: NodeJS.Timeout | undefined;
      return Promise.race([
        nextReply('arrival').then(
          (m) => m.arrival,
          () => undefined,
        ),
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), timeoutMs);
        }),
      ]).finally(() => {
        clearTimeout(timer);
        child.send({ watch: false });
      });
    },
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.disconnect();
      }),
  };
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

export async function webhookWrites(o: {
  base: string;
  headers: Record<string, string>;
  dbUrl: string;
  targets: WritableMeasurement[];
  duration: number;
  warmup: number;
  lagSamples: number;
}): Promise<WebhookBenchResult> {
  const headers = { ...o.headers, 'content-type': 'application/json' };
  const path = (m: WritableMeasurement) => `/api/v1/indicators/${m.indicatorId}/measurements/${m.year}`;
  const body = (m: WritableMeasurement, n: number) =>
    JSON.stringify({ plan: m.plan, fact: n % 2 === 0 ? m.fact : Math.round((m.fact + 0.1) * 10) / 10 });
  let counter = 0;
  const put = async (m: WritableMeasurement) => {
    const res = await fetch(`${o.base}${path(m)}`, { method: 'PUT', headers, body: body(m, ++counter) });
    await res.text();
    if (!res.ok) throw new Error(`PUT ${path(m)}: HTTP ${res.status}`);
  };
  /** Each client PUTs its own measurement back to back for `seconds`; answers writes per second. */
  const writeFor = async (seconds: number) => {
    let writes = 0;
    const started = performance.now();
    const until = started + seconds * 1000;
    await Promise.all(
      o.targets.map(async (m) => {
        while (performance.now() < until) {
          await put(m);
          writes++;
        }
      }),
    );
    return writes / ((performance.now() - started) / 1000);
  };

  const receiver = await startReceiver();
  const db = new pg.Client({ connectionString: o.dbUrl });
  await db.connect();
  let subscriptionId: string | undefined;
  const subscribe = async () => {
    const secret = newSigningSecret();
    await receiver.useSecret(secret);
    const { rows } = await db.query<{ id: string }>(
      `insert into webhook_subscriptions (created_by_kind, url, description, event_types, secret)
       values ('system', $1, 'bench', $2, $3) returning id`,
      [receiver.url, [...EVENT_TYPES], secret],
    );
    subscriptionId = rows[0]!.id;
  };
  const unsubscribe = async () => {
    if (subscriptionId) await db.query('delete from webhook_subscriptions where id = $1', [subscriptionId]);
    subscriptionId = undefined;
  };
  try {
    await writeFor(o.warmup);
    const without: number[] = [];
    const withOne: number[] = [];
    for (let round = 0; round < 2; round++) {
      without.push(await writeFor(o.duration));
      await subscribe();
      withOne.push(await writeFor(o.duration));
      await unsubscribe();
    }
    const delivered = (await receiver.stats()).total;

    // A fresh subscription gets only events after it; a moment for sends still in flight to the deleted one.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await subscribe();
    const lags: number[] = [];
    let note: string | undefined;
    for (let i = 0; i < o.lagSamples; i++) {
      const before = (await receiver.stats()).measurementEvents;
      const arrival = receiver.next(10_000);
      await put(o.targets[0]!);
      const committed = performance.timeOrigin + performance.now();
      const at = await arrival;
      if (at === undefined) {
        note =
          before === 0
            ? 'no delivery arrived within 10 s: the relay is not running (WEBHOOKS=off, or not merged yet)'
            : 'a delivery did not arrive within 10 s';
        break;
      }
      lags.push(Math.max(0, at - committed));
    }
    await unsubscribe();
    const { bad } = await receiver.stats();
    lags.sort((a, b) => a - b);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    return {
      withoutPerSec: mean(without),
      withPerSec: mean(withOne),
      delivered,
      unverified: bad,
      lag: lags.length
        ? { p50: quantile(lags, 0.5), p99: quantile(lags, 0.99), max: lags[lags.length - 1]!, samples: lags.length }
        : undefined,
      note,
    };
  } finally {
    // A subscription left behind keeps the dispatcher busy through every later scenario: try again.
    for (let attempt = 1; subscriptionId && attempt <= 3; attempt++) await unsubscribe().catch(() => {});
    if (subscriptionId) console.error(`webhooks: could not delete the bench subscription ${subscriptionId}`);
    // Put every measurement back to its stored fact.
    for (const m of o.targets) {
      await fetch(`${o.base}${path(m)}`, { method: 'PUT', headers, body: body(m, 0) }).catch(() => {});
    }
    await db.end();
    await receiver.close();
  }
}
