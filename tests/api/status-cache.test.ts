/**
 * The status cache on one instance (issue 21): hits and misses, the ETag and 304 of a cached answer,
 * every kind of write evicting what it changes (read-your-writes on the writing instance), failed
 * writes evicting nothing, the byte bound, and CACHE=off. Every cached answer is compared with the
 * answer of an app over the same database with the cache off (a fresh computation).
 */
import { DEFAULT_RULES } from '../../src/achievement/methods.js';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { weakEtagOf } from '../../src/http/conditional.js';
import type { StatusCacheStats } from '../../src/status-cache/cache.js';
import type { Json } from '../helpers/app.js';
import { call, setupApp, testConfig } from '../helpers/app.js';
import type { Tree } from '../helpers/fixtures.js';
import { API, createIndicator, createTree, expectStatus, putMeasurement } from '../helpers/fixtures.js';

const ctx = setupApp();
let fresh: FastifyInstance;
let tree: Tree;

beforeAll(async () => {
  const { db, listen } = ctx.db.database;
  fresh = await buildApp({ db, config: { ...testConfig, CACHE: 'off' }, logger: false, listen });
  await fresh.ready();
  tree = await createTree(ctx.app);
  await putMeasurement(ctx.app, tree.indicator.id, 2015, { plan: 60, fact: 58 });
  await putMeasurement(ctx.app, tree.indicator.id, 2016, { plan: 70, fact: 75 });
});
afterAll(async () => {
  await fresh?.close();
});

const stats = (app: FastifyInstance = ctx.app): StatusCacheStats => app.statusCache!.cache.stats();
const urls = () => [
  `${API}/plans/${tree.plan.id}/status?year=2016`,
  `${API}/indicators/${tree.indicator.id}/status?year=2016`,
  `${API}/indicators/${tree.indicator.id}/status`,
  `${API}/status?year=2016&planId=${tree.plan.id}&limit=5`,
];

/** The answer on the cached app, checked byte for byte against a fresh computation. */
async function readBoth(url: string, headers: Record<string, string> = {}) {
  const cached = await call(ctx.app, 'GET', url, undefined, headers);
  const computed = await call(fresh, 'GET', url, undefined, headers);
  expect(cached.status, url).toBe(computed.status);
  expect(cached.raw.body, url).toBe(computed.raw.body);
  expect(cached.headers.etag, url).toBe(computed.headers.etag);
  return cached;
}

/** Reads every status URL twice, so each is cached (the second read a hit). */
async function prime() {
  for (const url of urls()) await readBoth(url);
  const before = stats().hits;
  for (const url of urls()) await readBoth(url);
  expect(stats().hits - before).toBe(urls().length);
}

describe('hits, misses and conditional GETs', () => {
  it('caches on by default, and the metrics name hits, misses, evictions and bytes', async () => {
    await expect.poll(() => ctx.app.statusCache?.cache.isLive).toBe(true);
    expect(fresh.statusCache).toBeNull();
    await prime();
    const metrics = await ctx.app.inject({ method: 'GET', url: '/metrics' });
    const names = ['status_cache_hits_total', 'status_cache_misses_total', 'status_cache_evictions_total'];
    names.push('status_cache_bytes', 'status_cache_live 1');
    for (const name of names) {
      expect(metrics.body).toContain(name);
    }
    expect(stats().bytes).toBeGreaterThan(0);
  });

  it('sends the stored body with the weak ETag of its bytes, and 304 to If-None-Match naming it (GET and HEAD)', async () => {
    const url = urls()[0]!;
    await readBoth(url);
    const hitsBefore = stats().hits;
    const hit = await readBoth(url);
    expect(stats().hits).toBe(hitsBefore + 1);
    expect(hit.headers.etag).toBe(weakEtagOf(hit.raw.body));
    expect(hit.headers['content-type']).toBe('application/json; charset=utf-8');
    const notModified = await call(ctx.app, 'GET', url, undefined, { 'if-none-match': hit.headers.etag as string });
    expect(notModified.status).toBe(304);
    expect(notModified.raw.body).toBe('');
    const head = await call(ctx.app, 'HEAD', url, undefined, { 'if-none-match': `"x", ${hit.headers.etag as string}` });
    expect(head.status).toBe(304);
    const other = await call(ctx.app, 'GET', url, undefined, { 'if-none-match': 'W/"another"' });
    expect(other.status).toBe(200);
  });

  it('keeps languages apart (?lang and Accept-Language resolve to the same key)', async () => {
    const url = urls()[0]!;
    const ru = await readBoth(`${url}&lang=ru`);
    const viaHeader = await readBoth(url, { 'accept-language': 'ru-RU,ru;q=0.9' });
    const none = await readBoth(url);
    expect(viaHeader.raw.body).toBe(ru.raw.body);
    expect(none.raw.body).not.toBe(ru.raw.body);
  });

  it('caches no error: a 404 and a 400 are computed every time', async () => {
    const before = stats();
    for (let i = 0; i < 2; i++) {
      expect(
        (await call(ctx.app, 'GET', `${API}/plans/00000000-0000-4000-8000-000000000000/status?year=2016`)).status,
      ).toBe(404);
      expect((await call(ctx.app, 'GET', `${API}/plans/${tree.plan.id}/status?year=1990`)).status).toBe(400);
    }
    expect(stats().misses - before.misses).toBe(4);
    expect(stats().hits).toBe(before.hits);
  });

  it('leaves the streamed export, one CSV page and the incremental sync uncached', async () => {
    const before = stats();
    for (const q of ['year=2016&format=csv', 'year=2016&format=csv&limit=5', 'updatedSince=2000-01-01T00:00:00Z']) {
      expect((await call(ctx.app, 'GET', `${API}/status?${q}`)).status).toBe(200);
    }
    expect(stats().hits + stats().misses).toBe(before.hits + before.misses);
  });
});

