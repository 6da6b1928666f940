/**
 * Webhook subscriptions (issue 20): who manages which, the target and filter checks, the secret shown
 * once (sealed at rest), rotation with both secrets signing for a while, If-Match, and the delivery log's
 * lists, redelivery and test event. The relay and dispatcher are off (WEBHOOKS=off): rows they would
 * write are inserted here directly.
 */
import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  auditLog,
  webhookAttempts,
  webhookDeliveries,
  webhookEvents,
  webhookSubscriptions,
} from '../../src/db/schema.js';
import { TEST_EVENT_TYPE, toCloudEvent } from '../../src/webhooks/catalog.js';
import { CLOUD_EVENTS } from '../../src/webhooks/event-schemas.js';
import { keyOf, openSecret, signingKeys } from '../../src/webhooks/secret.js';
import type { Json } from '../helpers/app.js';
import { bearer, call, setupApp, tokenFor } from '../helpers/app.js';
import { API, createOrganization, createPlan, errorPaths, expectProblem, expectStatus } from '../helpers/fixtures.js';

const ENCRYPTION = 'an encryption secret of at least thirty-two characters';
const ctx = setupApp({ WEBHOOKS: 'off', JWT_KEY_ENCRYPTION_SECRET: ENCRYPTION });
const SUBS = `${API}/webhooks/subscriptions`;
const PUBLIC_URL = 'https://93.184.215.14/hooks/nysana';
const SECRET = /^whsec_[A-Za-z0-9+/]{43}=$/;
const TYPES = ['kz.nysana.measurement.created', 'kz.nysana.year.approved'];

const db = () => ctx.db.database.db;
const rowOf = async (id: string) =>
  (await db().select().from(webhookSubscriptions).where(eq(webhookSubscriptions.id, id)))[0]!;

/** A service client of the API and a bearer token for it (as client credentials would give). */
async function newClient(): Promise<{ id: string; headers: Record<string, string> }> {
  const client = expectStatus(
    await call(ctx.app, 'POST', `${API}/clients`, { name: `Registry ${randomUUID()}`, role: 'viewer' }),
    201,
  );
  const { token } = await ctx.app.auth.tokens.sign({
    kind: 'client',
    id: client.id,
    role: 'viewer',
    organizationId: null,
  });
  return { id: client.id, headers: bearer(token) };
}

async function subscribe(body: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Json> {
  return expectStatus(await call(ctx.app, 'POST', SUBS, { url: PUBLIC_URL, eventTypes: TYPES, ...body }, headers), 201);
}

describe('creating: the secret is shown once', () => {
  it('answers 201 with Location, ETag, no-store and the secret; stores it sealed; never shows it again', async () => {
    const res = await call(ctx.app, 'POST', SUBS, { url: PUBLIC_URL, eventTypes: TYPES, description: ' CRM ' });
    expect(res.status, res.raw.body).toBe(201);
    const created = res.body;
    expect(created).toEqual({
      id: expect.any(String),
      url: PUBLIC_URL,
      eventTypes: TYPES,
      organizationId: null,
      planId: null,
      description: 'CRM',
      enabled: true,
      disabledReason: null,
      disabledAt: null,
      consecutiveFailures: 0,
      clientId: null,
      createdBy: { kind: 'user', id: expect.any(String) },
      previousSecretExpiresAt: null,
      version: 1,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      secret: expect.stringMatching(SECRET),
    });
    expect(res.headers.location).toBe(`${SUBS}/${created.id}`);
    expect(res.headers.etag).toBe('"1"');
    expect(res.headers['cache-control']).toBe('no-store');

    // At rest: an AES-256-GCM envelope that opens to the secret shown, and nothing else like it.
    const row = await rowOf(created.id);
    expect(row.secret.startsWith('sealed:')).toBe(true);
    expect(row.secret).not.toContain(created.secret.slice(6));
    expect(openSecret(row.secret, ENCRYPTION)).toBe(created.secret);
    expect(() => openSecret(row.secret, 'another encryption secret, also thirty-two long')).toThrow();

    const one = await call(ctx.app, 'GET', `${SUBS}/${created.id}`);
    expect(one.status).toBe(200);
    expect(one.headers.etag).toBe('"1"');
    expect(one.body).not.toHaveProperty('secret');
    const unchanged = await call(ctx.app, 'GET', `${SUBS}/${created.id}`, undefined, { 'if-none-match': '"1"' });
    expect(unchanged.status).toBe(304);
    expect(unchanged.raw.body).toBe('');
    const list = expectStatus(await call(ctx.app, 'GET', SUBS), 200);
    expect(list.items.find((s: Json) => s.id === created.id)).not.toHaveProperty('secret');
    const secretBody = created.secret.slice(6);
    expect(one.raw.body).not.toContain(secretBody);
    expect(JSON.stringify(list)).not.toContain(secretBody);

    const audit = await db().select().from(auditLog).where(eq(auditLog.entityId, created.id));
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ entityType: 'webhookSubscription', action: 'create', before: null });
    expect(audit[0]!.after).toMatchObject({ id: created.id, url: PUBLIC_URL });
    expect(JSON.stringify(audit)).not.toContain(secretBody);
    expect(JSON.stringify(audit)).not.toContain('sealed:');
  });

  it('keeps filters and the disabled state asked for', async () => {
    const organization = await createOrganization(ctx.app);
    const plan = await createPlan(ctx.app, organization.id);
    const created = await subscribe({ organizationId: organization.id, planId: plan.id, enabled: false });
    expect(created).toMatchObject({
      organizationId: organization.id,
      planId: plan.id,
      enabled: false,
      disabledReason: expect.any(String),
      disabledAt: expect.any(String),
    });
    // A plan filter alone is enough.
    expect(await subscribe({ planId: plan.id })).toMatchObject({ planId: plan.id, organizationId: null });
  });
});

