/**
 * Totals and links on every list (issue 15 item 4): ?count=true or `Prefer: count=exact` answers
 * `total` (X-Total-Count on files), counted with the list's own filter; every page with a next one
 * carries `Link: <...>; rel="next"`, JSON as files do.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, call, createTestUser, setupApp } from '../helpers/app.js';
import type { Json } from '../helpers/app.js';
import {
  API,
  createDirection,
  createOrganization,
  createPlan,
  createTree,
  expectProblem,
  expectStatus,
  putMeasurement,
  unknownId,
} from '../helpers/fixtures.js';
import type { Tree } from '../helpers/fixtures.js';

const ctx = setupApp();

const cursorOf = (values: unknown) => Buffer.from(JSON.stringify(values)).toString('base64url');

/** The target of a `Link: <target>; rel="next"` header, or undefined without one. */
function nextLink(headers: Record<string, unknown>): string | undefined {
  const link = headers.link;
  if (link === undefined) return undefined;
  const match = /^<([^>]+)>; rel="next"$/.exec(String(link));
  expect(match, String(link)).not.toBeNull();
  return match![1];
}

async function get(url: string, headers: Record<string, string> = {}) {
  return call(ctx.app, 'GET', url, undefined, headers);
}

describe('list totals and Link headers', () => {
  let org: Json;
  let other: Json;
  beforeAll(async () => {
    org = await createOrganization(ctx.app);
    other = await createOrganization(ctx.app);
    for (let i = 1; i <= 7; i++) await createPlan(ctx.app, org.id, { code: `T-${i}` });
    // Another organization's plans never count for this one.
    for (let i = 1; i <= 4; i++) await createPlan(ctx.app, other.id, { code: `O-${i}` });
  });

  it('answers total on every page of a filtered list and follows Link to the last page, which has none', async () => {
    const first = await get(`${API}/plans?organizationId=${org.id}&limit=3&count=true`);
    expect(expectStatus(first, 200).total).toBe(7);
    expect(first.body.items).toHaveLength(3);
    let link = nextLink(first.headers);
    expect(link).toBe(`${API}/plans?organizationId=${org.id}&limit=3&count=true&cursor=${first.body.nextCursor}`);
    expect(first.headers['x-next-cursor']).toBe(first.body.nextCursor);
    const seen: string[] = first.body.items.map((p: Json) => p.code);
    let pages = 1;
    while (link) {
      const res = await get(link);
      expect(expectStatus(res, 200).total).toBe(7);
      seen.push(...res.body.items.map((p: Json) => p.code));
      link = nextLink(res.headers);
      if (!link) expect(res.body.nextCursor).toBeNull();
      if (++pages > 5) throw new Error('Link does not end');
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(['T-1', 'T-2', 'T-3', 'T-4', 'T-5', 'T-6', 'T-7']);
  });

  it('answers no total and makes no Preference-Applied without the ask, or with count=false', async () => {
    for (const url of [`${API}/plans?organizationId=${org.id}`, `${API}/plans?organizationId=${org.id}&count=false`]) {
      const res = await get(url, { prefer: url.endsWith('false') ? 'count=exact' : 'return=minimal' });
      expect(expectStatus(res, 200)).not.toHaveProperty('total');
      expect(res.headers['preference-applied']).toBeUndefined();
      expect(res.headers['x-total-count']).toBeUndefined();
      // Everything fits one page: no next link.
      expect(res.headers.link).toBeUndefined();
    }
  });

  it('takes Prefer: count=exact as PostgREST does, among other preferences too', async () => {
    for (const prefer of ['count=exact', 'return=minimal, count=exact', 'COUNT = exact; x=y']) {
      const res = await get(`${API}/plans?organizationId=${other.id}`, { prefer });
      expect(expectStatus(res, 200).total, prefer).toBe(4);
      expect(res.headers['preference-applied']).toBe('count=exact');
      // Shared caches key the answer on Prefer too.
      expect(String(res.headers.vary)).toMatch(/\bPrefer\b/);
    }
    const planned = await get(`${API}/plans?organizationId=${other.id}`, { prefer: 'count=planned' });
    expect(expectStatus(planned, 200)).not.toHaveProperty('total');
  });

  it('counts 0 for an empty list, and for a page past the last row', async () => {
    const empty = await createOrganization(ctx.app);
    const res = await get(`${API}/plans?organizationId=${empty.id}&count=true`);
    expect(expectStatus(res, 200)).toEqual({ items: [], nextCursor: null, total: 0 });
    expect(res.headers.link).toBeUndefined();
    // A cursor after the last code: no rows, the total of the filter all the same.
    const afterLast = cursorOf(['ZZZ', 'ffffffff-ffff-4fff-bfff-ffffffffffff']);
    const past = await get(`${API}/plans?organizationId=${org.id}&count=true&cursor=${afterLast}`);
    expect(expectStatus(past, 200)).toMatchObject({ items: [], nextCursor: null, total: 7 });
  });

  it('refuses a count that is not true or false (400 naming query.count), changing nothing', async () => {
    for (const value of ['yes', '1', 'TRUE', '', 'true,false']) {
      expectProblem(await get(`${API}/plans?count=${encodeURIComponent(value)}`), 400, ['query.count']);
    }
    expectProblem(await get(`${API}/plans?count=true&count=false`), 400, ['query.count']);
  });

  it('counts with the filter and under the parent, and 404s an unknown parent even when counting', async () => {
    const plan = await createPlan(ctx.app, (await createOrganization(ctx.app)).id);
    for (const code of ['a', 'b', 'c']) await createDirection(ctx.app, plan.id, { code });
    const all = await get(`${API}/plans/${plan.id}/directions?count=true&limit=1`);
    expect(expectStatus(all, 200).total).toBe(3);
    expect(nextLink(all.headers)).toContain(`/plans/${plan.id}/directions?count=true&limit=1&cursor=`);
    expect(expectStatus(await get(`${API}/plans/${plan.id}/directions?code=b&count=true`), 200).total).toBe(1);
    expect(expectStatus(await get(`${API}/plans/${plan.id}/directions?code=zz&count=true`), 200).total).toBe(0);
    expectProblem(await get(`${API}/plans/${unknownId()}/directions?count=true`), 404);
  });

  it('answers X-Total-Count and Link on CSV and XLSX files', async () => {
    const csv = await get(`${API}/plans?organizationId=${org.id}&format=csv&count=true`);
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['x-total-count']).toBe('7');
    expect(csv.headers.link).toBeUndefined();
    const paged = await get(`${API}/plans?organizationId=${org.id}&format=csv&limit=2`, { prefer: 'count=exact' });
    expect(paged.status).toBe(200);
    expect(paged.headers['x-total-count']).toBe('7');
    expect(paged.headers['preference-applied']).toBe('count=exact');
    const nextCursor = String(paged.headers['x-next-cursor']);
    expect(nextLink(paged.headers)).toBe(
      `${API}/plans?organizationId=${org.id}&format=csv&limit=2&cursor=${nextCursor}`,
    );
    const xlsx = await get(`${API}/plans?organizationId=${org.id}&format=xlsx&count=true`);
    expect(xlsx.status).toBe(200);
    expect(xlsx.headers['x-total-count']).toBe('7');
    const plain = await get(`${API}/plans?organizationId=${org.id}&format=csv`);
    expect(plain.headers['x-total-count']).toBeUndefined();
  });

  it('refuses a count in incremental sync (400), and a count preference there is simply not applied', async () => {
    const since = '2020-01-01T00:00:00Z';
    expectProblem(await get(`${API}/plans?organizationId=${org.id}&updatedSince=${since}&count=true`), 400, [
      'query.count',
    ]);
    const res = await get(`${API}/plans?organizationId=${org.id}&updatedSince=${since}`, { prefer: 'count=exact' });
    expect(expectStatus(res, 200)).not.toHaveProperty('total');
    expect(res.headers['preference-applied']).toBeUndefined();
    expect(typeof res.body.syncCursor).toBe('string');
  });
});