describe('every kind of write evicts what it changes, before its answer reaches the writer', () => {
  const o = { document: { ru: 'Приказ № 1', en: 'Order No. 1' }, date: '2016-11-22' };
  const ok = async (status: number, response: Promise<Awaited<ReturnType<typeof call>>>) =>
    void expectStatus(await response, status);
  const measurement = (year: number) => `${API}/indicators/${tree.indicator.id}/measurements/${year}`;
  const writes: [string, () => Promise<void>][] = [
    [
      'measurement PUT',
      async () => void (await putMeasurement(ctx.app, tree.indicator.id, 2016, { plan: 70, fact: 64 })),
    ],
    ['measurement PATCH', () => ok(200, call(ctx.app, 'PATCH', measurement(2016), { fact: 71 }))],
    ['previous year measurement DELETE', () => ok(204, call(ctx.app, 'DELETE', measurement(2015)))],
    [
      'indicator PATCH',
      () => ok(200, call(ctx.app, 'PATCH', `${API}/indicators/${tree.indicator.id}`, { betterWhen: 'lower' })),
    ],
    ['indicator added', async () => void (await createIndicator(ctx.app, tree.goal.id))],
    [
      'goal PATCH',
      () => ok(200, call(ctx.app, 'PATCH', `${API}/goals/${tree.goal.id}`, { title: { en: 'Goal renamed' } })),
    ],
    [
      'direction PATCH',
      () => ok(200, call(ctx.app, 'PATCH', `${API}/directions/${tree.direction.id}`, { title: { en: 'Renamed' } })),
    ],
    [
      'plan PATCH',
      () => ok(200, call(ctx.app, 'PATCH', `${API}/plans/${tree.plan.id}`, { title: { en: 'Plan renamed' } })),
    ],
    ['year approval', () => ok(201, call(ctx.app, 'POST', `${API}/plans/${tree.plan.id}/years/2016/approve`, o))],
    [
      'year reopened',
      () =>
        ok(200, call(ctx.app, 'POST', `${API}/plans/${tree.plan.id}/years/2016/reopen`, { reason: 'A correction' })),
    ],
    [
      'organization renamed',
      () => ok(200, call(ctx.app, 'PATCH', `${API}/organizations/${tree.organization.id}`, { name: { en: 'X' } })),
    ],
    // Creating a method changes no plan (no notification); naming it on the plan does.
    [
      'plan switched to an evaluation method',
      async () => {
        const method = expectStatus(
          await call(ctx.app, 'POST', `${API}/evaluation-methods`, {
            code: 'CACHE-M',
            name: { en: 'M' },
            rules: DEFAULT_RULES,
          }),
          201,
        );
        methodId = method.id;
        await ok(200, call(ctx.app, 'PATCH', `${API}/plans/${tree.plan.id}`, { evaluationMethodId: methodId }));
      },
    ],
    [
      'its evaluation method edited (migration 0016)',
      () =>
        ok(
          200,
          call(ctx.app, 'PATCH', `${API}/evaluation-methods/${methodId}`, { rules: { ...DEFAULT_RULES, cap: 1 } }),
        ),
    ],
  ];
  let methodId = '';
  for (const [name, write] of writes) {
    it(`${name}: the plan's answers and the feed pages are evicted, and the next reads equal a fresh computation`, async () => {
      await prime();
      const before = stats();
      await write();
      const after = stats();
      expect(after.notifications - before.notifications, 'one notification: one plan, one transaction').toBe(1);
      // Every answer prime() cached was about this plan or a feed page.
      expect(after.entries).toBeLessThanOrEqual(before.entries - urls().length);
      for (const url of urls()) await readBoth(url);
      expect(stats().misses - after.misses).toBe(urls().length);
    });
  }

  it("a write to another plan evicts the feed pages but keeps this plan's answers", async () => {
    const other = await createTree(ctx.app, { organizationId: tree.organization.id });
    await prime();
    const before = stats();
    await putMeasurement(ctx.app, other.indicator.id, 2016, { plan: 1, fact: 2 });
    expect(stats().entries).toBe(before.entries - 1); // the feed page
    for (const url of urls()) await readBoth(url);
    expect(stats().hits - before.hits).toBe(urls().length - 1);
  });

  it('a refused write (409, 422, 404) notifies nothing and evicts nothing', async () => {
    await prime();
    const before = stats();
    expect(
      (await call(ctx.app, 'PATCH', `${API}/plans/${tree.plan.id}`, { startYear: 2030 })).status,
    ).toBeGreaterThanOrEqual(400);
    expect(
      (await call(ctx.app, 'PUT', `${API}/indicators/${tree.indicator.id}/measurements/2016`, { plan: 'x' })).status,
    ).toBe(400);
    expect(
      (await call(ctx.app, 'PATCH', `${API}/goals/00000000-0000-4000-8000-000000000000`, { title: { en: 'x' } }))
        .status,
    ).toBe(404);
    expect(stats()).toMatchObject({ entries: before.entries, notifications: before.notifications });
  });

  it('deleting the plan (cascade) evicts it: the next read is a 404, not the cached answer', async () => {
    const doomed = await createTree(ctx.app);
    const url = `${API}/plans/${doomed.plan.id}/status?year=2016`;
    expectStatus(await call(ctx.app, 'GET', url), 200);
    expectStatus(await call(ctx.app, 'GET', url), 200);
    expectStatus(await call(ctx.app, 'DELETE', `${API}/plans/${doomed.plan.id}?cascade=true`), 204);
    expect((await call(ctx.app, 'GET', url)).status).toBe(404);
    expect((await call(ctx.app, 'GET', `${API}/indicators/${doomed.indicator.id}/status`)).status).toBe(404);
  });
});

