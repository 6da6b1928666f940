import { beforeAll, describe, expect, it } from 'vitest';
import { call, setupApp } from '../helpers/app.js';
import type { Json } from '../helpers/app.js';
import {
  API,
  createDirection,
  createIndicator,
  createOrganization,
  createPlan,
  createTree,
  expectProblem,
  expectStatus,
  listAll,
  putMeasurement,
} from '../helpers/fixtures.js';
import type { Tree } from '../helpers/fixtures.js';

const ctx = setupApp();

const cursorOf = (values: unknown) => Buffer.from(JSON.stringify(values)).toString('base64url');

async function pageOf(url: string): Promise<Json> {
  return expectStatus(await call(ctx.app, 'GET', url), 200);
}

describe('pagination', () => {
  let tree: Tree;
  beforeAll(async () => {
    tree = await createTree(ctx.app);
  });

  it('walks 7 plans with limit=3 in 3 pages (3, 3, 1), in code order, each exactly once', async () => {
    const org = await createOrganization(ctx.app);
    const codes = ['P-5', 'P-2', 'P-7', 'P-1', 'P-4', 'P-6', 'P-3'];
    for (const code of codes) await createPlan(ctx.app, org.id, { code });
    const base = `${API}/plans?organizationId=${org.id}&limit=3`;

    const p1 = await pageOf(base);
    expect(p1.items.map((p: Json) => p.code)).toEqual(['P-1', 'P-2', 'P-3']);
    expect(typeof p1.nextCursor).toBe('string');
    const p2 = await pageOf(`${base}&cursor=${p1.nextCursor}`);
    expect(p2.items.map((p: Json) => p.code)).toEqual(['P-4', 'P-5', 'P-6']);
    expect(typeof p2.nextCursor).toBe('string');
    const p3 = await pageOf(`${base}&cursor=${p2.nextCursor}`);
    expect(p3.items.map((p: Json) => p.code)).toEqual(['P-7']);
    expect(p3.nextCursor).toBeNull();
    // The filter applies on every page: nothing of other organizations slipped in.
    expect([...p1.items, ...p2.items, ...p3.items].every((p: Json) => p.organizationId === org.id)).toBe(true);
  });

  it('ends with nextCursor null, and no empty extra page, when the rows divide evenly', async () => {
    const org = await createOrganization(ctx.app);
    for (let i = 1; i <= 6; i++) await createPlan(ctx.app, org.id, { code: `E-${i}` });
    const { items, pages } = await listAll(ctx.app, `${API}/plans?organizationId=${org.id}`, 3);
    expect(pages).toBe(2);
    expect(items.map((p: Json) => p.code)).toEqual(['E-1', 'E-2', 'E-3', 'E-4', 'E-5', 'E-6']);
    const exact = await pageOf(`${API}/plans?organizationId=${org.id}&limit=6`);
    expect(exact.items).toHaveLength(6);
    expect(exact.nextCursor).toBeNull();
  });

  it('walks organizations (a top-level list) page by page in code order', async () => {
    for (const code of ['ORGP-c', 'ORGP-a', 'ORGP-g', 'ORGP-e', 'ORGP-b', 'ORGP-f', 'ORGP-d'])
      await createOrganization(ctx.app, { code });
    const everything = (await pageOf(`${API}/organizations?limit=500`)).items.map((o: Json) => o.id);
    const { items, pages } = await listAll(ctx.app, `${API}/organizations`, 3);
    expect(pages).toBe(Math.ceil(everything.length / 3));
    expect(items.map((o: Json) => o.id)).toEqual(everything);
    expect(new Set(items.map((o: Json) => o.id)).size).toBe(items.length);
    const codes = items.map((o: Json) => o.code);
    expect(codes).toEqual([...codes].sort());
    expect(codes.filter((c: string) => c.startsWith('ORGP-'))).toEqual([
      'ORGP-a',
      'ORGP-b',
      'ORGP-c',
      'ORGP-d',
      'ORGP-e',
      'ORGP-f',
      'ORGP-g',
    ]);
  });

  it('walks directions ordered by position and then code across page boundaries, ties included', async () => {
    const plan = await createPlan(ctx.app, tree.organization.id);
    // Three share position 2, two share position 1: the order inside a tie is by code.
    const spec: [string, number][] = [
      ['c', 2],
      ['z', 1],
      ['a', 2],
      ['y', 1],
      ['b', 2],
      ['x', 9],
      ['w', 0],
    ];
    for (const [code, position] of spec) await createDirection(ctx.app, plan.id, { code, position });
    const { items, pages } = await listAll(ctx.app, `${API}/plans/${plan.id}/directions`, 3);
    expect(pages).toBe(3);
    expect(items.map((d: Json) => d.code)).toEqual(['w', 'y', 'z', 'a', 'b', 'c', 'x']);
  });

  it('walks indicators and 7 measurements (by year), keeping the year filter on every page', async () => {
    const goalId = tree.goal.id;
    for (let i = 7; i >= 1; i--) await createIndicator(ctx.app, goalId, { code: `IP-${i}`, position: 10 });
    const indicators = await listAll(ctx.app, `${API}/goals/${goalId}/indicators?valueType=percent`, 3);
    expect(indicators.items.filter((i: Json) => i.code.startsWith('IP-')).map((i: Json) => i.code)).toEqual([
      'IP-1',
      'IP-2',
      'IP-3',
      'IP-4',
      'IP-5',
      'IP-6',
      'IP-7',
    ]);

    const indicatorId = tree.indicator.id;
    const years = [2016, 2004, 2012, 2018, 2008, 2014, 2010];
    for (const year of years) await putMeasurement(ctx.app, indicatorId, year, { plan: year - 2000 });
    const url = `${API}/indicators/${indicatorId}/measurements`;
    const all = await listAll(ctx.app, url, 3);
    expect(all.pages).toBe(3);
    expect(all.items.map((m: Json) => m.year)).toEqual([2004, 2008, 2010, 2012, 2014, 2016, 2018]);
    const filtered = await listAll(ctx.app, `${url}?yearFrom=2008&yearTo=2016`, 2);
    expect(filtered.pages).toBe(3);
    expect(filtered.items.map((m: Json) => m.year)).toEqual([2008, 2010, 2012, 2014, 2016]);
  });

  it('defaults to 50 per page and allows up to 500', async () => {
    const plan = await createPlan(ctx.app, tree.organization.id);
    for (let i = 1; i <= 51; i++) await createDirection(ctx.app, plan.id, { code: `${i}`.padStart(3, '0') });
    const url = `${API}/plans/${plan.id}/directions`;
    const first = await pageOf(url);
    expect(first.items).toHaveLength(50);
    expect(first.nextCursor).not.toBeNull();
    const second = await pageOf(`${url}?cursor=${first.nextCursor}`);
    expect(second.items.map((d: Json) => d.code)).toEqual(['051']);
    expect(second.nextCursor).toBeNull();
    const big = await pageOf(`${url}?limit=500`);
    expect(big.items).toHaveLength(51);
    expect(big.nextCursor).toBeNull();
    const one = await pageOf(`${url}?limit=1`);
    expect(one.items.map((d: Json) => d.code)).toEqual(['001']);
  });

  it.each(['0', '501', '-1', 'ten', '2.5', '', '1e400'])('rejects limit=%s with 400 on query.limit', async (limit) => {
    expectProblem(await call(ctx.app, 'GET', `${API}/organizations?limit=${limit}`), 400, ['query.limit']);
    expectProblem(
      await call(ctx.app, 'GET', `${API}/indicators/${tree.indicator.id}/measurements?limit=${limit}`),
      400,
      ['query.limit'],
    );
  });

  it('does not repeat or skip rows when others are inserted or deleted between pages (keyset, not offset)', async () => {
    const org = await createOrganization(ctx.app);
    for (const code of ['K-2', 'K-4', 'K-6', 'K-8']) await createPlan(ctx.app, org.id, { code });
    const base = `${API}/plans?organizationId=${org.id}&limit=2`;
    const p1 = await pageOf(base);
    expect(p1.items.map((p: Json) => p.code)).toEqual(['K-2', 'K-4']);
    // A row before the cursor appears and the last row of page 1 disappears.
    await createPlan(ctx.app, org.id, { code: 'K-1' });
    expect((await call(ctx.app, 'DELETE', `${API}/plans/${p1.items[1].id}`)).status).toBe(204);
    const p2 = await pageOf(`${base}&cursor=${p1.nextCursor}`);
    expect(p2.items.map((p: Json) => p.code)).toEqual(['K-6', 'K-8']);
    expect(p2.nextCursor).toBeNull();
  });

  describe('tampered cursors answer 400, never 500', () => {
    const cases: [string, string][] = [
      ['not base64 JSON', 'garbage!!'],
      ['base64 of plain text', Buffer.from('hello').toString('base64url')],
      ['an empty array', cursorOf([])],
      ['an object', cursorOf({ code: 'a' })],
      ['too few keys', cursorOf(['only-one'])],
      ['too many keys', cursorOf(['a', '00000000-0000-4000-8000-000000000000', 'extra'])],
      ['a nested value', cursorOf([['a'], '00000000-0000-4000-8000-000000000000'])],
      ['a boolean', cursorOf([true, '00000000-0000-4000-8000-000000000000'])],
      ['an over-long string', cursorOf(['x'.repeat(300), '00000000-0000-4000-8000-000000000000'])],
      ['a non-uuid in the id slot', cursorOf(['a', 'not-a-uuid'])],
      ['longer than 1024 characters', 'A'.repeat(1100)],
    ];

    it.each(cases)('organizations: %s', async (_label, cursor) => {
      const res = await call(ctx.app, 'GET', `${API}/organizations?cursor=${encodeURIComponent(cursor)}`);
      expectProblem(res, 400);
    });

    it('rejects a cursor of one list used on a list with other keys, naming query.cursor', async () => {
      const plan = await createPlan(ctx.app, tree.organization.id);
      for (const code of ['1', '2', '3']) await createDirection(ctx.app, plan.id, { code });
      const page = await pageOf(`${API}/plans/${plan.id}/directions?limit=1`);
      expect(page.nextCursor).not.toBeNull();
      // directions are keyed (position, code, id); organizations (code, id); measurements (year).
      expectProblem(await call(ctx.app, 'GET', `${API}/organizations?cursor=${page.nextCursor}`), 400, [
        'query.cursor',
      ]);
      expectProblem(
        await call(ctx.app, 'GET', `${API}/indicators/${tree.indicator.id}/measurements?cursor=${page.nextCursor}`),
        400,
        ['query.cursor'],
      );
    });

    it.each([
      ['a string for the position', cursorOf(['first', 'a', '00000000-0000-4000-8000-000000000000'])],
      ['a fraction for the position', cursorOf([1.5, 'a', '00000000-0000-4000-8000-000000000000'])],
      ['a position beyond integer range', cursorOf([1e300, 'a', '00000000-0000-4000-8000-000000000000'])],
      ['a number in the id slot', cursorOf([1, 'a', 12])],
    ])('directions: %s', async (_label, cursor) => {
      expectProblem(await call(ctx.app, 'GET', `${API}/plans/${tree.plan.id}/directions?cursor=${cursor}`), 400);
    });

    it.each([
      ['a string year', cursorOf(['last'])],
      ['a fractional year', cursorOf([2016.5])],
      ['a year beyond integer range', cursorOf([99999999999])],
    ])('measurements: %s', async (_label, cursor) => {
      expectProblem(
        await call(ctx.app, 'GET', `${API}/indicators/${tree.indicator.id}/measurements?cursor=${cursor}`),
        400,
      );
    });
  });
});