describe('validation', () => {
  let organization: Json;
  let otherPlan: Json;
  beforeAll(async () => {
    organization = await createOrganization(ctx.app);
    otherPlan = await createPlan(ctx.app, (await createOrganization(ctx.app)).id);
  });

  const post = (body: Record<string, unknown>) =>
    call(ctx.app, 'POST', SUBS, { url: PUBLIC_URL, eventTypes: TYPES, ...body });

  it.each([
    [
      'an unknown event type',
      { eventTypes: ['kz.nysana.measurement.created', 'kz.nysana.nothing'] },
      'body.eventTypes.1',
    ],
    ['no event type', { eventTypes: [] }, 'body.eventTypes'],
    ['a repeated event type', { eventTypes: [TYPES[0], TYPES[0]] }, 'body.eventTypes'],
    ['event types that are not a list', { eventTypes: 'kz.nysana.year.approved' }, 'body.eventTypes'],
    ['a URL of 2001 characters', { url: `https://93.184.215.14/${'a'.repeat(2001 - 22)}` }, 'body.url'],
    ['no URL', { url: undefined }, 'body.url'],
    ['an unknown field', { secret: 'whsec_mine' }, 'body'],
    ['an organization id that is no UUID', { organizationId: 'ORG-1' }, 'body.organizationId'],
  ])('refuses %s (400, nothing stored)', async (_what, body, path) => {
    const before = (await db().select().from(webhookSubscriptions)).length;
    const res = await post(body);
    expectProblem(res, 400);
    expect(errorPaths(res).some((p) => p === path || p.startsWith(`${path}.`) || path === 'body')).toBe(true);
    expect((await db().select().from(webhookSubscriptions)).length).toBe(before);
  });

  it('takes a URL of exactly 2000 characters', async () => {
    const url = `https://93.184.215.14/${'a'.repeat(2000 - 22)}`;
    expect(url).toHaveLength(2000);
    expect((await subscribe({ url })).url).toBe(url);
  });

  it.each([
    // Tabs and newlines vanish in parsing, so the text sent is not where deliveries would go.
    ['a newline and a tab', 'https://93.184.215.14/ho\nok\t', 'https://93.184.215.14/hook'],
    // A right-to-left override would make the URL read differently in any list showing it.
    ['a bidi override', 'https://93.184.215.14/a\u202Egpj.exe', 'https://93.184.215.14/a%E2%80%AEgpj.exe'],
    ['a decimal IPv4 host', 'https://1572394766/hook', 'https://93.184.215.14/hook'],
    ['a hex IPv4 host and a default port', 'https://0x5d.0xb8.0xd7.0x0e:443/hook', 'https://93.184.215.14/hook'],
    ['no path', 'https://93.184.215.14', 'https://93.184.215.14/'],
  ])('stores the URL as parsed, not as sent: %s', async (_what, url, stored) => {
    const created = await subscribe({ url });
    expect(created.url).toBe(stored);
    expect((await rowOf(created.id)).url).toBe(stored);
    const patched = await call(ctx.app, 'PATCH', `${SUBS}/${created.id}`, { url });
    expect(patched.status, patched.raw.body).toBe(200);
    expect(patched.body.url).toBe(stored);
  });

  it('refuses a URL that percent-encoding takes past 2000 characters, storing nothing', async () => {
    const before = (await db().select().from(webhookSubscriptions)).length;
    const url = `https://93.184.215.14/${'\u00e9'.repeat(1000)}`;
    expect(url.length).toBeLessThanOrEqual(2000);
    const res = await post({ url });
    expectProblem(res, 400, ['body.url']);
    expect(res.body.detail).toContain('2000');
    expect((await db().select().from(webhookSubscriptions)).length).toBe(before);
  });

  it.each([
    ['plain http (by default)', 'http://93.184.215.14/hook', 'url must use https'],
    ['a private address', 'https://10.1.2.3/hook', 'non-public address (10.1.2.3)'],
    ['loopback', 'https://127.0.0.1:8443/hook', 'non-public'],
    ['an IPv4-mapped loopback', 'https://[::ffff:127.0.0.1]/hook', 'non-public'],
    ['link-local (cloud metadata)', 'https://169.254.169.254/latest', 'non-public'],
    ['credentials in the URL', 'https://user:pw@93.184.215.14/hook', 'credentials'],
    ['a relative URL', '/hook', 'absolute'],
  ])('refuses %s with the reason as detail', async (_what, url, reason) => {
    const res = await post({ url });
    expectProblem(res, 400, ['body.url']);
    expect(res.body.detail).toContain(reason);
  });

  it('refuses unknown organizations and plans, and a plan of another organization', async () => {
    expectProblem(await post({ organizationId: randomUUID() }), 400, ['body.organizationId']);
    expectProblem(await post({ planId: randomUUID() }), 400, ['body.planId']);
    const res = await post({ organizationId: organization.id, planId: otherPlan.id });
    expectProblem(res, 400, ['body.planId']);
    expect(res.body.detail).toMatch(/another organization/);
  });
});

