/** Conditional GETs: ETag on every GET, If-None-Match answers 304, and changes change the ETag. */
import { describe, expect, it } from 'vitest';
import { call, setupApp } from '../helpers/app.js';
import { API, createTree, expectStatus, putMeasurement } from '../helpers/fixtures.js';

const ctx = setupApp();

async function expect304(url: string) {
  const first = await call(ctx.app, 'GET', url);
  expect(first.status).toBe(200);
  const etag = first.headers.etag as string;
  if (typeof etag !== 'string') throw new Error(`no ETag on ${url}`);
  expect(etag).toMatch(/^(W\/)?"[^"]+"$/);
  const again = await call(ctx.app, 'GET', url, undefined, { 'if-none-match': etag });
  expect(again.status, url).toBe(304);
  expect(again.raw.body).toBe('');
  expect(again.headers.etag).toBe(etag);
  // Weak comparison: the tag matches with or without W/, and among several.
  const opaque = etag.replace(/^W\//, '');
  expect((await call(ctx.app, 'GET', url, undefined, { 'if-none-match': `"nope", ${opaque}` })).status).toBe(304);
  expect((await call(ctx.app, 'GET', url, undefined, { 'if-none-match': '"nope"' })).status).toBe(200);
  return etag;
}

/**
 * A sync answer's body carries its syncCursor, the server's snapshot xmin, which moves whenever any
 * transaction on the server commits (other test files write to it meanwhile): its ETag must hold while the
 * cursor holds. Asked until the cursor held between two answers (a few tries at most).
 */
async function expect304WhileCursorHolds(url: string) {
  for (let tries = 0; tries < 20; tries++) {
    const first = await call(ctx.app, 'GET', url);
    expect(first.status).toBe(200);
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^(W\/)?"[^"]+"$/);
    const again = await call(ctx.app, 'GET', url, undefined, { 'if-none-match': etag });
    if (again.status === 304) {
      expect(again.headers.etag).toBe(etag);
      return etag;
    }
    expect(again.status, url).toBe(200);
    // A full answer to a matching tag only because the representation changed: the cursor moved.
    expect(again.body.syncCursor, url).not.toBe(first.body.syncCursor);
    expect(again.headers.etag).not.toBe(etag);
  }
  throw new Error(`the sync cursor of ${url} never held between two requests`);
}

