/**
 * The webhook dispatcher (issue 20) against real receivers on 127.0.0.1 that verify every signature with
 * the `standardwebhooks` package. Events and deliveries are written with SQL here (the relay and the
 * subscriptions API build them in the running service). Runs on PostgreSQL and PGlite; the two-process
 * cases are in webhooks-delivery-replicas.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { eq, inArray } from 'drizzle-orm';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import type { Config } from '../../src/config.js';
import type { Db } from '../../src/db/client.js';
import { webhookAttempts, webhookDeliveries, webhookEvents, webhookSubscriptions } from '../../src/db/schema.js';
import { claimDue } from '../../src/webhooks/dispatcher/repository.js';
import { backoffMs, createDispatcher } from '../../src/webhooks/dispatcher/service.js';
import { newSigningSecret, sealSecret } from '../../src/webhooks/secret.js';
import { call, setupApp, testConfig } from '../helpers/app.js';
import type { Receiver } from '../helpers/webhook-receiver.js';
import { freePort, startReceiver, waitFor } from '../helpers/webhook-receiver.js';

const ctx = setupApp();
let db: Db;
beforeAll(() => {
  db = ctx.db.database.db;
});

const deliveryConfig: Config = {
  ...testConfig,
  WEBHOOKS: 'on',
  WEBHOOK_ALLOW_HTTP: true,
  WEBHOOK_ALLOW_PRIVATE_TARGETS: true,
  WEBHOOK_POLL_MS: 50,
  WEBHOOK_CONNECT_TIMEOUT_MS: 1_000,
  WEBHOOK_RESPONSE_TIMEOUT_MS: 2_000,
  WEBHOOK_RETRY_HOURS: 1,
};
const quiet = { info() {}, warn() {}, error() {} };
/** Backoff that puts a retry out of a test's reach. */
const LATER = { retryBaseMs: 600_000, retryCapMs: 600_000 };

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  // Whatever a test left pending must not be sent by the next test's dispatcher.
  await db.update(webhookSubscriptions).set({ enabled: false });
});

function dispatcher(overrides: Partial<Config> = {}, options: Partial<Parameters<typeof createDispatcher>[0]> = {}) {
  const d = createDispatcher({
    db,
    config: { ...deliveryConfig, ...overrides },
    logger: quiet,
    retryBaseMs: 20,
    retryCapMs: 200,
    stopTimeoutMs: 3_000,
    ...options,
  });
  cleanups.push(() => d.stop());
  return d;
}

async function receiver(secrets: () => string[]): Promise<Receiver> {
  const r = await startReceiver(secrets);
  cleanups.push(() => r.close());
  return r;
}

async function subscription(url: string, o: Partial<typeof webhookSubscriptions.$inferInsert> = {}) {
  const secret = o.secret ?? newSigningSecret();
  const [row] = await db
    .insert(webhookSubscriptions)
    .values({ createdByKind: 'system', url, eventTypes: ['kz.nysana.measurement.created'], ...o, secret })
    .returning();
  return { ...row!, secret };
}

/** `n` events, each with one delivery to `subscriptionId`, in order; answers the event ids. */
async function enqueue(subscriptionId: string, n: number, from = 0): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const [event] = await db
      .insert(webhookEvents)
      .values({
        type: 'kz.nysana.measurement.created',
        source: '/api/v1',
        subject: `/api/v1/measurements/${from + i}`,
        time: new Date(),
        data: { n: from + i },
      })
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
const attemptsOf = (subscriptionId: string) =>
  db
    .select()
    .from(webhookAttempts)
    .where(eq(webhookAttempts.subscriptionId, subscriptionId))
    .orderBy(webhookAttempts.id);
const subscriptionRow = async (id: string) =>
  (await db.select().from(webhookSubscriptions).where(eq(webhookSubscriptions.id, id)))[0]!;
const allSucceeded = async (subscriptionId: string) =>
  (await deliveriesOf(subscriptionId)).every((d) => d.status === 'succeeded');

