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
      `${API}/plans?updatedSince=${encodeURIComponent('2020-01-01T00:00:00Z')}&organizationId=${tree.organization.id}`,
    ];
    const before = new Map<string, string>();
    for (const url of urls) before.set(url, await expect304(url));
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
    const res = await call(ctx.app, 'GET', `${API}/plans/00000000-0000-4000-8000-000000000000`, undefined, { 'if-none-match': '*' });
    expect(res.status).toBe(404);
  });
});
