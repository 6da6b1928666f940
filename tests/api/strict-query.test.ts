/**
 * Strict query strings (issue 15, item 5): a parameter the route does not know answers 400
 * problem+json naming it, on every route, and changes nothing. Known parameters keep working.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Json } from '../helpers/app.js';
import { call, NO_AUTH } from '../helpers/app.js';
import {
  API,
  countRows,
  createTree,
  expectProblem,
  expectStatus,
  putMeasurement,
  type Tree,
} from '../helpers/fixtures.js';
import { acceptedNames } from '../../src/http/strict-query.js';
import { setupApp } from '../helpers/app.js';
import { z } from 'zod';

const ctx = setupApp();
let tree: Tree;

beforeAll(async () => {
  tree = await createTree(ctx.app);
  await putMeasurement(ctx.app, tree.indicator.id, 2016, { plan: 10, fact: 12 });
  await putMeasurement(ctx.app, tree.indicator.id, 2017, { plan: 10, fact: 8 });
});

const unknownParams = (body: Json) =>
  (body.errors ?? [])
    .filter((e: { message: string }) => e.message === 'unknown query parameter')
    .map((e: { path: string }) => e.path);

describe('unknown query parameters', () => {
  it('a typo on a list (?yaer=) is a 400 naming it, not every year unfiltered', async () => {
    const res = await call(ctx.app, 'GET', `${API}/indicators/${tree.indicator.id}/measurements?yaer=2016`);
    expectProblem(res, 400, ['query.yaer']);
    expect(unknownParams(res.body)).toEqual(['query.yaer']);
    // The same list with the parameters it knows still answers.
    const ok = expectStatus(
      await call(ctx.app, 'GET', `${API}/indicators/${tree.indicator.id}/measurements?limit=1`),
      200,
    );
    expect(ok.items).toHaveLength(1);
  });

  it('an OData option ($filter) on the status feed is a 400, while its real filters work', async () => {
    const res = await call(ctx.app, 'GET', `${API}/status?$filter=${encodeURIComponent("status eq 'achieved'")}`);
    expectProblem(res, 400, ['query.$filter']);
    const ok = expectStatus(await call(ctx.app, 'GET', `${API}/status?year=2016&planId=${tree.plan.id}`), 200);
    expect(ok.items.map((row: Json) => row.year)).toEqual([2016]);
  });

  it('lists every unknown parameter, and the invalid known ones beside them, in one answer', async () => {
    const res = await call(ctx.app, 'GET', `${API}/status?yaer=2016&sort=code&$top=5&limit=0`);
    expectProblem(res, 400, ['query.yaer', 'query.sort', 'query.$top', 'query.limit']);
    expect(unknownParams(res.body).sort()).toEqual(['query.$top', 'query.sort', 'query.yaer']);
    expect(res.body.errors).toHaveLength(4);
  });

  it('applies to exports (CSV) and the report, before any file is produced', async () => {
    const csv = await call(ctx.app, 'GET', `${API}/status?format=csv&seperator=;`);
    expectProblem(csv, 400, ['query.seperator']);
    const list = await call(ctx.app, 'GET', `${API}/organizations?format=xlsx&filter=x`);
    expectProblem(list, 400, ['query.filter']);
    const report = await call(ctx.app, 'GET', `${API}/plans/${tree.plan.id}/reports/2016?format=csv&language=kk`);
    expectProblem(report, 400, ['query.language']);
    const good = await call(ctx.app, 'GET', `${API}/plans/${tree.plan.id}/reports/2016?format=csv&lang=kk`);
    expect(good.status).toBe(200);
  });

  it('applies to plan and indicator status', async () => {
    expectProblem(await call(ctx.app, 'GET', `${API}/plans/${tree.plan.id}/status?year=2016&yr=2016`), 400, [
      'query.yr',
    ]);
    expectProblem(await call(ctx.app, 'GET', `${API}/indicators/${tree.indicator.id}/status?Year=2016`), 400, [
      'query.Year',
    ]);
  });

  it('applies to routes that take no query parameters at all (a single entity, /me)', async () => {
    expectProblem(await call(ctx.app, 'GET', `${API}/plans/${tree.plan.id}?expand=directions`), 400, ['query.expand']);
    expectProblem(await call(ctx.app, 'GET', `${API}/me?fields=email`), 400, ['query.fields']);
    expectStatus(await call(ctx.app, 'GET', `${API}/plans/${tree.plan.id}`), 200);
  });

  it('a write with an unknown parameter changes nothing', async () => {
    const before = await countRows(ctx);
    const res = await call(ctx.app, 'DELETE', `${API}/plans/${tree.plan.id}?cascde=true`);
    expectProblem(res, 400, ['query.cascde']);
    expect(await countRows(ctx)).toEqual(before);
    const put = await call(ctx.app, 'PUT', `${API}/indicators/${tree.indicator.id}/measurements/2018?dryRun=true`, {
      plan: 1,
      fact: 1,
    });
    expectProblem(put, 400, ['query.dryRun']);
    expect(await countRows(ctx)).toEqual(before);
  });

  it('an empty name, a repeated unknown name and a huge value are reported too, never a 500', async () => {
    expectProblem(await call(ctx.app, 'GET', `${API}/organizations?=1`), 400);
    const repeated = await call(ctx.app, 'GET', `${API}/organizations?x=1&x=2`);
    expectProblem(repeated, 400, ['query.x']);
    expect(unknownParams(repeated.body)).toEqual(['query.x']);
    expectProblem(await call(ctx.app, 'GET', `${API}/organizations?q=${'a'.repeat(5000)}`), 400, ['query.q']);
  });

  it('is checked after authentication: without a token the answer stays 401', async () => {
    const res = await call(ctx.app, 'GET', `${API}/organizations?yaer=2016`, undefined, NO_AUTH);
    expectProblem(res, 401);
  });

  it('leaves public probes strict as well', async () => {
    expectProblem(await call(ctx.app, 'GET', '/health/live?verbose=1', undefined, NO_AUTH), 400, ['query.verbose']);
  });
});

describe('acceptedNames (what a query schema accepts)', () => {
  it('reads objects through transforms, unions, intersections and wrappers', () => {
    const base = z.object({ a: z.string(), b: z.number().optional() });
    expect([...acceptedNames(base)!]).toEqual(['a', 'b']);
    expect([...acceptedNames(base.transform((v) => v))!]).toEqual(['a', 'b']);
    expect([...acceptedNames(z.union([base, z.object({ c: z.string() })]))!].sort()).toEqual(['a', 'b', 'c']);
    expect([...acceptedNames(z.intersection(base, z.object({ d: z.string() })))!].sort()).toEqual(['a', 'b', 'd']);
    expect([...acceptedNames(base.optional())!]).toEqual(['a', 'b']);
    expect([...acceptedNames(z.object({}))!]).toEqual([]);
  });

  it('treats a schema that takes any name as not strict (a catchall, a record, loose)', () => {
    expect(acceptedNames(z.object({ a: z.string() }).loose())).toBeNull();
    expect(acceptedNames(z.object({ a: z.string() }).catchall(z.string()))).toBeNull();
    expect(acceptedNames(z.record(z.string(), z.string()))).toBeNull();
    expect([...acceptedNames(z.strictObject({ a: z.string() }))!]).toEqual(['a']);
  });
});