describe('delivery', () => {
  it('sends a signed CloudEvent that the reference library verifies, with the app (WEBHOOKS=on)', async () => {
    let secret = '';
    const r = await receiver(() => [secret]);
    r.handler = (_req, res) => void res.end('x'.repeat(5_000)); // more than the 1 KiB prefix kept
    const sub = await subscription(r.url);
    secret = sub.secret;
    const app = await buildApp({ db, config: deliveryConfig, logger: false });
    cleanups.push(() => app.close());
    await app.ready();
    expect(app.webhooks?.dispatcher).toBeDefined();
    const [eventId] = await enqueue(sub.id, 1);
    await waitFor('the delivery', () => allSucceeded(sub.id));

    expect(r.received).toHaveLength(1);
    const got = r.received[0]!;
    expect(got.verified).toEqual([true]);
    expect(got.path).toBe('/hooks');
    expect(got.headers['content-type']).toBe('application/cloudevents+json');
    expect(got.headers['user-agent']).toBe('Nysana-Webhooks/1');
    expect(got.headers['webhook-id']).toBe(eventId);
    expect(Math.abs(Number(got.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(300);
    expect(JSON.parse(got.body)).toMatchObject({
      specversion: '1.0',
      id: eventId,
      type: 'kz.nysana.measurement.created',
      source: '/api/v1',
      subject: '/api/v1/measurements/0',
      datacontenttype: 'application/json',
      data: { n: 0 },
    });
    const [attempt] = await attemptsOf(sub.id);
    expect(attempt).toMatchObject({ statusCode: 200, error: null, eventId });
    expect(attempt!.responsePrefix).toBe('x'.repeat(1024));
    const [delivery] = await deliveriesOf(sub.id);
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: 1, lastStatusCode: 200, leaseUntil: null });
    expect(delivery!.completedAt).not.toBeNull();

    // Closing the app stops the dispatcher: a delivery written after it stays pending.
    await app.close();
    expect(app.webhooks).toBeNull();
    await enqueue(sub.id, 1, 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(r.received).toHaveLength(1);
  });

  it('sends a test event at once, without waiting for the next poll', async () => {
    let secret = '';
    const r = await receiver(() => [secret]);
    const sub = await subscription(r.url);
    secret = sub.secret;
    // A poll far beyond waitFor's 20 s: only the wake-up of the test request can send it in time.
    const app = await buildApp({ db, config: { ...deliveryConfig, WEBHOOK_POLL_MS: 60_000 }, logger: false });
    cleanups.push(() => app.close());
    await app.ready();
    await waitFor('the dispatcher to settle', () => app.webhooks !== null);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const res = await call(app, 'POST', `/api/v1/webhooks/subscriptions/${sub.id}/test`, { message: 'now' });
    expect(res.status).toBe(202);
    await waitFor('the test event', () => r.received.length === 1);
    expect(r.received[0]!.headers['webhook-id']).toBe(res.body.eventId);
    expect(r.received[0]!.verified).toEqual([true]);
  });

  it('keeps the order of a subscription with a slow receiver, one delivery in flight at a time', async () => {
    let secret = '';
    const r = await receiver(() => [secret]);
    let inFlight = 0;
    let most = 0;
    r.handler = async (_req, res) => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 60));
      inFlight--;
      res.end();
    };
    const sub = await subscription(r.url);
    secret = sub.secret;
    const ids = await enqueue(sub.id, 6);
    // A second subscription to a fast receiver: its deliveries do not wait behind the slow one's.
    let secret2 = '';
    const fast = await receiver(() => [secret2]);
    const sub2 = await subscription(fast.url);
    secret2 = sub2.secret;
    const ids2 = await enqueue(sub2.id, 3);

    dispatcher().start();
    await waitFor('every delivery', async () => (await allSucceeded(sub.id)) && (await allSucceeded(sub2.id)));
    expect(r.received.map((x) => x.headers['webhook-id'])).toEqual(ids);
    expect(fast.received.map((x) => x.headers['webhook-id'])).toEqual(ids2);
    expect(most).toBe(1);
    expect([...r.received, ...fast.received].every((x) => x.verified[0])).toBe(true);
  });

  it('keeps slots for healthy subscriptions while failing ones hang until the timeout', async () => {
    const hanging = await receiver(() => []);
    hanging.handler = () => {}; // holds every request open
    // Two subscriptions that failed before, due first; the dispatcher has two slots, one for failing ones.
    const failing = [await subscription(hanging.url), await subscription(hanging.url)];
    for (const sub of failing) {
      await db.update(webhookSubscriptions).set({ consecutiveFailures: 3 }).where(eq(webhookSubscriptions.id, sub.id));
      await enqueue(sub.id, 1);
    }
    let secret = '';
    const fast = await receiver(() => [secret]);
    const healthy = await subscription(fast.url);
    secret = healthy.secret;
    const ids = await enqueue(healthy.id, 2);

    dispatcher({ WEBHOOK_CONCURRENCY: 2, WEBHOOK_RESPONSE_TIMEOUT_MS: 10_000 }, { ...LATER }).start();
    await waitFor('the healthy deliveries', () => allSucceeded(healthy.id));
    expect(fast.received.map((x) => x.headers['webhook-id'])).toEqual(ids);
    // Only one failing subscription was given a slot; the other waits for it, not the healthy one.
    expect(hanging.received).toHaveLength(1);
  });

  it('delivers every event, in order, none lost, when the receiver was down for a while', async () => {
    const port = await freePort();
    let secret = '';
    const sub = await subscription(`http://127.0.0.1:${port}/hooks`);
    secret = sub.secret;
    const ids = await enqueue(sub.id, 8);
    // One slot: the poll finds it full while a send is in flight, and claiming must go on after it.
    dispatcher({ WEBHOOK_CONCURRENCY: 1 }).start();
    await waitFor('three refused attempts', async () => (await attemptsOf(sub.id)).length >= 3);
    const refused = await attemptsOf(sub.id);
    // Only the head of the subscription is tried while the receiver is down.
    expect(new Set(refused.map((a) => a.deliveryId)).size).toBe(1);
    expect(refused.every((a) => a.statusCode === null && /ECONNREFUSED/.test(a.error ?? ''))).toBe(true);
    expect((await subscriptionRow(sub.id)).consecutiveFailures).toBeGreaterThanOrEqual(3);

    const r = await startReceiver(() => [secret], port);
    cleanups.push(() => r.close());
    await waitFor('every delivery', () => allSucceeded(sub.id));
    expect(r.received.map((x) => x.headers['webhook-id'])).toEqual(ids);
    expect(r.received.every((x) => x.verified[0])).toBe(true);
    expect((await subscriptionRow(sub.id)).consecutiveFailures).toBe(0);
  });

  it('retries a 500 and logs each attempt with its status code', async () => {
    let secret = '';
    const r = await receiver(() => [secret]);
    r.handler = (_req, res) => {
      res.statusCode = r.received.length === 1 ? 500 : 200;
      res.end(r.received.length === 1 ? 'boom' : 'ok');
    };
    const sub = await subscription(r.url);
    secret = sub.secret;
    const [eventId] = await enqueue(sub.id, 1);
    dispatcher().start();
    await waitFor('the delivery', () => allSucceeded(sub.id));
    const attempts = await attemptsOf(sub.id);
    expect(attempts.map((a) => [a.statusCode, a.error, a.responsePrefix])).toEqual([
      [500, null, 'boom'],
      [200, null, 'ok'],
    ]);
    expect(r.received.map((x) => x.headers['webhook-id'])).toEqual([eventId, eventId]);
    const [delivery] = await deliveriesOf(sub.id);
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: 2, lastStatusCode: 200, lastError: null });
  });

  it('fails a delivery whose retries are exhausted and disables its subscription; later ones wait', async () => {
    let secret = '';
    const r = await receiver(() => [secret]);
    r.handler = (_req, res) => {
      res.statusCode = 500;
      res.end();
    };
    const sub = await subscription(r.url);
    secret = sub.secret;
    await enqueue(sub.id, 2);
    // The first retry would wait 10 s (random() = 1), past a retry window of 3.6 s: it fails at once.
    const d = dispatcher({ WEBHOOK_RETRY_HOURS: 0.001 }, { retryBaseMs: 10_000, retryCapMs: 10_000, random: () => 1 });
    expect(await d.runOnce()).toBe(1);
    const [first, second] = await deliveriesOf(sub.id);
    expect(first).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: 500, lastError: 'HTTP 500' });
    expect(first!.completedAt).not.toBeNull();
    expect(second).toMatchObject({ status: 'pending', attempts: 0 });
    const row = await subscriptionRow(sub.id);
    expect(row.enabled).toBe(false);
    expect(row.disabledReason).toMatch(/failed after 1 attempts: HTTP 500/);
    expect(row.disabledAt).not.toBeNull();
    expect(row.consecutiveFailures).toBe(1);
    expect(row.version).toBe(sub.version + 1);
    // Disabled: nothing more is sent, and nothing is lost (the second delivery stays pending).
    expect(await d.runOnce()).toBe(0);
    expect(r.received).toHaveLength(1);
  });

  it('follows no redirect: a 3xx is a failure and the other location is never called', async () => {
    let secret = '';
    const r = await receiver(() => [secret]);
    r.handler = (_req, res) => {
      res.writeHead(r.received.length === 1 ? 307 : 200, { location: '/elsewhere' });
      res.end();
    };
    const sub = await subscription(r.url);
    secret = sub.secret;
    await enqueue(sub.id, 1);
    dispatcher().start();
    await waitFor('the retry', () => allSucceeded(sub.id));
    expect(r.received.map((x) => x.path)).toEqual(['/hooks', '/hooks']);
    const [redirected] = await attemptsOf(sub.id);
    expect(redirected).toMatchObject({ statusCode: 307, error: 'HTTP 307: redirects are not followed' });
  });

  it('refuses a target that resolves to a private address unless allowed, and connects to the checked address', async () => {
    let secret = '';
    const r = await receiver(() => [secret]);
    // A name only our lookup knows: if the sender resolved it again itself, the connection would fail.
    const url = `http://hooks.nysana.invalid:${r.port}/hooks`;
    const sub = await subscription(url);
    secret = sub.secret;
    const lookup = async () => [{ address: '127.0.0.1', family: 4 as const }];
    await enqueue(sub.id, 1);
    const strict = dispatcher({ WEBHOOK_ALLOW_PRIVATE_TARGETS: false }, { lookup, ...LATER });
    expect(await strict.runOnce()).toBe(1);
    expect(r.received).toHaveLength(0);
    const [refused] = await attemptsOf(sub.id);
    expect(refused).toMatchObject({
      statusCode: null,
      error: 'target refused: host hooks.nysana.invalid resolves to a non-public address (127.0.0.1)',
    });
    expect((await subscriptionRow(sub.id)).consecutiveFailures).toBe(1);

    await db
      .update(webhookDeliveries)
      .set({ nextAttemptAt: new Date(0) })
      .where(eq(webhookDeliveries.subscriptionId, sub.id));
    const allowed = dispatcher({}, { lookup });
    expect(await allowed.runOnce()).toBe(1);
    expect(r.received).toHaveLength(1);
    expect(r.received[0]!.headers.host).toBe(`hooks.nysana.invalid:${r.port}`);
    expect(r.received[0]!.verified).toEqual([true]);
  });

  it('gives up on a receiver that never answers after the response timeout', async () => {
    const r = await receiver(() => []);
    r.handler = () => {}; // holds the request open
    const sub = await subscription(r.url);
    await enqueue(sub.id, 1);
    const d = dispatcher({ WEBHOOK_RESPONSE_TIMEOUT_MS: 300 }, { ...LATER });
    expect(await d.runOnce()).toBe(1);
    const [attempt] = await attemptsOf(sub.id);
    expect(attempt).toMatchObject({ statusCode: null, error: 'response timeout after 300 ms', responsePrefix: null });
    const [delivery] = await deliveriesOf(sub.id);
    expect(delivery).toMatchObject({ status: 'pending', leaseUntil: null, lastError: 'response timeout after 300 ms' });
    await waitFor('the held connection to close', () => r.open === 0);
  });

  it('signs with both secrets during a rotation, and only the new one after it', async () => {
    const oldSecret = newSigningSecret();
    const newSecret = newSigningSecret();
    const r = await receiver(() => [oldSecret, newSecret]);
    const sub = await subscription(r.url, {
      secret: newSecret,
      previousSecret: oldSecret,
      previousSecretExpiresAt: new Date(Date.now() + 3_600_000),
    });
    await enqueue(sub.id, 1);
    const d = dispatcher();
    await d.runOnce();
    expect(r.received[0]!.verified).toEqual([true, true]);
    expect(r.received[0]!.headers['webhook-signature']!.split(' ')).toHaveLength(2);

    await db
      .update(webhookSubscriptions)
      .set({ previousSecretExpiresAt: new Date(Date.now() - 1_000) })
      .where(eq(webhookSubscriptions.id, sub.id));
    await enqueue(sub.id, 1, 1);
    await d.runOnce();
    expect(r.received[1]!.verified).toEqual([false, true]);
  });

  it('records a failed attempt when the secret cannot be opened, and sends nothing', async () => {
    const r = await receiver(() => []);
    const sealed = sealSecret(newSigningSecret(), 'k'.repeat(32));
    const sub = await subscription(r.url, { secret: sealed });
    await enqueue(sub.id, 1);
    const d = dispatcher({ JWT_KEY_ENCRYPTION_SECRET: undefined }, { ...LATER });
    expect(await d.runOnce()).toBe(1);
    expect(r.received).toHaveLength(0);
    const [attempt] = await attemptsOf(sub.id);
    expect(attempt!.error).toMatch(/^signing secret unavailable: .*JWT_KEY_ENCRYPTION_SECRET/);
    expect((await deliveriesOf(sub.id))[0]).toMatchObject({ status: 'pending', attempts: 1 });

    // With the key that sealed it, the same delivery goes out, signed with the opened secret.
    await db
      .update(webhookDeliveries)
      .set({ nextAttemptAt: new Date(0) })
      .where(eq(webhookDeliveries.subscriptionId, sub.id));
    expect(await dispatcher({ JWT_KEY_ENCRYPTION_SECRET: 'k'.repeat(32) }).runOnce()).toBe(1);
    expect(r.received).toHaveLength(1);
  });

  it('skips a leased delivery, one not yet due, and the ones behind a subscription head', async () => {
    const r = await receiver(() => []);
    const sub = await subscription(r.url);
    const [head] = await enqueue(sub.id, 2);
    const far = new Date(Date.now() + 3_600_000);
    await db.update(webhookDeliveries).set({ leaseUntil: far }).where(eq(webhookDeliveries.eventId, head!));
    const d = dispatcher();
    expect(await d.runOnce()).toBe(0);
    await db
      .update(webhookDeliveries)
      .set({ leaseUntil: null, nextAttemptAt: far })
      .where(eq(webhookDeliveries.eventId, head!));
    expect(await d.runOnce()).toBe(0);
    expect(r.received).toHaveLength(0);
  });
});