describe('who may manage which subscription', () => {
  let clientA: Awaited<ReturnType<typeof newClient>>;
  let clientB: Awaited<ReturnType<typeof newClient>>;
  let adminSub: Json;
  let subA: Json;
  beforeAll(async () => {
    clientA = await newClient();
    clientB = await newClient();
    adminSub = await subscribe();
    subA = await subscribe({ description: 'A' }, clientA.headers);
  });

  it("a client's subscription is its own; it lists and reads only its own", async () => {
    expect(subA).toMatchObject({ clientId: clientA.id, createdBy: { kind: 'client', id: clientA.id } });
    expect((await rowOf(subA.id)).clientId).toBe(clientA.id);
    const listed = expectStatus(await call(ctx.app, 'GET', SUBS, undefined, clientA.headers), 200);
    expect(listed.items.map((s: Json) => s.id)).toEqual([subA.id]);
    expect(expectStatus(await call(ctx.app, 'GET', SUBS, undefined, clientB.headers), 200).items).toEqual([]);
    expect((await call(ctx.app, 'GET', `${SUBS}/${subA.id}`, undefined, clientA.headers)).status).toBe(200);
    // The admin sees every subscription, the client's included.
    const all = expectStatus(await call(ctx.app, 'GET', `${SUBS}?limit=500`), 200);
    expect(all.items.map((s: Json) => s.id)).toEqual(expect.arrayContaining([subA.id, adminSub.id]));
    expect(expectStatus(await call(ctx.app, 'GET', `${SUBS}/${subA.id}`), 200).clientId).toBe(clientA.id);
  });

  it("another client's (or an admin's) subscription answers 404 to every route, and nothing changes", async () => {
    for (const id of [subA.id, adminSub.id]) {
      const h = id === subA.id ? clientB.headers : clientA.headers;
      expectProblem(await call(ctx.app, 'GET', `${SUBS}/${id}`, undefined, h), 404);
      expectProblem(await call(ctx.app, 'PATCH', `${SUBS}/${id}`, { enabled: false }, h), 404);
      expectProblem(await call(ctx.app, 'POST', `${SUBS}/${id}/rotate-secret`, undefined, h), 404);
      expectProblem(await call(ctx.app, 'GET', `${SUBS}/${id}/deliveries`, undefined, h), 404);
      expectProblem(await call(ctx.app, 'GET', `${SUBS}/${id}/attempts`, undefined, h), 404);
      expectProblem(await call(ctx.app, 'POST', `${SUBS}/${id}/redeliver`, { since: '2020-01-01T00:00:00Z' }, h), 404);
      expectProblem(await call(ctx.app, 'POST', `${SUBS}/${id}/test`, {}, h), 404);
      expectProblem(await call(ctx.app, 'DELETE', `${SUBS}/${id}`, undefined, h), 404);
    }
    expect((await rowOf(subA.id)).version).toBe(1);
    expect((await rowOf(adminSub.id)).version).toBe(1);
    const events = await db().select().from(webhookEvents).where(eq(webhookEvents.type, TEST_EVENT_TYPE));
    expect(events.filter((e) => [subA.id, adminSub.id].includes(e.data.subscriptionId as string))).toEqual([]);
  });

  it('a client manages its own: patch, rotate, test, delete', async () => {
    const own = await subscribe({}, clientA.headers);
    const url = `${SUBS}/${own.id}`;
    expect(expectStatus(await call(ctx.app, 'PATCH', url, { description: 'mine' }, clientA.headers), 200).version).toBe(
      2,
    );
    expect(
      expectStatus(await call(ctx.app, 'POST', `${url}/rotate-secret`, undefined, clientA.headers), 200).secret,
    ).toMatch(SECRET);
    expect((await call(ctx.app, 'POST', `${url}/test`, {}, clientA.headers)).status).toBe(202);
    expect((await call(ctx.app, 'DELETE', url, undefined, clientA.headers)).status).toBe(204);
    expectProblem(await call(ctx.app, 'GET', url, undefined, clientA.headers), 404);
  });

  it.each(['editor', 'viewer'] as const)(
    'a user of role %s gets 403 on every route, before its body is read',
    async (role) => {
      const organization = await createOrganization(ctx.app);
      const h = bearer(await tokenFor(ctx, { role, organizationId: role === 'editor' ? organization.id : null }));
      const id = adminSub.id;
      expectProblem(await call(ctx.app, 'GET', SUBS, undefined, h), 403);
      expectProblem(await call(ctx.app, 'POST', SUBS, { url: PUBLIC_URL, eventTypes: TYPES }, h), 403);
      expectProblem(await call(ctx.app, 'POST', SUBS, { nonsense: true }, h), 403);
      expectProblem(await call(ctx.app, 'GET', `${SUBS}/${id}`, undefined, h), 403);
      expectProblem(await call(ctx.app, 'PATCH', `${SUBS}/${id}`, { enabled: false }, h), 403);
      expectProblem(await call(ctx.app, 'DELETE', `${SUBS}/${id}`, undefined, h), 403);
      expectProblem(await call(ctx.app, 'POST', `${SUBS}/${id}/rotate-secret`, undefined, h), 403);
      expectProblem(await call(ctx.app, 'GET', `${SUBS}/${id}/deliveries`, undefined, h), 403);
      expectProblem(await call(ctx.app, 'GET', `${SUBS}/${id}/attempts`, undefined, h), 403);
      expectProblem(await call(ctx.app, 'POST', `${SUBS}/${id}/redeliver`, { since: '2020-01-01T00:00:00Z' }, h), 403);
      expectProblem(await call(ctx.app, 'POST', `${SUBS}/${id}/test`, {}, h), 403);
      expect((await rowOf(id)).version).toBe(1);
    },
  );

  it('no token answers 401', async () => {
    expectProblem(await call(ctx.app, 'GET', SUBS, undefined, { authorization: '' }), 401);
  });

  it('an unknown id answers 404 to the admin too', async () => {
    expectProblem(await call(ctx.app, 'GET', `${SUBS}/${randomUUID()}`), 404);
    expectProblem(await call(ctx.app, 'GET', `${SUBS}/${randomUUID()}/deliveries`), 404);
    expectProblem(await call(ctx.app, 'GET', `${SUBS}/not-a-uuid`), 400);
  });
});

