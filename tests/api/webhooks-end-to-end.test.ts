/**
 * Webhooks end to end, as a subscriber sees them: subscribe through the API, change data through the API,
 * and receive signed CloudEvents that the reference `standardwebhooks` library verifies, in commit order;
 * a write that is refused sends nothing. The relay and dispatcher run inside the app (WEBHOOKS=on), woken
 * by the audit trail's notification, as in production.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import type { Config } from '../../src/config.js';
import { call, testConfig } from '../helpers/app.js';
import type { Json } from '../helpers/app.js';
import type { TestDatabase } from '../helpers/database.js';
import { createTestDatabase } from '../helpers/database.js';
import { createTree, putMeasurement } from '../helpers/fixtures.js';
import type { Receiver } from '../helpers/webhook-receiver.js';
import { startReceiver, waitFor } from '../helpers/webhook-receiver.js';

const API = '/api/v1';
const config: Config = {
  ...testConfig,
  WEBHOOKS: 'on',
  WEBHOOK_ALLOW_HTTP: true,
  WEBHOOK_ALLOW_PRIVATE_TARGETS: true,
  WEBHOOK_POLL_MS: 100,
};

let database: TestDatabase;
let app: Awaited<ReturnType<typeof buildApp>>;
let receiver: Receiver;
let secret = '';

beforeAll(async () => {
  database = await createTestDatabase();
  app = await buildApp({ db: database.database.db, config, logger: false, listen: database.database.listen });
  await app.ready();
  receiver = await startReceiver(() => [secret]);
});
afterAll(async () => {
  await app?.close();
  await receiver?.close();
  await database?.dispose();
});

const bodies = () => receiver.received.map((r) => JSON.parse(r.body) as Json);

describe('a subscriber', () => {
  it('gets each committed change once, signed, in order, and nothing for a refused write', async () => {
    const tree = await createTree(app);
    const created = await call(app, 'POST', `${API}/webhooks/subscriptions`, {
      url: receiver.url,
      eventTypes: [
        'kz.nysana.measurement.created',
        'kz.nysana.measurement.updated',
        'kz.nysana.indicator.status_changed',
      ],
      planId: tree.plan.id,
    });
    expect(created.status).toBe(201);
    secret = created.body.secret as string;
    expect(secret).toMatch(/^whsec_/);

    await putMeasurement(app, tree.indicator.id, 2016, { plan: 10, fact: 12 });
    await waitFor('two deliveries', () => receiver.received.length >= 2);
    await putMeasurement(app, tree.indicator.id, 2016, { plan: 10, fact: 8 });
    await waitFor('four deliveries', () => receiver.received.length >= 4);

    // Refused: a bulk whose second row is invalid writes nothing, so it sends nothing.
    const refused = await call(app, 'POST', `${API}/measurements/bulk`, {
      rows: [
        { indicatorId: tree.indicator.id, year: 2017, plan: 1, fact: 1 },
        { indicatorId: tree.indicator.id, year: 2030, plan: 1, fact: 1 },
      ],
    });
    expect(refused.status).toBe(400);
    // A later write is delivered after it, and it is the next thing delivered: nothing came from the refused one.
    await putMeasurement(app, tree.indicator.id, 2018, { plan: 5 });
    await waitFor('the sixth delivery', () => receiver.received.length >= 6);
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(receiver.received.every((r) => r.verified[0] === true)).toBe(true);
    const events = bodies();
    expect(events.map((e) => e.type)).toEqual([
      'kz.nysana.measurement.created',
      'kz.nysana.indicator.status_changed',
      'kz.nysana.measurement.updated',
      'kz.nysana.indicator.status_changed',
      'kz.nysana.measurement.created',
      'kz.nysana.indicator.status_changed', // a plan without a fact: no_target -> pending
    ]);
    expect(events[1].data.before.status).toBe('no_target');
    expect(events[1].data.after.status).toBe('achieved');
    expect(events[3].data.before.status).toBe('achieved');
    expect(events[3].data.after.status).toBe('not_achieved');
    expect(events.every((e) => e.specversion === '1.0' && e.source === `${API}/plans/${tree.plan.id}`)).toBe(true);
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(6);
    expect(receiver.received.map((r) => r.headers['webhook-id'])).toEqual(events.map((e) => e.id));

    // The delivery log shows each one delivered.
    const log = await call(app, 'GET', `${API}/webhooks/subscriptions/${created.body.id}/deliveries`);
    expect(log.status).toBe(200);
    expect(log.body.items).toHaveLength(6);
    expect(events[5].data.after.status).toBe('pending');
    expect(log.body.items.every((d: Json) => d.status === 'succeeded')).toBe(true);
  });
});