describe("a subscription's deliveries in batches", () => {
  const idsOf = (rows: { id: number }[]) => rows.map((r) => r.id);

  it('sends them in order across batches, each logged as one attempt', async () => {
    let secret = '';
    const r = await receiver(() => [secret]);
    const sub = await subscription(r.url);
    secret = sub.secret;
    const ids = await enqueue(sub.id, 8);
    expect(await dispatcher({}, { batchSize: 3 }).runOnce()).toBe(8);
    expect(r.received.map((x) => x.headers['webhook-id'])).toEqual(ids);
    expect(r.received.every((x) => x.verified[0])).toBe(true);
    const deliveries = await deliveriesOf(sub.id);
    expect(deliveries.map((d) => [d.status, d.attempts, d.leaseUntil])).toEqual(
      deliveries.map(() => ['succeeded', 1, null]),
    );
    const attempts = await attemptsOf(sub.id);
    expect(attempts.map((a) => [a.deliveryId, a.eventId, a.statusCode])).toEqual(
      deliveries.map((d) => [d.id, d.eventId, 200]),
    );
  });

  it('on a failure mid-batch records the ones before it, releases the rest unattempted, and sends them after the retry', async () => {
    let secret = '';
    const r = await receiver(() => [secret]);
    r.handler = (_req, res) => {
      res.statusCode = r.received.length === 3 ? 500 : 200;
      res.end();
    };
    const sub = await subscription(r.url);
    secret = sub.secret;
    const ids = await enqueue(sub.id, 5);
    const d = dispatcher({}, { batchSize: 10, ...LATER });
    // One claim of all five: two succeed, the third fails (its retry is out of reach), two are not sent.
    expect(await d.runOnce()).toBe(3);
    const after = await deliveriesOf(sub.id);
    expect(after.map((x) => [x.status, x.attempts, x.leaseUntil === null])).toEqual([
      ['succeeded', 1, true],
      ['succeeded', 1, true],
      ['pending', 1, true],
      ['pending', 0, true],
      ['pending', 0, true],
    ]);
    expect(after[2]!.lastStatusCode).toBe(500);
    expect((await attemptsOf(sub.id)).map((a) => a.deliveryId)).toEqual(idsOf(after.slice(0, 3)));
    // The released ones wait behind the failed head until its retry is due.
    await db
      .update(webhookDeliveries)
      .set({ nextAttemptAt: new Date(0) })
      .where(eq(webhookDeliveries.id, after[2]!.id));
    expect(await d.runOnce()).toBe(3);
    expect(r.received.map((x) => x.headers['webhook-id'])).toEqual([ids[0], ids[1], ids[2], ids[2], ids[3], ids[4]]);
    const done = await deliveriesOf(sub.id);
    expect(done.map((x) => [x.status, x.attempts])).toEqual([
      ['succeeded', 1],
      ['succeeded', 1],
      ['succeeded', 2],
      ['succeeded', 1],
      ['succeeded', 1],
    ]);
    expect((await attemptsOf(sub.id)).map((a) => [a.deliveryId, a.statusCode])).toEqual([
      [done[0]!.id, 200],
      [done[1]!.id, 200],
      [done[2]!.id, 500],
      [done[2]!.id, 200],
      [done[3]!.id, 200],
      [done[4]!.id, 200],
    ]);
  });

  it("claims behind a head only up to the first one that is not due, and a failing subscription's head alone", async () => {
    const healthy = await subscription('http://127.0.0.1:9/unused');
    await enqueue(healthy.id, 5);
    const rows = await deliveriesOf(healthy.id);
    await db
      .update(webhookDeliveries)
      .set({ nextAttemptAt: new Date(Date.now() + 3_600_000) })
      .where(eq(webhookDeliveries.id, rows[2]!.id));
    const failing = await subscription('http://127.0.0.1:9/unused');
    await db
      .update(webhookSubscriptions)
      .set({ consecutiveFailures: 2 })
      .where(eq(webhookSubscriptions.id, failing.id));
    await enqueue(failing.id, 3);
    const failingRows = await deliveriesOf(failing.id);
    const claimed = await claimDue(db, 10, 60_000, 10, 10);
    expect(claimed.map((c) => c.id)).toEqual([rows[0]!.id, rows[1]!.id, failingRows[0]!.id]);
    expect(claimed.map((c) => c.failing)).toEqual([false, false, true]);
    // Leased heads: a second claim finds nothing of either, not even the deliveries behind them.
    expect(await claimDue(db, 10, 60_000, 10, 10)).toEqual([]);
  });

  it('starts no further send of a batch once half the lease margin has passed; the rest go in a later claim', async () => {
    const r = await receiver(() => []);
    r.handler = async (_req, res) => {
      await new Promise((resolve) => setTimeout(resolve, 150));
      res.end();
    };
    const sub = await subscription(r.url);
    const ids = await enqueue(sub.id, 3);
    expect(await dispatcher({}, { batchSize: 10, leaseMarginMs: 200 }).runOnce()).toBe(3);
    expect(r.received.map((x) => x.headers['webhook-id'])).toEqual(ids);
    expect((await deliveriesOf(sub.id)).map((x) => [x.status, x.attempts])).toEqual([
      ['succeeded', 1],
      ['succeeded', 1],
      ['succeeded', 1],
    ]);
    // One claim and one record each: three record statements, three times.
    const times = (await attemptsOf(sub.id)).map((a) => a.attemptedAt.getTime());
    expect(new Set(times).size).toBe(3);
  });
});