describe('bounds and switches', () => {
  it('stays within STATUS_CACHE_MAX_BYTES, evicting the least recently used', async () => {
    const { db, listen } = ctx.db.database;
    const small = await buildApp({
      db,
      config: { ...testConfig, STATUS_CACHE_MAX_BYTES: 12_000 },
      logger: false,
      listen,
    });
    try {
      await small.ready();
      await expect.poll(() => small.statusCache?.cache.isLive).toBe(true);
      const years = [2014, 2015, 2016, 2017, 2018];
      for (const year of years)
        expectStatus(await call(small, 'GET', `${API}/plans/${tree.plan.id}/status?year=${year}`), 200);
      const s: StatusCacheStats = small.statusCache!.cache.stats();
      expect(s.bytes).toBeLessThanOrEqual(12_000);
      expect(s.evictions).toBeGreaterThan(0);
      expect(s.entries).toBe(years.length - s.evictions);
      // The most recent one is still there.
      expectStatus(await call(small, 'GET', `${API}/plans/${tree.plan.id}/status?year=2018`), 200);
      expect(small.statusCache!.cache.stats().hits).toBe(1);
    } finally {
      await small.close();
    }
  });

  it('CACHE=off answers the same bytes with no cache at all', async () => {
    const json: Json = expectStatus(await call(fresh, 'GET', urls()[0]!), 200);
    expect(json.planId).toBe(tree.plan.id);
    expect((await fresh.inject({ method: 'GET', url: '/metrics' })).body).not.toContain('status_cache_hits_total');
  });
});