describe('changing: merge patch, If-Match, enable, delete', () => {
  it('patches fields, clears a filter with null, and audits before and after', async () => {
    const organization = await createOrganization(ctx.app);
    const created = await subscribe({ organizationId: organization.id, description: 'x' });
    const res = await call(
      ctx.app,
      'PATCH',
      `${SUBS}/${created.id}`,
      { eventTypes: ['kz.nysana.report.signatory_changed'], organizationId: null, description: null },
      { 'content-type': 'application/merge-patch+json', 'if-match': '"1"' },
    );
    expect(res.status, res.raw.body).toBe(200);
    expect(res.body).toMatchObject({
      eventTypes: ['kz.nysana.report.signatory_changed'],
      organizationId: null,
      description: null,
      url: PUBLIC_URL,
      version: 2,
    });
    expect(res.headers.etag).toBe('"2"');
    const audit = await db()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.entityId, created.id), eq(auditLog.action, 'update')));
    expect(audit).toHaveLength(1);
    expect(audit[0]!.before).toMatchObject({ version: 1, organizationId: organization.id });
    expect(audit[0]!.after).toMatchObject({ version: 2, organizationId: null });
  });

  it('refuses a stale or malformed If-Match (412), an empty patch and a refused URL (400), changing nothing', async () => {
    const created = await subscribe();
    const url = `${SUBS}/${created.id}`;
    expectProblem(await call(ctx.app, 'PATCH', url, { enabled: false }, { 'if-match': '"7"' }), 412);
    expectProblem(await call(ctx.app, 'PATCH', url, { enabled: false }, { 'if-match': 'not-a-version' }), 412);
    expectProblem(await call(ctx.app, 'DELETE', url, undefined, { 'if-match': '"2"' }), 412);
    expectProblem(await call(ctx.app, 'DELETE', url, undefined, { 'if-match': 'W/' }), 412);
    expectProblem(await call(ctx.app, 'POST', `${url}/rotate-secret`, undefined, { 'if-match': '"3"' }), 412);
    expectProblem(await call(ctx.app, 'PATCH', url, {}), 400);
    expectProblem(await call(ctx.app, 'PATCH', url, { url: 'https://192.168.1.10/x' }), 400, ['body.url']);
    expectProblem(await call(ctx.app, 'PATCH', url, { eventTypes: [] }), 400);
    expectProblem(await call(ctx.app, 'PATCH', url, { planId: randomUUID() }), 400, ['body.planId']);
    const row = await rowOf(created.id);
    expect(row).toMatchObject({ version: 1, enabled: true, url: PUBLIC_URL });
    // The current version passes.
    expect((await call(ctx.app, 'PATCH', url, { enabled: false }, { 'if-match': '"1"' })).status).toBe(200);
  });

  it('checks a patched plan against the stored organization filter', async () => {
    const organization = await createOrganization(ctx.app);
    const otherPlan = await createPlan(ctx.app, (await createOrganization(ctx.app)).id);
    const created = await subscribe({ organizationId: organization.id });
    expectProblem(await call(ctx.app, 'PATCH', `${SUBS}/${created.id}`, { planId: otherPlan.id }), 400, [
      'body.planId',
    ]);
  });

  it('disabling records when and why; enabling clears the reason, time and failure count', async () => {
    const created = await subscribe();
    const url = `${SUBS}/${created.id}`;
    const disabled = expectStatus(await call(ctx.app, 'PATCH', url, { enabled: false }), 200);
    expect(disabled).toMatchObject({
      enabled: false,
      disabledReason: expect.any(String),
      disabledAt: expect.any(String),
    });
    // As the dispatcher leaves one it gave up on.
    await db()
      .update(webhookSubscriptions)
      .set({ disabledReason: 'retries exhausted: HTTP 500', consecutiveFailures: 12 })
      .where(eq(webhookSubscriptions.id, created.id));
    const enabled = expectStatus(await call(ctx.app, 'PATCH', url, { enabled: true }), 200);
    expect(enabled).toMatchObject({ enabled: true, disabledReason: null, disabledAt: null, consecutiveFailures: 0 });
    // Another change leaves the failure count alone.
    await db()
      .update(webhookSubscriptions)
      .set({ consecutiveFailures: 3 })
      .where(eq(webhookSubscriptions.id, created.id));
    expect(expectStatus(await call(ctx.app, 'PATCH', url, { description: 'd' }), 200).consecutiveFailures).toBe(3);
  });

  it('deletes with its deliveries, audited without the secret', async () => {
    const created = await subscribe();
    await call(ctx.app, 'POST', `${SUBS}/${created.id}/test`, {});
    const res = await call(ctx.app, 'DELETE', `${SUBS}/${created.id}`, undefined, { 'if-match': '"1"' });
    expect(res.status).toBe(204);
    expect(await db().select().from(webhookSubscriptions).where(eq(webhookSubscriptions.id, created.id))).toEqual([]);
    expect(await db().select().from(webhookDeliveries).where(eq(webhookDeliveries.subscriptionId, created.id))).toEqual(
      [],
    );
    const [audit] = await db()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.entityId, created.id), eq(auditLog.action, 'delete')));
    expect(audit).toMatchObject({ entityType: 'webhookSubscription', after: null });
    expect(JSON.stringify(audit)).not.toContain(created.secret.slice(6));
  });
});