describe("the relay's wake-ups", () => {
  it('claim nothing while every subscription they name has a batch in flight here; its end claims what came meanwhile', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const r = await receiver(() => []);
    r.handler = async (_req, res) => {
      await gate;
      res.end();
    };
    const sub = await subscription(r.url);
    const other = await subscription(r.url);
    await enqueue(sub.id, 1);
    // Statements run by the dispatcher, counted (a claim is one).
    let statements = 0;
    const counted = new Proxy(db, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown;
        if (key !== 'execute') return value;
        return (...args: Parameters<Db['execute']>) => {
          statements++;
          return target.execute(...args);
        };
      },
    });
    // No poll within the test: only wake-ups and completions claim.
    const d = dispatcher({ WEBHOOK_POLL_MS: 600_000 }, { db: counted });
    d.start();
    await waitFor('the first delivery in flight', async () => r.received.length === 1);
    const ids = await enqueue(sub.id, 2, 1); // as the relay would queue them behind it
    const before = statements;
    d.wake([sub.id]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(statements).toBe(before);
    // A subscription with nothing in flight here is claimed for at once.
    d.wake([sub.id, other.id]);
    await waitFor('a claim', async () => statements > before);
    release();
    await waitFor('every delivery', () => allSucceeded(sub.id));
    expect(r.received.slice(1).map((x) => x.headers['webhook-id'])).toEqual(ids);
  });
});

