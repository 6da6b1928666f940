/**
 * The webhook relay (docs/webhooks.md, "The outbox is the audit trail"): real API writes become
 * events in commit order, rolled-back writes none, and each event is fanned out once to the
 * subscriptions that match it. Subscriptions are inserted directly (their API is another feature).
 */
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { webhookSubscriptions } from '../../src/db/schema.js';
import { EVENT_TYPES, toCloudEvent } from '../../src/webhooks/catalog.js';
import { CLOUD_EVENTS } from '../../src/webhooks/event-schemas.js';
import type { EventType } from '../../src/webhooks/catalog.js';
import { RELAYED_ENTITY_TYPES } from '../../src/webhooks/relay/events.js';
import { createRelay } from '../../src/webhooks/relay/service.js';
import type { Relay, RelayedBatch } from '../../src/webhooks/relay/service.js';
import { call, setupApp } from '../helpers/app.js';
import type { Json } from '../helpers/app.js';
import {
  API,
  createIndicator,
  createTree,
  expectProblem,
  expectStatus,
  putMeasurement,
  queryRows,
} from '../helpers/fixtures.js';
import { itTwoConnections } from '../helpers/two-connections.js';

// WEBHOOKS=off: no relay of the app's own runs beside the ones these tests drive.
const ctx = setupApp({ WEBHOOKS: 'off' });
const quiet = { info() {}, warn() {}, error() {} };
const relayOf = (batchRows?: number, onEvents?: (b: RelayedBatch) => void): Relay =>
  createRelay({
    db: ctx.db.database.db,
    config: { WEBHOOK_POLL_MS: 20 },
    logger: quiet,
    ...(batchRows ? { batchRows } : {}),
    ...(onEvents ? { onEvents } : {}),
  });
let relay: Relay;
beforeAll(() => {
  relay = relayOf();
});
// Each test's subscriptions are its own (their deliveries go with them). The relay writes only events some
// subscription names, so every test starts with a disabled one to every type (its deliveries just wait).
const ARCHIVE_URL = 'https://archive.example/all';
beforeEach(async () => {
  await ctx.db.database.db.insert(webhookSubscriptions).values({
    createdByKind: 'system',
    url: ARCHIVE_URL,
    secret: 'whsec_dGVzdA==',
    eventTypes: [...EVENT_TYPES],
    enabled: false,
  });
});
afterEach(async () => {
  await queryRows(ctx, sql`delete from webhook_subscriptions`);
});

interface Event {
  id: string;
  seq: number;
  type: EventType;
  source: string;
  subject: string;
  organization_id: string | null;
  plan_id: string | null;
  audit_id: number;
  data: Json;
}

/**
 * Relays until no committed audit row waits behind the position, and answers the events written. On a
 * shared server another session's open transaction (autovacuum's analyze of a fresh table, another test
 * file) can hold pg_snapshot_xmin back for a moment: runOnce then rightly leaves newer rows for later.
 */