describe('rotating the secret', () => {
  it('shows the new secret once; the old one signs beside it until previousSecretExpiresAt, then only the new one', async () => {
    const created = await subscribe();
    const before = Date.now();
    const res = await call(ctx.app, 'POST', `${SUBS}/${created.id}/rotate-secret`, undefined, { 'if-match': '"1"' });
    expect(res.status, res.raw.body).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers.etag).toBe('"2"');
    const rotated = res.body;
    expect(rotated.secret).toMatch(SECRET);
    expect(rotated.secret).not.toBe(created.secret);
    const hours = (Date.parse(rotated.previousSecretExpiresAt) - before) / 3_600_000;
    expect(hours).toBeGreaterThan(23.99);
    expect(hours).toBeLessThan(24.01);

    const row = await rowOf(created.id);
    expect(openSecret(row.secret, ENCRYPTION)).toBe(rotated.secret);
    expect(openSecret(row.previousSecret!, ENCRYPTION)).toBe(created.secret);
    const both = signingKeys(row, new Date(), ENCRYPTION);
    expect(both).toEqual([keyOf(rotated.secret), keyOf(created.secret)]);
    const later = signingKeys(row, new Date(row.previousSecretExpiresAt!.getTime() + 1), ENCRYPTION);
    expect(later).toEqual([keyOf(rotated.secret)]);

    const shown = await call(ctx.app, 'GET', `${SUBS}/${created.id}`);
    expect(shown.body).not.toHaveProperty('secret');
    expect(shown.raw.body).not.toContain(rotated.secret.slice(6));
    const audit = await db().select().from(auditLog).where(eq(auditLog.entityId, created.id));
    expect(audit.map((a) => a.action)).toEqual(['create', 'update']);
    expect(JSON.stringify(audit)).not.toContain(rotated.secret.slice(6));
    expect(JSON.stringify(audit)).not.toContain(created.secret.slice(6));
  });
});