describe('odd answers and vanished rows', () => {
  it('keeps a binary answer with NUL bytes as a prefix without them', async () => {
    const r = await receiver(() => []);
    r.handler = (_req, res) => void res.end(Buffer.from([0x61, 0, 0x62, 0, 0xff]));
    const sub = await subscription(r.url);
    await enqueue(sub.id, 1);
    expect(await dispatcher().runOnce()).toBe(1);
    const [attempt] = await attemptsOf(sub.id);
    expect(attempt).toMatchObject({ statusCode: 200, responsePrefix: 'ab\ufffd' });
    expect((await deliveriesOf(sub.id))[0]!.status).toBe('succeeded');
  });

  it('records nothing for a subscription deleted while its delivery was out', async () => {
    const r = await receiver(() => []);
    const sub = await subscription(r.url);
    r.handler = async (_req, res) => {
      await db.delete(webhookSubscriptions).where(eq(webhookSubscriptions.id, sub.id));
      res.end();
    };
    await enqueue(sub.id, 1);
    const warnings: unknown[] = [];
    const d = dispatcher({}, { logger: { ...quiet, warn: (o: unknown) => void warnings.push(o) } });
    expect(await d.runOnce()).toBe(1);
    expect(r.received).toHaveLength(1);
    expect(await attemptsOf(sub.id)).toEqual([]);
    expect(warnings).toEqual([]);
  });
});

