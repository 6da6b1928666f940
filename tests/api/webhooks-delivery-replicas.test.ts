/**
 * The dispatcher across processes (issue 20): two dispatchers with pools of their own on one database
 * deliver each event once, and a dispatcher killed with SIGKILL mid-delivery leaves a lease that runs
 * out, after which another dispatcher sends the same event again with the same webhook-id.
 * PostgreSQL only: PGlite is one process with one connection, so there is no second dispatcher to race
 * and no second process to survive a crash (named "[two connections]" so the run's summary counts them).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect } from 'vitest';
import type { Config } from '../../src/config.js';
import type { Database, Db } from '../../src/db/client.js';
import { openPostgres } from '../../src/db/client.js';
import { webhookAttempts, webhookDeliveries, webhookEvents, webhookSubscriptions } from '../../src/db/schema.js';
import { claimDue, recordFailure, recordSuccesses } from '../../src/webhooks/dispatcher/repository.js';
import { createDispatcher } from '../../src/webhooks/dispatcher/service.js';
import { newSigningSecret } from '../../src/webhooks/secret.js';
import { testConfig } from '../helpers/app.js';
import type { TestDatabase } from '../helpers/database.js';
import { createTestDatabase } from '../helpers/database.js';
import { hasTwoConnections, itTwoConnections } from '../helpers/two-connections.js';
import type { Receiver } from '../helpers/webhook-receiver.js';
import { startReceiver, waitFor } from '../helpers/webhook-receiver.js';

const root = path.resolve(import.meta.dirname, '../..');
const config: Config = {
  ...testConfig,
  WEBHOOK_ALLOW_HTTP: true,
  WEBHOOK_ALLOW_PRIVATE_TARGETS: true,
  WEBHOOK_POLL_MS: 50,
  WEBHOOK_CONNECT_TIMEOUT_MS: 500,
  WEBHOOK_RESPONSE_TIMEOUT_MS: 3_000,
};
const quiet = { info() {}, warn() {}, error() {} };

let test: TestDatabase | undefined;
let db: Db;
const cleanups: (() => Promise<unknown> | void)[] = [];
beforeAll(async () => {
  if (!hasTwoConnections()) return;
  test = await createTestDatabase();
  db = test.database.db;
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(async () => {
  await test?.dispose();
});

async function subscription(url: string) {
  const secret = newSigningSecret();
  const [row] = await db
    .insert(webhookSubscriptions)
    .values({ createdByKind: 'system', url, eventTypes: ['kz.nysana.measurement.created'], secret })
    .returning();
  return { ...row!, secret };
}

async function enqueue(subscriptionId: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const [event] = await db
      .insert(webhookEvents)
      .values({ type: 'kz.nysana.measurement.created', source: '/api/v1', time: new Date(), data: { n: i } })
      .returning({ id: webhookEvents.id });
    await db.insert(webhookDeliveries).values({ subscriptionId, eventId: event!.id });
    ids.push(event!.id);
  }
  return ids;
}

const deliveriesOf = (subscriptionId: string) =>
  db
    .select()
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.subscriptionId, subscriptionId))
    .orderBy(webhookDeliveries.id);
const allSucceeded = async (subscriptionId: string) =>
  (await deliveriesOf(subscriptionId)).every((d) => d.status === 'succeeded');

async function receiver(secret: () => string): Promise<Receiver> {
  const r = await startReceiver(() => [secret()]);
  cleanups.push(() => r.close());
  return r;
}

describe('dispatchers in several processes (PostgreSQL only: PGlite is one process with one connection)', () => {
  itTwoConnections('two dispatchers with their own pools deliver each event once, in order', async () => {
    const subs: { id: string; ids: string[]; r: Receiver }[] = [];
    for (let s = 0; s < 3; s++) {
      let secret = '';
      const r = await receiver(() => secret);
      r.handler = async (_req, res) => {
        await new Promise((resolve) => setTimeout(resolve, 15));
        res.end();
      };
      // A host name each dispatcher resolves through a lookup of its own: the counts say who sent what.
      const sub = await subscription(`http://hooks.nysana.invalid:${r.port}/hooks`);
      secret = sub.secret;
      subs.push({ id: sub.id, ids: await enqueue(sub.id, 15), r });
    }
    const sent = [0, 0];
    const dispatchers: ReturnType<typeof createDispatcher>[] = [];
    for (const i of [0, 1]) {
      const own: Database = await openPostgres({ url: test!.url!, poolMax: 3, connectTimeoutMs: 30_000 });
      const d = createDispatcher({
        db: own.db,
        config: { ...config, WEBHOOK_CONCURRENCY: 1 },
        logger: quiet,
        lookup: async () => {
          sent[i]!++;
          return [{ address: '127.0.0.1', family: 4 }];
        },
      });
      dispatchers.push(d);
      cleanups.push(() => own.close());
      cleanups.push(() => d.stop());
    }
    for (const d of dispatchers) d.start();
    await waitFor('every delivery', async () => {
      for (const s of subs) if (!(await allSucceeded(s.id))) return false;
      return true;
    });
    for (const s of subs) {
      expect(s.r.received.map((x) => x.headers['webhook-id'])).toEqual(s.ids);
      expect(s.r.received.every((x) => x.verified[0])).toBe(true);
    }
    expect(sent[0]! + sent[1]!).toBe(45);
    // Both took part (one delivery in flight each, three subscriptions to choose from).
    expect(Math.min(...sent)).toBeGreaterThan(0);
    const attempts = await db.select().from(webhookAttempts);
    expect(attempts).toHaveLength(45);
  });

  itTwoConnections(
    'a dispatcher killed with SIGKILL mid-delivery: another sends the event again, same webhook-id, after the lease',
    async () => {
      let secret = '';
      const r = await receiver(() => secret);
      let hold = true;
      r.handler = (_req, res) => {
        if (!hold) res.end();
        // else: held open, as a slow receiver would, until the sender's process dies
      };
      const sub = await subscription(r.url);
      secret = sub.secret;
      const ids = await enqueue(sub.id, 3);

      const child: ChildProcess = spawn(
        process.execPath,
        ['--import', 'tsx', path.join(root, 'tests/helpers/webhook-dispatcher-child.ts')],
        {
          cwd: root,
          env: {
            ...process.env,
            DATABASE_URL: test!.url!,
            WEBHOOK_ALLOW_HTTP: 'true',
            WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
            WEBHOOK_POLL_MS: '50',
            WEBHOOK_CONNECT_TIMEOUT_MS: '500',
            WEBHOOK_RESPONSE_TIMEOUT_MS: '3000',
            LEASE_MARGIN_MS: '0',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      const exited = new Promise((resolve) => child.on('exit', resolve));
      cleanups.push(() => void child.kill('SIGKILL'));
      await waitFor('the child to send the first delivery', () => r.received.length === 1, 60_000);
      child.kill('SIGKILL');
      await exited;
      const [leased] = await deliveriesOf(sub.id);
      expect(leased).toMatchObject({ status: 'pending', attempts: 1 });
      expect(leased!.leaseUntil).not.toBeNull();

      hold = false;
      const d = createDispatcher({ db, config, logger: quiet });
      cleanups.push(() => d.stop());
      d.start();
      await waitFor('every delivery', () => allSucceeded(sub.id));
      expect(r.received.map((x) => x.headers['webhook-id'])).toEqual([ids[0], ...ids]);
      expect(r.received.every((x) => x.verified[0])).toBe(true);
      const [first] = await deliveriesOf(sub.id);
      expect(first).toMatchObject({ status: 'succeeded', attempts: 2 });
      // The killed process never recorded its attempt; the log holds the one that succeeded.
      const log = await db.select().from(webhookAttempts).where(eq(webhookAttempts.deliveryId, first!.id));
      expect(log.map((a) => a.statusCode)).toEqual([200]);
    },
    90_000,
  );

  itTwoConnections(
    'a subscription deleted while its attempts are recorded: the deletion commits, the records wait for it and write nothing',
    async () => {
      const sub = await subscription('http://127.0.0.1:9/unused');
      await enqueue(sub.id, 2);
      const [ok] = await claimDue(db, 10, 60_000);
      const [, second] = await deliveriesOf(sub.id);
      // The same subscription's next delivery, as a second claim in flight would carry it.
      const bad = { ...ok!, id: second!.id };
      expect(ok!.subscription.id).toBe(sub.id);
      // The deletion holds the subscription and, through the cascade, its deliveries, uncommitted.
      const deleter = new pg.Client({ connectionString: test!.url! });
      await deleter.connect();
      cleanups.push(() => deleter.end());
      await deleter.query('begin');
      await deleter.query('delete from webhook_subscriptions where id = $1', [sub.id]);
      // Each record must wait for the deletion (not lock the delivery first and the subscription last:
      // that deadlocked), then find nothing to record.
      const success = recordSuccesses(db, sub.id, [{ claim: ok!, outcome: { statusCode: 200, durationMs: 5 } }]);
      const failure = recordFailure(db, bad, { statusCode: 500, durationMs: 5 }, { delayMs: 1_000, retryHours: 24 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      await deleter.query('commit');
      await expect(success).resolves.toBeUndefined();
      await expect(failure).resolves.toBe('overtaken');
      expect(await db.select().from(webhookAttempts).where(eq(webhookAttempts.subscriptionId, sub.id))).toEqual([]);
      expect(await deliveriesOf(sub.id)).toEqual([]);
    },
  );
});