describe('the delivery log, redelivery and the test event', () => {
  let sub: Json;
  let other: Json;
  const events: string[] = [];
  let deliveryIds: number[] = [];

  /** Events as the relay would write them, each delivered (or not) as the dispatcher would leave it. */
  beforeAll(async () => {
    sub = await subscribe();
    other = await subscribe();
    for (const [i, time] of ['2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z', '2026-03-01T00:00:00Z'].entries()) {
      const [event] = await db()
        .insert(webhookEvents)
        .values({
          type: TYPES[i % 2]!,
          source: '/api/v1',
          subject: `/api/v1/things/${i}`,
          time: new Date(time),
          data: { i },
        })
        .returning();
      events.push(event!.id);
    }
    const rows = await db()
      .insert(webhookDeliveries)
      .values([
        { subscriptionId: sub.id, eventId: events[0]!, status: 'succeeded', attempts: 1, completedAt: new Date() },
        {
          subscriptionId: sub.id,
          eventId: events[1]!,
          status: 'failed',
          attempts: 9,
          lastStatusCode: 500,
          lastError: 'HTTP 500',
        },
        // The third event went only to the other subscription.
        { subscriptionId: other.id, eventId: events[2]!, status: 'succeeded', attempts: 1 },
      ])
      .returning();
    deliveryIds = rows.map((r) => r.id);
    await db()
      .insert(webhookAttempts)
      .values([
        {
          deliveryId: deliveryIds[0]!,
          subscriptionId: sub.id,
          eventId: events[0]!,
          statusCode: 200,
          durationMs: 12,
          responsePrefix: 'ok',
        },
        {
          deliveryId: deliveryIds[1]!,
          subscriptionId: sub.id,
          eventId: events[1]!,
          statusCode: 500,
          durationMs: 30,
          error: 'HTTP 500',
        },
        {
          deliveryId: deliveryIds[1]!,
          subscriptionId: sub.id,
          eventId: events[1]!,
          statusCode: null,
          durationMs: 5000,
          error: 'timeout',
        },
      ]);
  });

  it('lists deliveries newest first, with the event type, filtered by status or event, paged', async () => {
    const all = expectStatus(await call(ctx.app, 'GET', `${SUBS}/${sub.id}/deliveries?count=true`), 200);
    expect(all.total).toBe(2);
    expect(all.items.map((d: Json) => d.id)).toEqual([deliveryIds[1], deliveryIds[0]]);
    expect(all.items[0]).toEqual({
      id: deliveryIds[1],
      eventId: events[1],
      eventType: TYPES[1],
      status: 'failed',
      attempts: 9,
      nextAttemptAt: null,
      lastStatusCode: 500,
      lastError: 'HTTP 500',
      createdAt: expect.any(String),
      completedAt: null,
    });
    const failed = expectStatus(await call(ctx.app, 'GET', `${SUBS}/${sub.id}/deliveries?status=failed`), 200);
    expect(failed.items.map((d: Json) => d.eventId)).toEqual([events[1]]);
    const byEvent = expectStatus(await call(ctx.app, 'GET', `${SUBS}/${sub.id}/deliveries?eventId=${events[0]}`), 200);
    expect(byEvent.items.map((d: Json) => d.id)).toEqual([deliveryIds[0]]);
    const first = expectStatus(await call(ctx.app, 'GET', `${SUBS}/${sub.id}/deliveries?limit=1`), 200);
    expect(first.items.map((d: Json) => d.id)).toEqual([deliveryIds[1]]);
    const second = expectStatus(
      await call(ctx.app, 'GET', `${SUBS}/${sub.id}/deliveries?limit=1&cursor=${encodeURIComponent(first.nextCursor)}`),
      200,
    );
    expect(second.items.map((d: Json) => d.id)).toEqual([deliveryIds[0]]);
    expect(second.nextCursor).toBeNull();
    expectProblem(await call(ctx.app, 'GET', `${SUBS}/${sub.id}/deliveries?status=lost`), 400);
    expectProblem(await call(ctx.app, 'GET', `${SUBS}/${sub.id}/deliveries?cursor=garbage`), 400);
  });

  it('lists attempts newest first, filtered by event', async () => {
    const all = expectStatus(await call(ctx.app, 'GET', `${SUBS}/${sub.id}/attempts`), 200);
    expect(all.items.map((a: Json) => a.error)).toEqual(['timeout', 'HTTP 500', null]);
    expect(all.items[0]).toEqual({
      id: expect.any(Number),
      deliveryId: deliveryIds[1],
      eventId: events[1],
      attemptedAt: expect.any(String),
      statusCode: null,
      durationMs: 5000,
      error: 'timeout',
      responsePrefix: null,
    });
    const byEvent = expectStatus(await call(ctx.app, 'GET', `${SUBS}/${sub.id}/attempts?eventId=${events[0]}`), 200);
    expect(byEvent.items.map((a: Json) => a.responsePrefix)).toEqual(['ok']);
    expect(expectStatus(await call(ctx.app, 'GET', `${SUBS}/${other.id}/attempts`), 200).items).toEqual([]);
  });

  const pendingOf = async (subscriptionId: string) =>
    (
      await db()
        .select()
        .from(webhookDeliveries)
        .where(and(eq(webhookDeliveries.subscriptionId, subscriptionId), eq(webhookDeliveries.status, 'pending')))
        .orderBy(webhookDeliveries.id)
    ).map((d) => d.eventId);

  it('redelivers one event it had: one new pending delivery; an event it never had is 404', async () => {
    const res = await call(ctx.app, 'POST', `${SUBS}/${sub.id}/redeliver`, { eventId: events[1] });
    expect(res.status, res.raw.body).toBe(202);
    expect(res.body).toEqual({ count: 1 });
    expect(await pendingOf(sub.id)).toEqual([events[1]]);
    expectProblem(await call(ctx.app, 'POST', `${SUBS}/${sub.id}/redeliver`, { eventId: events[2] }), 404);
    expectProblem(await call(ctx.app, 'POST', `${SUBS}/${sub.id}/redeliver`, { eventId: randomUUID() }), 404);
    expect(await pendingOf(sub.id)).toEqual([events[1]]);
    expect(await pendingOf(other.id)).toEqual([]);
  });

  it('redelivers every event it had since an instant, in commit order, except one still pending', async () => {
    // events[1] is pending again (the test before): it goes out anyway, and is not queued a second time.
    const res = await call(ctx.app, 'POST', `${SUBS}/${sub.id}/redeliver`, { since: '2025-12-31T00:00:00Z' });
    expect(res.body).toEqual({ count: 1 });
    expect(await pendingOf(sub.id)).toEqual([events[1], events[0]]);
    const later = await call(ctx.app, 'POST', `${SUBS}/${sub.id}/redeliver`, { since: '2026-01-15T00:00:00+05:00' });
    expect(later.body).toEqual({ count: 0 });
    // Asking again queues nothing more: the queue cannot be grown by repeating the call.
    const again = await call(ctx.app, 'POST', `${SUBS}/${sub.id}/redeliver`, { since: '2025-12-31T00:00:00Z' });
    expect(again.body).toEqual({ count: 0 });
    const one = await call(ctx.app, 'POST', `${SUBS}/${sub.id}/redeliver`, { eventId: events[0] });
    expect(one.status).toBe(202);
    expect(one.body).toEqual({ count: 0 });
    expect(await pendingOf(sub.id)).toEqual([events[1], events[0]]);
    expect(
      (await call(ctx.app, 'POST', `${SUBS}/${sub.id}/redeliver`, { since: '2030-01-01T00:00:00Z' })).body,
    ).toEqual({
      count: 0,
    });
    expect(await pendingOf(other.id)).toEqual([]);
  });

  it.each([
    ['neither field', {}],
    ['both fields', { eventId: randomUUID(), since: '2026-01-01T00:00:00Z' }],
    ['a date without time', { since: '2026-01-01' }],
    ['an instant without offset', { since: '2026-01-01T00:00:00' }],
    ['an event id that is no UUID', { eventId: 'e-1' }],
  ])('refuses a redelivery with %s (400, nothing queued)', async (_what, body) => {
    const before = (await pendingOf(sub.id)).length;
    expectProblem(await call(ctx.app, 'POST', `${SUBS}/${sub.id}/redeliver`, body), 400);
    expect((await pendingOf(sub.id)).length).toBe(before);
  });

  it('a test event: one webhook_events row of the test type and one pending delivery, for this subscription only', async () => {
    const res = await call(ctx.app, 'POST', `${SUBS}/${other.id}/test`, { message: 'hello' });
    expect(res.status, res.raw.body).toBe(202);
    expect(res.body).toEqual({ eventId: expect.any(String), deliveryId: expect.any(Number) });
    const [event] = await db().select().from(webhookEvents).where(eq(webhookEvents.id, res.body.eventId));
    expect(event).toMatchObject({
      type: TEST_EVENT_TYPE,
      source: '/api/v1',
      subject: `/api/v1/webhooks/subscriptions/${other.id}`,
      organizationId: null,
      planId: null,
      auditId: null,
      data: { subscriptionId: other.id, message: 'hello' },
    });
    // What the OpenAPI document's `webhooks` section publishes for the test type.
    expect(CLOUD_EVENTS[TEST_EVENT_TYPE]!.schema.safeParse(toCloudEvent(event!)).success).toBe(true);
    const deliveries = await db().select().from(webhookDeliveries).where(eq(webhookDeliveries.eventId, event!.id));
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({
      id: res.body.deliveryId,
      subscriptionId: other.id,
      status: 'pending',
      attempts: 0,
    });
    // Without a body: a default message.
    const bare = await call(ctx.app, 'POST', `${SUBS}/${other.id}/test`);
    expect(bare.status, bare.raw.body).toBe(202);
    const [plain] = await db().select().from(webhookEvents).where(eq(webhookEvents.id, bare.body.eventId));
    expect(plain!.data).toMatchObject({ subscriptionId: other.id, message: expect.any(String) });
    expectProblem(await call(ctx.app, 'POST', `${SUBS}/${other.id}/test`, { message: '' }), 400);
    expectProblem(await call(ctx.app, 'POST', `${SUBS}/${other.id}/test`, { extra: 1 }), 400);
  });
});