describe('https', () => {
  it('connects to the checked address with the URL host as TLS server name, and checks the certificate', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'nysana-tls-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    // A self-signed certificate for the name: no CA trusts it, so the check must refuse it.
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=hooks.nysana.test',
        '-addext',
        'subjectAltName=DNS:hooks.nysana.test',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const names: (string | undefined)[] = [];
    let requests = 0;
    const server = https.createServer(
      {
        key: await readFile(path.join(dir, 'key.pem')),
        cert: await readFile(path.join(dir, 'cert.pem')),
        SNICallback: (name, done) => {
          names.push(name);
          done(null, undefined);
        },
      },
      (_req, res) => {
        requests++;
        res.end();
      },
    );
    // The server name the client sent (SNI), seen before the client judges the certificate.
    server.on('tlsClientError', () => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as AddressInfo).port;
    const sub = await subscription(`https://hooks.nysana.test:${port}/hooks`);
    await enqueue(sub.id, 1);
    const lookup = async () => [{ address: '127.0.0.1', family: 4 as const }];
    const d = dispatcher({ WEBHOOK_ALLOW_HTTP: false }, { lookup, ...LATER });
    expect(await d.runOnce()).toBe(1);
    const [attempt] = await attemptsOf(sub.id);
    expect(attempt).toMatchObject({ statusCode: null });
    expect(attempt!.error).toMatch(/^DEPTH_ZERO_SELF_SIGNED_CERT/);
    expect(requests).toBe(0);
    expect(names).toEqual(['hooks.nysana.test']);
  });
});