describe('totals of the other lists', () => {
  let tree: Tree;
  beforeAll(async () => {
    tree = await createTree(ctx.app);
    for (const year of [2014, 2015, 2016, 2017]) {
      await putMeasurement(ctx.app, tree.indicator.id, year, { plan: 10, fact: year === 2015 ? 5 : 12 });
    }
  });

  it("counts an indicator's measurements within a year range, and refuses a cursor that is not a year", async () => {
    const base = `${API}/indicators/${tree.indicator.id}/measurements`;
    expect(expectStatus(await get(`${base}?count=true`), 200).total).toBe(4);
    const ranged = expectStatus(await get(`${base}?count=true&yearFrom=2015&yearTo=2016&limit=1`), 200);
    expect(ranged).toMatchObject({ total: 2, items: [{ year: 2015 }] });
    expectProblem(await get(`${base}?cursor=${cursorOf(['abc'])}`), 400, ['query.cursor']);
    expectProblem(await get(`${API}/indicators/${unknownId()}/measurements?count=true`), 404);
  });

  it('counts the status feed with its filters (derived status included), in JSON and CSV', async () => {
    const base = `${API}/status?planId=${tree.plan.id}`;
    const all = expectStatus(await get(`${base}&count=true&limit=500`), 200);
    expect(all.total).toBe(all.items.length);
    expect(all.total).toBe(4);
    const achieved = await get(`${base}&status=achieved&count=true&limit=1`);
    expect(expectStatus(achieved, 200).total).toBe(3);
    expect(nextLink(achieved.headers)).toContain('status=achieved');
    expect(expectStatus(await get(`${base}&year=2015&count=true`), 200).total).toBe(1);
    const otherOrg = await createOrganization(ctx.app);
    expect(expectStatus(await get(`${API}/status?organizationId=${otherOrg.id}&count=true`), 200).total).toBe(0);
    const csv = await get(`${base}&format=csv&count=true`);
    expect(csv.status).toBe(200);
    expect(csv.headers['x-total-count']).toBe('4');
    expectProblem(await get(`${base}&cursor=${cursorOf(['x', 'y'])}`), 400, ['query.cursor']);
  });

  it('counts the audit trail with its filters and the measurement history', async () => {
    const audit = expectStatus(
      await get(`${API}/audit?entityType=measurement&entityId=${tree.indicator.id}&count=true`),
      200,
    );
    expect(audit.total).toBe(audit.items.length);
    const measurementId = (await get(`${API}/indicators/${tree.indicator.id}/measurements/2014`)).body.id;
    const one = expectStatus(
      await get(`${API}/audit?entityType=measurement&entityId=${measurementId}&count=true&limit=1`),
      200,
    );
    expect(one.total).toBe(1);
    const history = await get(`${API}/indicators/${tree.indicator.id}/measurements/2016/history?count=true`);
    expect(expectStatus(history, 200).total).toBe(1);
  });

  it("counts only the caller's own tokens, and users by role", async () => {
    const owner = await createTestUser(ctx.app, { role: 'viewer' });
    const someone = await createTestUser(ctx.app, { role: 'viewer' });
    for (const name of ['one', 'two'])
      expectStatus(await call(ctx.app, 'POST', `${API}/me/tokens`, { name }, bearer(owner.token)), 201);
    expectStatus(await call(ctx.app, 'POST', `${API}/me/tokens`, { name: 'other' }, bearer(someone.token)), 201);
    const mine = await call(ctx.app, 'GET', `${API}/me/tokens?count=true&limit=1`, undefined, bearer(owner.token));
    expect(expectStatus(mine, 200).total).toBe(2);
    expect(nextLink(mine.headers)).toContain('/me/tokens?count=true&limit=1&cursor=');
    const editors = expectStatus(await get(`${API}/users?role=editor&count=true`), 200);
    expect(editors.total).toBe(0);
    const viewers = expectStatus(await get(`${API}/users?role=viewer&count=true`), 200);
    expect(viewers.total).toBeGreaterThanOrEqual(2);
    expect(viewers.total).toBe(viewers.items.length);
  });

  it('counts the same for an editor of another organization (reads are not scoped), and their filter decides', async () => {
    const editor = await createTestUser(ctx.app, {
      role: 'editor',
      organizationId: (await createOrganization(ctx.app)).id,
    });
    const url = `${API}/plans?organizationId=${tree.organization.id}&count=true`;
    const asEditor = await call(ctx.app, 'GET', url, undefined, bearer(editor.token));
    const asAdmin = await get(url);
    expect(expectStatus(asEditor, 200).total).toBe(1);
    expect(expectStatus(asAdmin, 200).total).toBe(1);
  });
});