async function settle(r: Relay = relay): Promise<number> {
  let written = 0;
  for (let i = 0; ; i++) {
    written += await r.runOnce();
    const [row] = await queryRows(
      ctx,
      sql`select exists (select 1 from audit_log a, webhook_relay p
            where (a.change_xid, a.id) > (p.change_xid, p.audit_id)
              and a.entity_type = any(${`{${RELAYED_ENTITY_TYPES.join(',')}}`}::text[])) as pending`,
    );
    if (!row!.pending) return written;
    if (i > 3_000) throw new Error('the relay did not catch up');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Relays what is pending and answers the last seq: "events after this" are the test's own. */
async function mark(): Promise<number> {
  await settle();
  const [row] = await queryRows(ctx, sql`select coalesce(max(seq), 0)::int as seq from webhook_events`);
  return row!.seq as number;
}

/** The events written after `seq`; each must be what the OpenAPI document's `webhooks` section publishes for its type. */
async function eventsAfter(seq: number): Promise<Event[]> {
  const rows = (await queryRows(
    ctx,
    sql`select id::text, seq::int, type, source, subject, organization_id::text, plan_id::text, audit_id::int, data,
               time
        from webhook_events where seq > ${seq} order by seq`,
  )) as unknown as (Event & { time: Date })[];
  return rows.map(({ time, ...e }) => {
    const published = CLOUD_EVENTS[e.type]!.schema.safeParse(
      toCloudEvent({ ...e, time: new Date(time), data: e.data as Record<string, unknown> }),
    );
    if (!published.success) throw new Error(`${e.type} does not match its schema: ${published.error.message}`);
    return e;
  });
}

async function relayed(seq: number): Promise<Event[]> {
  await settle();
  return eventsAfter(seq);
}

async function subscribe(values: {
  eventTypes: string[];
  organizationId?: string;
  planId?: string;
  enabled?: boolean;
}): Promise<string> {
  const [row] = await ctx.db.database.db
    .insert(webhookSubscriptions)
    .values({ createdByKind: 'system', url: 'https://receiver.example/hook', secret: 'whsec_dGVzdA==', ...values })
    .returning({ id: webhookSubscriptions.id });
  return row!.id;
}

/** The event ids delivered to a subscription, in delivery id order. */
async function deliveredTo(subscriptionId: string): Promise<string[]> {
  const rows = await queryRows(
    ctx,
    sql`select event_id::text as event from webhook_deliveries where subscription_id = ${subscriptionId} order by id`,
  );
  return rows.map((r) => r.event as string);
}

const types = (events: Event[]) => events.map((e) => e.type);
const order = { document: { en: 'Order No. 63' }, date: '2016-11-22' };

describe('events from real API writes', () => {
  it('plan structure: a direction, goal and indicator created, updated and deleted', async () => {
    const from = await mark();
    const tree = await createTree(ctx.app);
    expectStatus(await call(ctx.app, 'PATCH', `${API}/goals/${tree.goal.id}`, { title: { en: 'Renamed' } }), 200);
    const events = await relayed(from);
    expect(types(events)).toEqual(Array(4).fill('kz.nysana.plan.structure_changed'));
    const [direction, goal, indicator, renamed] = events;
    expect(direction!.data).toMatchObject({
      plan: { id: tree.plan.id, code: tree.plan.code, organizationId: tree.organization.id },
      entity: { type: 'direction', id: tree.direction.id, code: tree.direction.code },
      action: 'create',
      before: null,
      after: { id: tree.direction.id, planId: tree.plan.id },
      links: { self: `${API}/directions/${tree.direction.id}` },
    });
    expect(direction).toMatchObject({
      source: `${API}/plans/${tree.plan.id}`,
      subject: `${API}/directions/${tree.direction.id}`,
      organization_id: tree.organization.id,
      plan_id: tree.plan.id,
    });
    expect(goal!.data.entity).toEqual({ type: 'goal', id: tree.goal.id, code: tree.goal.code });
    expect(indicator!.data.entity).toEqual({ type: 'indicator', id: tree.indicator.id, code: tree.indicator.code });
    expect(renamed!.data).toMatchObject({ action: 'update', after: { title: { en: 'Renamed' } } });
    expect(renamed!.data.before.title).toEqual(tree.goal.title);
  });

  it('measurements created, updated, deleted, each with its status change when the verdict moves', async () => {
    const tree = await createTree(ctx.app);
    const url = `${API}/indicators/${tree.indicator.id}/measurements/2016`;
    const from = await mark();
    const created = await putMeasurement(ctx.app, tree.indicator.id, 2016, { plan: 100, fact: 80 });
    expectStatus(await call(ctx.app, 'PATCH', url, { fact: 120 }), 200);
    expect((await call(ctx.app, 'DELETE', url)).status).toBe(204);
    const events = await relayed(from);
    expect(types(events)).toEqual([
      'kz.nysana.measurement.created',
      'kz.nysana.indicator.status_changed',
      'kz.nysana.measurement.updated',
      'kz.nysana.indicator.status_changed',
      'kz.nysana.measurement.deleted',
      'kz.nysana.indicator.status_changed',
    ]);
    const plan = { id: tree.plan.id, code: tree.plan.code, organizationId: tree.organization.id };
    const indicator = { id: tree.indicator.id, code: tree.indicator.code };
    expect(events[0]!.data).toMatchObject({
      measurement: { id: created.id, indicatorId: tree.indicator.id, year: 2016 },
      indicator,
      plan,
      year: 2016,
      before: null,
      after: { plan: 100, fact: 80 },
      links: { self: url },
    });
    expect(events[0]!.subject).toBe(url);
    const noMeasurement = { status: 'no_target', percent: null, band: null };
    expect(events[1]!.data).toEqual({
      indicator,
      plan,
      year: 2016,
      before: noMeasurement,
      after: { status: 'not_achieved', percent: 80, band: null },
      links: { self: `${API}/indicators/${tree.indicator.id}/status?year=2016` },
    });
    expect(events[2]!.data).toMatchObject({ before: { fact: 80 }, after: { fact: 120 } });
    expect(events[3]!.data).toMatchObject({
      before: { status: 'not_achieved', percent: 80 },
      after: { status: 'achieved', percent: 120 },
    });
    expect(events[4]!.data).toMatchObject({ before: { id: created.id, fact: 120 }, after: null });
    expect(events[5]!.data).toMatchObject({ before: { status: 'achieved' }, after: noMeasurement });
    // Every event of one audit row names it; the status change follows its measurement event.
    expect(events[1]!.audit_id).toBe(events[0]!.audit_id);
    expect(new Set(events.map((e) => e.id)).size).toBe(6);
  });

  it('status_changed: not on a note-only change nor on one that keeps status, percent and band; yes when only the percent moves', async () => {
    const tree = await createTree(ctx.app);
    const url = `${API}/indicators/${tree.indicator.id}/measurements/2015`;
    await putMeasurement(ctx.app, tree.indicator.id, 2015, { plan: 100, fact: 80 });
    const from = await mark();
    expectStatus(await call(ctx.app, 'PATCH', url, { note: { en: 'a remark' } }), 200);
    expectStatus(await call(ctx.app, 'PATCH', url, { plan: 50, fact: 40 }), 200); // still 80 %, still not achieved
    expect(types(await relayed(from))).toEqual(['kz.nysana.measurement.updated', 'kz.nysana.measurement.updated']);

    const next = await mark();
    expectStatus(await call(ctx.app, 'PATCH', url, { fact: 45 }), 200); // 90 %: same verdict, new percent
    const events = await relayed(next);
    expect(types(events)).toEqual(['kz.nysana.measurement.updated', 'kz.nysana.indicator.status_changed']);
    expect(events[1]!.data).toMatchObject({
      before: { status: 'not_achieved', percent: 80 },
      after: { status: 'not_achieved', percent: 90 },
    });
  });

  it('status_changed follows the indicator direction (lower is better) and the plan-only to pending flip', async () => {
    const tree = await createTree(ctx.app, { indicator: { valueType: 'number', betterWhen: 'lower' } });
    const from = await mark();
    await putMeasurement(ctx.app, tree.indicator.id, 2017, { plan: 10 }); // pending: the fact comes later
    await putMeasurement(ctx.app, tree.indicator.id, 2017, { plan: 10, fact: 8 }); // lower than planned: achieved
    const status = (await relayed(from)).filter((e) => e.type === 'kz.nysana.indicator.status_changed');
    expect(status.map((e) => [e.data.before.status, e.data.after.status, e.data.after.percent])).toEqual([
      ['no_target', 'pending', null],
      ['pending', 'achieved', 125],
    ]);
  });

  it("scores by the plan's evaluation method, as the status read model answers (band)", async () => {
    const label = (en: string) => ({ kk: en, ru: en, en });
    const bands = [
      { code: 'high', min: 1, label: label('High') },
      { code: 'medium', min: 0.9, label: label('Medium') },
      { code: 'low', min: 0, label: label('Low') },
    ];
    const rules = { rankDegree: 'places', cap: 1, bands, rollUp: 'weighted', pending: { treatment: 'excluded' } };
    const method = expectStatus(
      await call(ctx.app, 'POST', `${API}/evaluation-methods`, {
        code: `relay-${Date.now()}`,
        name: { en: 'M' },
        rules,
      }),
      201,
    );
    const tree = await createTree(ctx.app, { plan: { evaluationMethodId: method.id } });
    const from = await mark();
    await putMeasurement(ctx.app, tree.indicator.id, 2016, { plan: 100, fact: 95 });
    await putMeasurement(ctx.app, tree.indicator.id, 2016, { plan: 100, fact: 130 });
    const status = (await relayed(from)).filter((e) => e.type === 'kz.nysana.indicator.status_changed');
    expect(status.map((e) => [e.data.before.band, e.data.after.band])).toEqual([
      [null, 'medium'],
      ['medium', 'high'],
    ]);
    const read = expectStatus(
      await call(ctx.app, 'GET', `${API}/indicators/${tree.indicator.id}/status?year=2016`),
      200,
    );
    expect(status[1]!.data.after).toEqual({
      status: read.status,
      percent: read.achievementPercent,
      band: read.band.code,
    });
  });

  it("an indicator's direction changed: a status change for each measurement whose verdict it moves", async () => {
    const tree = await createTree(ctx.app, { indicator: { valueType: 'number', betterWhen: 'higher' } });
    await putMeasurement(ctx.app, tree.indicator.id, 2015, { plan: 100, fact: 80 }); // not achieved -> achieved
    await putMeasurement(ctx.app, tree.indicator.id, 2016, { plan: 100 }); // pending either way
    const from = await mark();
    const url = `${API}/indicators/${tree.indicator.id}`;
    expectStatus(await call(ctx.app, 'PATCH', url, { betterWhen: 'lower' }), 200);
    expectStatus(await call(ctx.app, 'PATCH', url, { name: { en: 'Renamed only' } }), 200);
    const events = await relayed(from);
    expect(types(events)).toEqual([
      'kz.nysana.plan.structure_changed',
      'kz.nysana.indicator.status_changed',
      'kz.nysana.plan.structure_changed',
    ]);
    expect(events[1]!.data).toEqual({
      indicator: { id: tree.indicator.id, code: tree.indicator.code },
      plan: { id: tree.plan.id, code: tree.plan.code, organizationId: tree.organization.id },
      year: 2015,
      before: { status: 'not_achieved', percent: 80, band: null },
      after: { status: 'achieved', percent: 125, band: null },
      links: { self: `${API}/indicators/${tree.indicator.id}/status?year=2015` },
    });
  });

  it('a year approved and reopened', async () => {
    const tree = await createTree(ctx.app);
    const from = await mark();
    const approval = expectStatus(
      await call(ctx.app, 'POST', `${API}/plans/${tree.plan.id}/years/2016/approve`, order),
      201,
    );
    expectStatus(
      await call(ctx.app, 'POST', `${API}/plans/${tree.plan.id}/years/2016/reopen`, { reason: 'A corrected fact' }),
      200,
    );
    const events = await relayed(from);
    expect(types(events)).toEqual(['kz.nysana.year.approved', 'kz.nysana.year.reopened']);
    const plan = { id: tree.plan.id, code: tree.plan.code, organizationId: tree.organization.id };
    const self = `${API}/plans/${tree.plan.id}/years`;
    expect(events[0]!.data).toMatchObject({
      plan,
      year: 2016,
      approval: { id: approval.id, date: '2016-11-22' },
      links: { self },
    });
    expect(events[1]!.data).toMatchObject({
      plan,
      year: 2016,
      approval: { id: approval.id },
      reason: 'A corrected fact',
    });
    expect(events.map((e) => e.organization_id)).toEqual([tree.organization.id, tree.organization.id]);
  });

  it("a report's signatory set, replaced and removed", async () => {
    const tree = await createTree(ctx.app);
    const url = `${API}/plans/${tree.plan.id}/reports/2016/signature`;
    const block = { position: { en: 'Chairman' }, name: { en: 'K. Kozhamzharov' } };
    const from = await mark();
    expectStatus(await call(ctx.app, 'PUT', url, block), 201);
    expectStatus(await call(ctx.app, 'PUT', url, { ...block, name: { en: 'A. Successor' } }), 200);
    expect((await call(ctx.app, 'DELETE', url)).status).toBe(204);
    const events = await relayed(from);
    expect(types(events)).toEqual(Array(3).fill('kz.nysana.report.signatory_changed'));
    expect(events.map((e) => e.data.action)).toEqual(['create', 'update', 'delete']);
    expect(events[1]!.data).toMatchObject({
      plan: { id: tree.plan.id, code: tree.plan.code },
      year: 2016,
      before: { name: { en: 'K. Kozhamzharov' } },
      after: { name: { en: 'A. Successor' } },
      links: { self: url },
    });
  });

  it('a bulk write: one event per written row, none for an unchanged row', async () => {
    const tree = await createTree(ctx.app);
    await putMeasurement(ctx.app, tree.indicator.id, 2014, { plan: 5, fact: 5 });
    const from = await mark();
    const rows = [
      { indicatorId: tree.indicator.id, year: 2014, plan: 5, fact: 5 }, // unchanged
      { indicatorId: tree.indicator.id, year: 2015, plan: 5, fact: 6 },
      { indicatorId: tree.indicator.id, year: 2016, plan: 5, fact: null },
    ];
    expectStatus(await call(ctx.app, 'POST', `${API}/measurements/bulk`, { rows }), 200);
    const events = await relayed(from);
    expect(types(events)).toEqual([
      'kz.nysana.measurement.created',
      'kz.nysana.indicator.status_changed',
      'kz.nysana.measurement.created',
      'kz.nysana.indicator.status_changed',
    ]);
    expect(events.map((e) => e.data.year)).toEqual([2015, 2015, 2016, 2016]);
    expect(events.every((e) => e.data.plan.id === tree.plan.id)).toBe(true);
  });

  it('a committed spreadsheet import: the structure it creates and the values it writes', async () => {
    const tree = await createTree(ctx.app);
    const header = [
      'Нысаналы индикатордың атауы',
      'Ақпарат көзі',
      'Өлш. бірл.',
      'Жоспар',
      'Факт',
      'Ескертпе',
      'betterWhen',
    ];
    const rows = [
      header,
      ['1-стратегиялық бағыт. Imported'],
      ['1.1-мақсат. Imported goal'],
      ['Imported', 'Stat', '%', 10, 9, '', 'higher'],
    ];
    const csv = rows.map((r) => r.map((v) => `"${String(v)}"`).join(';')).join('\n');
    const from = await mark();
    const res = await call(ctx.app, 'POST', `${API}/plans/${tree.plan.id}/import?year=2016&commit=true`, csv, {
      'content-type': 'text/csv',
    });
    expect(expectStatus(res, 200).committed).toBe(true);
    const events = await relayed(from);
    expect(types(events)).toEqual([
      'kz.nysana.plan.structure_changed',
      'kz.nysana.plan.structure_changed',
      'kz.nysana.plan.structure_changed',
      'kz.nysana.measurement.created',
      'kz.nysana.indicator.status_changed',
    ]);
    expect(events.map((e) => e.data.entity?.type ?? null)).toEqual(['direction', 'goal', 'indicator', null, null]);
    expect(events.every((e) => e.plan_id === tree.plan.id && e.organization_id === tree.organization.id)).toBe(true);
    expect(events[4]!.data).toMatchObject({ year: 2016, after: { status: 'not_achieved', percent: 90 } });
  });

  it('a cascade delete of a plan: events keep the plan and codes of the deleted rows, across small batches', async () => {
    const small = relayOf(2);
    const tree = await createTree(ctx.app);
    const second = await createIndicator(ctx.app, tree.goal.id);
    await putMeasurement(ctx.app, tree.indicator.id, 2016, { plan: 1, fact: 1 });
    await putMeasurement(ctx.app, second.id, 2016, { plan: 1, fact: 2 });
    const from = await mark();
    expect((await call(ctx.app, 'DELETE', `${API}/plans/${tree.plan.id}?cascade=true`)).status).toBe(204);
    expect(await settle(small)).toBeGreaterThan(0);
    const events = await eventsAfter(from);
    const deleted = events.filter((e) => e.type === 'kz.nysana.measurement.deleted');
    expect(deleted).toHaveLength(2);
    for (const e of events) {
      expect(e.plan_id).toBe(tree.plan.id);
      expect(e.organization_id).toBe(tree.organization.id);
      expect(e.data.plan).toEqual({ id: tree.plan.id, code: tree.plan.code, organizationId: tree.organization.id });
    }
    expect(deleted.map((e) => e.data.indicator.code).sort()).toEqual([tree.indicator.code, second.code].sort());
    expect(events.filter((e) => e.type === 'kz.nysana.plan.structure_changed').map((e) => e.data.entity.type)).toEqual([
      'indicator',
      'indicator',
      'goal',
      'direction',
    ]);
  });
});

describe('a subscription filtered to a plan', () => {
  it('outlives the plan: it hears the deletion, and stays for its owner to see', async () => {
    const tree = await createTree(ctx.app);
    await putMeasurement(ctx.app, tree.indicator.id, 2016, { plan: 1, fact: 1 });
    const sub = await subscribe({
      eventTypes: ['kz.nysana.measurement.deleted', 'kz.nysana.plan.structure_changed'],
      planId: tree.plan.id,
      organizationId: tree.organization.id,
    });
    await mark();
    expect((await call(ctx.app, 'DELETE', `${API}/plans/${tree.plan.id}?cascade=true`)).status).toBe(204);
    expect((await call(ctx.app, 'DELETE', `${API}/organizations/${tree.organization.id}`)).status).toBe(204);
    await settle();
    const [row] = await queryRows(ctx, sql`select plan_id::text as plan from webhook_subscriptions where id = ${sub}`);
    expect(row?.plan).toBe(tree.plan.id);
    // measurement deleted, then indicator, goal, direction: each delivered to the plan's subscription.
    expect(await deliveredTo(sub)).toHaveLength(4);
  });
});

describe('only committed changes', () => {
  it('a rejected bulk (one invalid row), a stale If-Match and a write failing at its audit row make no event', async () => {
    const tree = await createTree(ctx.app);
    const url = `${API}/indicators/${tree.indicator.id}/measurements/2016`;
    const first = await call(ctx.app, 'PUT', url, { plan: 1, fact: 1 });
    expect(first.status).toBe(201);
    const from = await mark();

    const bad = [
      { indicatorId: tree.indicator.id, year: 2015, plan: 5, fact: 6 },
      { indicatorId: tree.indicator.id, year: 1999, plan: 5 },
    ];
    expect((await call(ctx.app, 'POST', `${API}/measurements/bulk`, { rows: bad })).status).toBe(400);
    expectProblem(await call(ctx.app, 'PUT', url, { plan: 2 }, { 'if-match': '"7"' }), 412);
    // A failure planted after the measurements and the first audit rows were written: all rolled back.
    await queryRows(
      ctx,
      sql.raw(`create function fail_relay_test() returns trigger language plpgsql as $$
        begin
          if new.entity_key = '${tree.indicator.id}/2017' then raise exception 'planted failure'; end if;
          return new;
        end $$`),
    );
    await queryRows(
      ctx,
      sql`create trigger fail_relay_test before insert on audit_log for each row execute function fail_relay_test()`,
    );
    try {
      const rows = [
        { indicatorId: tree.indicator.id, year: 2015, plan: 5, fact: 6 },
        { indicatorId: tree.indicator.id, year: 2017, plan: 5, fact: 6 },
      ];
      expect((await call(ctx.app, 'POST', `${API}/measurements/bulk`, { rows })).status).toBe(500);
    } finally {
      await queryRows(ctx, sql`drop trigger fail_relay_test on audit_log`);
      await queryRows(ctx, sql`drop function fail_relay_test()`);
    }
    expect(await settle()).toBe(0);
    expect(await eventsAfter(from)).toEqual([]);

    // The same write once it commits: its events come.
    expectStatus(await call(ctx.app, 'PUT', url, { plan: 2, fact: 1 }, { 'if-match': '"1"' }), 200);
    expect(types(await relayed(from))).toEqual(['kz.nysana.measurement.updated', 'kz.nysana.indicator.status_changed']);
  });

  it('every audit row once, in (transaction, id) order, across batch boundaries and ids of growing length', async () => {
    const tree = await createTree(ctx.app);
    const from = await mark();
    // Ids from 99,990 on: 99,999 -> 100,000 inside the bulk (a text order would put 100,000 first).
    await queryRows(ctx, sql`select setval('audit_log_id_seq', greatest(99990, (select max(id) from audit_log)))`);
    const rows = Array.from({ length: 5 }, (_, i) => ({
      indicatorId: tree.indicator.id,
      year: 2014 + i,
      plan: 1,
      fact: null,
    }));
    expectStatus(await call(ctx.app, 'POST', `${API}/measurements/bulk`, { rows }), 200);
    const second = await createIndicator(ctx.app, tree.goal.id);
    const more = Array.from({ length: 5 }, (_, i) => ({ indicatorId: second.id, year: 2014 + i, plan: 1, fact: null }));
    expectStatus(await call(ctx.app, 'POST', `${API}/measurements/bulk`, { rows: more }), 200);
    await settle(relayOf(3));
    const events = await eventsAfter(from);
    const audits = await queryRows(
      ctx,
      sql`select id::int from audit_log where id > 99990 and entity_type in ('measurement', 'indicator') order by change_xid, id`,
    );
    const created = events.filter((e) => e.type !== 'kz.nysana.indicator.status_changed');
    expect(created.map((e) => e.audit_id)).toEqual(audits.map((a) => a.id));
    expect(created).toHaveLength(11);
    expect(events).toHaveLength(21);
  });

  it('relaying again writes nothing twice', async () => {
    const tree = await createTree(ctx.app);
    const from = await mark();
    await putMeasurement(ctx.app, tree.indicator.id, 2016, { plan: 1 });
    expect(await settle()).toBe(2);
    expect(await settle()).toBe(0);
    expect(await eventsAfter(from)).toHaveLength(2);
  });
});

describe('event ids follow from the change (a relay run lost in a crash and redone sends under the ids it had)', () => {
  /** The relay's position now; the function puts it back there (what a lost run, or an operator, leaves). */
  async function relayPositionNow(): Promise<() => Promise<void>> {
    const [position] = await queryRows(
      ctx,
      sql`select change_xid::text, audit_id::text from webhook_relay where id = 1`,
    );
    return async () => {
      await queryRows(
        ctx,
        sql`update webhook_relay set change_xid = ${position!.change_xid}::bigint, audit_id = ${position!.audit_id}::bigint where id = 1`,
      );
    };
  }

  it('a run redone over the same audit rows gives the same event ids; other changes get other ids', async () => {
    const tree = await createTree(ctx.app);
    const from = await mark();
    const moveBack = await relayPositionNow();
    await putMeasurement(ctx.app, tree.indicator.id, 2016, { plan: 10, fact: 12 });
    await putMeasurement(ctx.app, tree.indicator.id, 2016, { plan: 10, fact: 8 });
    const first = await relayed(from);
    expect(types(first)).toEqual([
      'kz.nysana.measurement.created',
      'kz.nysana.indicator.status_changed',
      'kz.nysana.measurement.updated',
      'kz.nysana.indicator.status_changed',
    ]);
    // The same measurement's status changed twice, in two changes: two ids.
    expect(new Set(first.map((e) => e.id)).size).toBe(4);

    // What a crash that lost the run's commit leaves: neither its events (their deliveries go with them) nor
    // its position move.
    await queryRows(ctx, sql`delete from webhook_events where seq > ${from}`);
    await moveBack();
    const again = await relayed(from);
    expect(again.map((e) => [e.id, e.type, e.audit_id])).toEqual(first.map((e) => [e.id, e.type, e.audit_id]));
    expect(again.map((e) => e.seq)).not.toEqual(first.map((e) => e.seq));
    // The archive subscription's deliveries of the redone run name those ids again.
    const delivered = await queryRows(
      ctx,
      sql`select e.id::text from webhook_deliveries d join webhook_events e on e.id = d.event_id where e.seq > ${from} order by d.id`,
    );
    expect(delivered.map((r) => r.id)).toEqual(first.map((e) => e.id));
  });

  it('a position moved back over events that exist is no failure: they are skipped, later changes relayed', async () => {
    const tree = await createTree(ctx.app);
    const from = await mark();
    const moveBack = await relayPositionNow();
    await putMeasurement(ctx.app, tree.indicator.id, 2016, { plan: 10, fact: 12 });
    const first = await relayed(from);
    expect(first.length).toBeGreaterThan(0);
    const deliveries = async () =>
      (
        await queryRows(
          ctx,
          sql`select count(*)::int as n from webhook_deliveries d join webhook_events e on e.id = d.event_id
              where e.seq > ${from}`,
        )
      )[0]!.n as number;
    const deliveredBefore = await deliveries();
    expect(deliveredBefore).toBeGreaterThan(0); // the archive subscription's

    // An operator moves the position back by hand (say, to replay): the events are still there.
    await moveBack();
    await putMeasurement(ctx.app, tree.indicator.id, 2016, { plan: 10, fact: 8 });
    const after = await relayed(from);
    // The first change's events once each, then the second change's: the run did not stop at the first.
    expect(after.slice(0, first.length).map((e) => e.id)).toEqual(first.map((e) => e.id));
    expect(new Set(after.map((e) => e.id)).size).toBe(after.length);
    expect(types(after.slice(first.length))).toEqual([
      'kz.nysana.measurement.updated',
      'kz.nysana.indicator.status_changed',
    ]);
    // And no second delivery of what had been relayed.
    expect(await deliveries()).toBe(deliveredBefore + (after.length - first.length));
  });
});

describe('commit order on PostgreSQL', () => {
  /** A write by hand on a connection of its own, as a service would make it: the row and its audit row. */
  async function slowWriter() {
    const client = new pg.Client({ connectionString: ctx.db.url });
    await client.connect();
    return {
      begin: () => client.query('begin; select 1'),
      async renameGoal(goal: Json, title: string) {
        const { rows } = await client.query(
          `update goals set title = jsonb_build_object('en', $2::text), version = version + 1 where id = $1 returning id`,
          [goal.id, title],
        );
        await client.query(
          `insert into audit_log (actor_type, entity_type, entity_id, action, before, after)
           values ('system', 'goal', $1, 'update', $2, $3)`,
          [rows[0].id, JSON.stringify(goal), JSON.stringify({ ...goal, title: { en: title } })],
        );
      },
      commit: () => client.query('commit'),
      end: () => client.end(),
    };
  }

  itTwoConnections('a write that started later but wrote and committed first is relayed first', async () => {
    const tree = await createTree(ctx.app);
    const other = await createTree(ctx.app);
    const from = await mark();
    const slow = await slowWriter();
    try {
      await slow.begin(); // started first, has written nothing yet
      expectStatus(await call(ctx.app, 'PATCH', `${API}/goals/${other.goal.id}`, { title: { en: 'fast' } }), 200);
      // Relayed at once: the earlier-started transaction holds no transaction id yet, so nothing waits for it.
      expect(types(await relayed(from))).toEqual(['kz.nysana.plan.structure_changed']);
      await slow.renameGoal(tree.goal, 'slow');
      await slow.commit();
    } finally {
      await slow.end();
    }
    const events = await relayed(from);
    expect(events.map((e) => [e.data.entity.id, e.data.after.title.en])).toEqual([
      [other.goal.id, 'fast'],
      [tree.goal.id, 'slow'],
    ]);
    expect(events[0]!.seq).toBeLessThan(events[1]!.seq);
  });

  itTwoConnections('a later write is held back (never skipped) while an earlier one is still open', async () => {
    const tree = await createTree(ctx.app);
    const other = await createTree(ctx.app);
    const from = await mark();
    const slow = await slowWriter();
    try {
      await slow.begin();
      await slow.renameGoal(tree.goal, 'first writer'); // holds the smaller transaction id, uncommitted
      expectStatus(await call(ctx.app, 'PATCH', `${API}/goals/${other.goal.id}`, { title: { en: 'second' } }), 200);
      expect(await relay.runOnce()).toBe(0);
      expect(await eventsAfter(from)).toEqual([]);
      await slow.commit();
    } finally {
      await slow.end();
    }
    const events = await relayed(from);
    expect(events.map((e) => e.data.entity.id)).toEqual([tree.goal.id, other.goal.id]);
  });

  // With nobody subscribed the relay moves its position without reading the trail: past every final row
  // (no event would come of it), never past a write still open, whose events a subscription made before
  // it commits must get.
  itTwoConnections('with nobody subscribed, passes what is final but not a write still open', async () => {
    const tree = await createTree(ctx.app);
    const other = await createTree(ctx.app);
    const from = await mark();
    await queryRows(ctx, sql`delete from webhook_subscriptions`);
    expectStatus(await call(ctx.app, 'PATCH', `${API}/goals/${other.goal.id}`, { title: { en: 'unheard' } }), 200);
    const slow = await slowWriter();
    try {
      await slow.begin();
      await slow.renameGoal(tree.goal, 'open'); // uncommitted while the relay runs with nobody subscribed
      // Until the committed write is final (another session of a shared server may hold xmin back a moment).
      for (let i = 0; ; i++) {
        expect(await relay.runOnce()).toBe(0);
        const [row] = await queryRows(
          ctx,
          sql`select exists (select 1 from audit_log a, webhook_relay p where a.entity_id = ${other.goal.id}
                and (a.change_xid, a.id) >= (p.change_xid, p.audit_id)) as pending`,
        );
        if (!row!.pending) break;
        if (i > 3_000) throw new Error('the relay did not pass the committed write');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await subscribe({ eventTypes: ['kz.nysana.plan.structure_changed'] });
      await slow.commit();
    } finally {
      await slow.end();
    }
    const events = await relayed(from);
    expect(events.map((e) => [e.data.entity.id, e.data.after.title.en])).toEqual([[tree.goal.id, 'open']]);
  });
});

describe('fan-out to subscriptions', () => {
  it('matches event types and organization/plan filters; a disabled subscription still gets its deliveries queued', async () => {
    const a = await createTree(ctx.app);
    const b = await createTree(ctx.app);
    const measurementTypes = ['kz.nysana.measurement.created', 'kz.nysana.measurement.updated'];
    const all = await subscribe({ eventTypes: measurementTypes });
    const orgA = await subscribe({ eventTypes: measurementTypes, organizationId: a.organization.id });
    const planB = await subscribe({ eventTypes: measurementTypes, planId: b.plan.id });
    const bothFilters = await subscribe({
      eventTypes: measurementTypes,
      organizationId: a.organization.id,
      planId: b.plan.id,
    });
    const statusOnly = await subscribe({ eventTypes: ['kz.nysana.indicator.status_changed'] });
    const disabled = await subscribe({ eventTypes: measurementTypes, planId: a.plan.id, enabled: false });
    await putMeasurement(ctx.app, a.indicator.id, 2016, { plan: 1, fact: 1 });
    await putMeasurement(ctx.app, b.indicator.id, 2016, { plan: 1, fact: 1 });
    await putMeasurement(ctx.app, a.indicator.id, 2016, { plan: 1, fact: 1, note: { en: 'note' } });
    const from = 0;
    await settle();
    const events = await eventsAfter(from);
    const id = (tree: Json, type: string, nth = 0) =>
      events.filter((e) => e.type === type && e.data.indicator?.id === tree.indicator.id)[nth]!.id;
    const aCreated = id(a, 'kz.nysana.measurement.created');
    const bCreated = id(b, 'kz.nysana.measurement.created');
    const aUpdated = id(a, 'kz.nysana.measurement.updated');
    expect(await deliveredTo(all)).toEqual([aCreated, bCreated, aUpdated]);
    expect(await deliveredTo(orgA)).toEqual([aCreated, aUpdated]);
    expect(await deliveredTo(planB)).toEqual([bCreated]);
    expect(await deliveredTo(bothFilters)).toEqual([]);
    expect(await deliveredTo(statusOnly)).toEqual([
      id(a, 'kz.nysana.indicator.status_changed'),
      id(b, 'kz.nysana.indicator.status_changed'),
    ]);
    expect(await deliveredTo(disabled)).toEqual([aCreated, aUpdated]);
    const [pending] = await queryRows(
      ctx,
      sql`select count(*)::int as n from webhook_deliveries where subscription_id = ${disabled} and status = 'pending'`,
    );
    expect(pending!.n).toBe(2);
  });

  it('a subscription created after a change gets no delivery for it, only for later ones', async () => {
    const tree = await createTree(ctx.app);
    const from = await mark();
    await putMeasurement(ctx.app, tree.indicator.id, 2014, { plan: 1 });
    await new Promise((resolve) => setTimeout(resolve, 5)); // the subscription's created_at in a later millisecond
    const late = await subscribe({ eventTypes: ['kz.nysana.measurement.created'], planId: tree.plan.id });
    await putMeasurement(ctx.app, tree.indicator.id, 2015, { plan: 1 });
    const events = (await relayed(from)).filter((e) => e.type === 'kz.nysana.measurement.created');
    expect(events.map((e) => e.data.year)).toEqual([2014, 2015]);
    expect(await deliveredTo(late)).toEqual([events[1]!.id]);
  });

  it('two relays racing: every event written once, every delivery queued once', async () => {
    const tree = await createTree(ctx.app);
    const sub = await subscribe({ eventTypes: ['kz.nysana.measurement.created'], planId: tree.plan.id });
    const from = await mark();
    const rows = Array.from({ length: 5 }, (_, i) => ({
      indicatorId: tree.indicator.id,
      year: 2014 + i,
      plan: i + 1,
      fact: null,
    }));
    expectStatus(await call(ctx.app, 'POST', `${API}/measurements/bulk`, { rows }), 200);
    for (let i = 0; i < 4; i++) {
      const more = await createIndicator(ctx.app, tree.goal.id);
      await putMeasurement(ctx.app, more.id, 2016, { plan: i + 1 });
    }
    const [one, two] = [relayOf(3), relayOf(3)];
    const counts = await Promise.all([one.runOnce(), two.runOnce(), one.runOnce(), two.runOnce()]);
    counts.push(await settle(one));
    const events = await eventsAfter(from);
    // 5 + 4 measurements (each created and its status change) and 4 indicators created.
    expect(events).toHaveLength(9 * 2 + 4);
    expect(counts.reduce((s, n) => s + n, 0)).toBe(events.length);
    const perRow = new Set(events.map((e) => `${e.audit_id}/${e.type}`));
    expect(perRow.size).toBe(events.length);
    expect((await deliveredTo(sub)).length).toBe(9);
    expect(new Set(await deliveredTo(sub)).size).toBe(9);
  });
});

describe('running in the background', () => {
  it('wakes on the audit channel (or its poll), tells onEvents, and stops', async () => {
    await mark();
    const heard: RelayedBatch[] = [];
    const background = createRelay({
      db: ctx.db.database.db,
      listen: ctx.db.database.listen,
      config: { WEBHOOK_POLL_MS: 60_000 }, // the notification wakes it, not the poll
      logger: quiet,
      onEvents: (b) => heard.push(b),
    });
    const tree = await createTree(ctx.app);
    await subscribe({ eventTypes: ['kz.nysana.measurement.created'], planId: tree.plan.id });
    await mark(); // the tree's own events are relayed here, not by the background relay
    background.start();
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
      heard.length = 0;
      await putMeasurement(ctx.app, tree.indicator.id, 2016, { plan: 1 });
      await expect.poll(() => heard.reduce((s, b) => s + b.events, 0), { timeout: 10_000 }).toBe(2);
      // One for the plan's subscription to created measurements, two (created, status_changed) for the archive.
      expect(heard.reduce((s, b) => s + b.deliveries, 0)).toBe(3);
    } finally {
      await background.stop();
    }
    await putMeasurement(ctx.app, tree.indicator.id, 2017, { plan: 1 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(heard.reduce((s, b) => s + b.events, 0)).toBe(2);
  });
});

describe('events nobody subscribes to', () => {
  it('are not written: none without subscriptions, only the named types with one', async () => {
    await queryRows(ctx, sql`delete from webhook_subscriptions`);
    const tree = await createTree(ctx.app);
    const before = await mark();
    await putMeasurement(ctx.app, tree.indicator.id, 2016, { plan: 10, fact: 12 });
    expect(await relayed(before)).toEqual([]);
    await subscribe({ eventTypes: ['kz.nysana.indicator.status_changed'] });
    await putMeasurement(ctx.app, tree.indicator.id, 2016, { plan: 10, fact: 8 });
    const events = await relayed(before);
    expect(events.map((e) => e.type)).toEqual(['kz.nysana.indicator.status_changed']);
    expect(events[0]!.data.before.status).toBe('achieved');
    expect(events[0]!.data.after.status).toBe('not_achieved');
  });
});