describe('slow DNS', () => {
  it('counts a lookup that does not answer against the connect timeout', async () => {
    const r = await receiver(() => []);
    const sub = await subscription(`http://hooks.nysana.invalid:${r.port}/hooks`);
    await enqueue(sub.id, 1);
    const never = () => new Promise<never>(() => {});
    const d = dispatcher({ WEBHOOK_CONNECT_TIMEOUT_MS: 200 }, { lookup: never, ...LATER });
    expect(await d.runOnce()).toBe(1);
    const [attempt] = await attemptsOf(sub.id);
    expect(attempt!.error).toBe('target refused: host hooks.nysana.invalid did not resolve within 200 ms');
    expect(r.received).toHaveLength(0);
  });
});

describe('retention', () => {
  it('prunes old attempts, finished deliveries and events no delivery needs; keeps pending ones', async () => {
    const sub = await subscription('http://127.0.0.1:9/hooks');
    const [doneEvent, pendingEvent, orphanEvent, recentEvent] = await enqueue(sub.id, 4);
    const old = new Date(Date.now() - 40 * 86_400_000);
    await db
      .update(webhookDeliveries)
      .set({ status: 'succeeded', completedAt: old })
      .where(eq(webhookDeliveries.eventId, doneEvent!));
    await db.delete(webhookDeliveries).where(eq(webhookDeliveries.eventId, orphanEvent!));
    const own = [doneEvent!, pendingEvent!, orphanEvent!, recentEvent!];
    await db.update(webhookEvents).set({ createdAt: old }).where(inArray(webhookEvents.id, own));
    await db
      .update(webhookDeliveries)
      .set({ status: 'succeeded', completedAt: new Date() })
      .where(eq(webhookDeliveries.eventId, recentEvent!));
    const deliveries = await deliveriesOf(sub.id);
    for (const dl of deliveries) {
      await db
        .insert(webhookAttempts)
        .values({ deliveryId: dl.id, subscriptionId: sub.id, eventId: dl.eventId, durationMs: 1, attemptedAt: old });
    }
    const d = dispatcher({ WEBHOOK_RETENTION_DAYS: 30 });
    const pruned = await d.prune();
    // The finished old delivery's attempt, and the recent finished one's old attempt.
    expect(pruned).toEqual({ attempts: 2, deliveries: 1, events: 2 });
    const left = await deliveriesOf(sub.id);
    expect(left.map((x) => x.eventId)).toEqual([pendingEvent, recentEvent]);
    const attempts = await attemptsOf(sub.id);
    expect(attempts.map((a) => a.eventId)).toEqual([pendingEvent]);
    const events = await db.select({ id: webhookEvents.id }).from(webhookEvents);
    expect(events.map((e) => e.id)).not.toContain(doneEvent);
    expect(events.map((e) => e.id)).not.toContain(orphanEvent);
    expect(events.map((e) => e.id)).toContain(pendingEvent);
    expect(await d.prune()).toEqual({ attempts: 0, deliveries: 0, events: 0 });
  });

  it('backs off with full jitter, doubling up to the cap', () => {
    expect(backoffMs(1, 5_000, 3_600_000, () => 1)).toBe(5_000);
    expect(backoffMs(4, 5_000, 3_600_000, () => 1)).toBe(40_000);
    expect(backoffMs(40, 5_000, 3_600_000, () => 1)).toBe(3_600_000);
    expect(backoffMs(3, 5_000, 3_600_000, () => 0)).toBe(0);
    expect(backoffMs(0, 5_000, 3_600_000, () => 0.5)).toBe(2_500);
  });
});