describe('conditional GETs', () => {
  it('answers 304 on lists, status and single entities, and a change changes the ETag', async () => {
    const tree = await createTree(ctx.app);
    await putMeasurement(ctx.app, tree.indicator.id, 2016, { plan: 1, fact: 2 });
    const urls = [
      `${API}/organizations`,
      `${API}/plans?organizationId=${tree.organization.id}`,
      `${API}/plans/${tree.plan.id}/directions`,
      `${API}/goals/${tree.goal.id}/indicators`,
      `${API}/indicators/${tree.indicator.id}/measurements`,
      `${API}/status?planId=${tree.plan.id}`,
      `${API}/plans/${tree.plan.id}/status?year=2016`,
      `${API}/indicators/${tree.indicator.id}/status?year=2016`,
      `${API}/plans/${tree.plan.id}`,
      `${API}/indicators/${tree.indicator.id}/measurements/2016`,
    ];
    const before = new Map<string, string>();
    for (const url of urls) before.set(url, await expect304(url));
    await expect304WhileCursorHolds(
      `${API}/plans?updatedSince=${encodeURIComponent('2020-01-01T00:00:00Z')}&organizationId=${tree.organization.id}`,
    );
    expect(before.get(`${API}/plans/${tree.plan.id}`)).toBe('"1"');

    await putMeasurement(ctx.app, tree.indicator.id, 2016, { plan: 1, fact: 3 });
    expectStatus(await call(ctx.app, 'PATCH', `${API}/plans/${tree.plan.id}`, { title: { en: 'New title' } }), 200);
    for (const url of [
      `${API}/plans?organizationId=${tree.organization.id}`,
      `${API}/indicators/${tree.indicator.id}/measurements`,
      `${API}/status?planId=${tree.plan.id}`,
      `${API}/plans/${tree.plan.id}/status?year=2016`,
      `${API}/plans/${tree.plan.id}`,
      `${API}/indicators/${tree.indicator.id}/measurements/2016`,
    ]) {
      const res = await call(ctx.app, 'GET', url, undefined, { 'if-none-match': before.get(url)! });
      expect(res.status, url).toBe(200);
      expect(res.headers.etag).not.toBe(before.get(url));
    }
  });

  it('does not answer 304 to writes or errors', async () => {
    const res = await call(ctx.app, 'GET', `${API}/plans/00000000-0000-4000-8000-000000000000`, undefined, {
      'if-none-match': '*',
    });
    expect(res.status).toBe(404);
    expect(res.body.status).toBe(404);

    // Writes carrying the tag the resource has now (and "*"): each one is done and answered in full.
    const tree = await createTree(ctx.app);
    const url = `${API}/goals/${tree.goal.id}`;
    const current = (await call(ctx.app, 'GET', url)).headers.etag as string;
    const patched = await call(
      ctx.app,
      'PATCH',
      url,
      { title: { en: 'Written anyway' } },
      { 'if-none-match': current },
    );
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ title: { en: 'Written anyway' }, version: 2 });
    const measurement = `${API}/indicators/${tree.indicator.id}/measurements/2016`;
    expect((await call(ctx.app, 'PUT', measurement, { plan: 1 }, { 'if-none-match': '*' })).status).toBe(201);
    const list = `${API}/indicators/${tree.indicator.id}/measurements`;
    const listTag = (await call(ctx.app, 'GET', list)).headers.etag as string;
    const bulk = await call(
      ctx.app,
      'POST',
      `${API}/measurements/bulk`,
      { rows: [{ indicatorId: tree.indicator.id, year: 2017, plan: 2, fact: null }] },
      { 'if-none-match': listTag },
    );
    expect(bulk.status).toBe(200);
    expect(bulk.body).toMatchObject({ created: 1 });
    // A dry run answers the same body twice: it carries no ETag, and "*" does not turn it into a 304.
    const dryRun = { rows: [{ indicatorId: tree.indicator.id, year: 2018, plan: 3, fact: null }] };
    const first = await call(ctx.app, 'POST', `${API}/measurements/bulk?dryRun=true`, dryRun);
    expect(first.headers.etag).toBeUndefined();
    const second = await call(ctx.app, 'POST', `${API}/measurements/bulk?dryRun=true`, dryRun, {
      'if-none-match': '*',
    });
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect((await call(ctx.app, 'GET', `${measurement}`)).body).toMatchObject({ plan: 1 });
    expect((await call(ctx.app, 'GET', url)).body.title).toEqual({ en: 'Written anyway' });
  });

  it('answers 304 to HEAD as to GET, and not to a GET whose tag is another one', async () => {
    const tree = await createTree(ctx.app);
    const url = `${API}/goals/${tree.goal.id}/indicators`;
    const etag = (await call(ctx.app, 'GET', url)).headers.etag as string;
    expect((await call(ctx.app, 'HEAD', url, undefined, { 'if-none-match': etag })).status).toBe(304);
    expect((await call(ctx.app, 'HEAD', url, undefined, { 'if-none-match': 'W/"other"' })).status).toBe(200);
    // Single entities: version tags, weak or strong, alone or in a list.
    const entity = `${API}/goals/${tree.goal.id}`;
    expect((await call(ctx.app, 'GET', entity, undefined, { 'if-none-match': 'W/"1"' })).status).toBe(304);
    expect((await call(ctx.app, 'GET', entity, undefined, { 'if-none-match': '"7", "1"' })).status).toBe(304);
    expect((await call(ctx.app, 'GET', entity, undefined, { 'if-none-match': '*' })).status).toBe(304);
    expect((await call(ctx.app, 'GET', entity, undefined, { 'if-none-match': '"2"' })).status).toBe(200);
    // "*" among other tags, with spaces, matches any current representation; a W/ inside the quotes is part of the tag.
    expect((await call(ctx.app, 'GET', entity, undefined, { 'if-none-match': '"7", *' })).status).toBe(304);
    expect((await call(ctx.app, 'GET', url, undefined, { 'if-none-match': '"7", *' })).status).toBe(304);
    expect((await call(ctx.app, 'GET', entity, undefined, { 'if-none-match': '"W/1"' })).status).toBe(200);
    expect(
      (await call(ctx.app, 'GET', url, undefined, { 'if-none-match': `"W/${etag.replace(/^W\/"/, '')}` })).status,
    ).toBe(200);
  });
});