describe('kept-alive connections', () => {
  it("sends a subscription's deliveries over one connection", async () => {
    let secret = '';
    const r = await receiver(() => [secret]);
    const sub = await subscription(r.url);
    secret = sub.secret;
    const ids = await enqueue(sub.id, 10);
    dispatcher().start();
    await waitFor('every delivery', () => allSucceeded(sub.id));
    expect(r.received.map((x) => x.headers['webhook-id'])).toEqual(ids);
    expect(r.received.every((x) => x.verified[0])).toBe(true);
    expect(r.connections).toBe(1);
  });

  it('connects anew when the DNS answer changes, and reuses a socket only for the address it went to', async () => {
    let secret = '';
    const first = await receiver(() => [secret]);
    // The same port on another loopback address: only the DNS answer tells the two apart.
    const second = await startReceiver(() => [secret], first.port, '127.0.0.2');
    cleanups.push(() => second.close());
    const sub = await subscription(`http://hooks.nysana.invalid:${first.port}/hooks`);
    secret = sub.secret;
    let answer = '127.0.0.1';
    const d = dispatcher({}, { lookup: async () => [{ address: answer, family: 4 as const }] });

    const before = await enqueue(sub.id, 3);
    expect(await d.runOnce()).toBe(3);
    answer = '127.0.0.2';
    const after = await enqueue(sub.id, 3, 3);
    expect(await d.runOnce()).toBe(3);
    answer = '127.0.0.1';
    const back = await enqueue(sub.id, 2, 6);
    expect(await d.runOnce()).toBe(2);

    expect(first.received.map((x) => x.headers['webhook-id'])).toEqual([...before, ...back]);
    expect(second.received.map((x) => x.headers['webhook-id'])).toEqual(after);
    expect([...first.received, ...second.received].every((x) => x.verified[0])).toBe(true);
    expect([first.connections, second.connections]).toEqual([1, 1]);
  });

  it('delivers everything to a receiver that answers Connection: close, one connection each', async () => {
    let secret = '';
    const r = await receiver(() => [secret]);
    r.handler = (_req, res) => {
      res.setHeader('connection', 'close');
      res.end('ok');
    };
    const sub = await subscription(r.url);
    secret = sub.secret;
    const ids = await enqueue(sub.id, 5);
    dispatcher().start();
    await waitFor('every delivery', () => allSucceeded(sub.id));
    expect(r.received.map((x) => x.headers['webhook-id'])).toEqual(ids);
    expect(r.connections).toBe(5);
    expect((await attemptsOf(sub.id)).every((a) => a.statusCode === 200)).toBe(true);
  });

  it('keeps no connection whose answer was longer than the prefix it reads', async () => {
    let secret = '';
    const r = await receiver(() => [secret]);
    r.handler = (_req, res) => void res.end('x'.repeat(4096));
    const sub = await subscription(r.url);
    secret = sub.secret;
    await enqueue(sub.id, 3);
    expect(await dispatcher().runOnce()).toBe(3);
    expect(await allSucceeded(sub.id)).toBe(true);
    expect(r.connections).toBe(3);
    expect((await attemptsOf(sub.id)).map((a) => a.responsePrefix?.length)).toEqual([1024, 1024, 1024]);
  });

  it('sends again on a new connection when the receiver closed a kept-alive one, in the same attempt', async () => {
    let secret = '';
    const r = await receiver(() => [secret]);
    // Each connection answers its first request and drops the next one unanswered, as a receiver does
    // whose idle timeout ended while our request was on its way.
    const served = new WeakMap<object, number>();
    r.handler = (_req, res) => {
      const n = (served.get(res.socket!) ?? 0) + 1;
      served.set(res.socket!, n);
      if (n > 1) res.socket!.destroy();
      else res.end('ok');
    };
    const sub = await subscription(r.url);
    secret = sub.secret;
    const ids = await enqueue(sub.id, 2);
    expect(await dispatcher().runOnce()).toBe(2);
    expect(await allSucceeded(sub.id)).toBe(true);
    // The second event reached the receiver twice (at least once), with the same webhook-id.
    expect(r.received.map((x) => x.headers['webhook-id'])).toEqual([ids[0], ids[1], ids[1]]);
    expect(r.connections).toBe(2);
    expect((await attemptsOf(sub.id)).map((a) => a.statusCode)).toEqual([200, 200]);
  });
});
