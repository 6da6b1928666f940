/**
 * Evaluation methods (issue 18): the resource (admin-managed, versioned, audited, validated), a
 * plan switched to a capped, banded, weighted method and back (the default answer comes back
 * exactly), approved years keeping their version, the forecast of the final target, the new columns.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Json } from '../helpers/app.js';
import { bearer, call, setupApp, tokenFor } from '../helpers/app.js';
import type { LoadedDemo } from '../helpers/demo.js';
import { loadDemoThroughApi } from '../helpers/demo.js';
import {
  API,
  createTree,
  expectProblem,
  expectStatus,
  putMeasurement,
  uniqueCode,
  unknownId,
} from '../helpers/fixtures.js';

const ctx = setupApp();
let demo: LoadedDemo;

beforeAll(async () => {
  demo = await loadDemoThroughApi(ctx.app);
});

const label = (en: string) => ({ kk: en, ru: en, en });
const BANDS = [
  { code: 'high', min: 1, label: label('High') },
  { code: 'medium', min: 0.9, label: label('Medium') },
  { code: 'low', min: 0, label: label('Low') },
];
const RULES = { rankDegree: 'places', cap: 1, bands: BANDS, rollUp: 'weighted', pending: { treatment: 'excluded' } };
const methodBody = (rules: Record<string, unknown> = RULES) => ({
  code: uniqueCode('method'),
  name: { en: 'Capped, banded, weighted' },
  rules,
});

async function createMethod(rules?: Record<string, unknown>): Promise<Json> {
  return expectStatus(await call(ctx.app, 'POST', `${API}/evaluation-methods`, methodBody(rules)), 201);
}

type Row = { code: string; [k: string]: Json };
const flatten = (body: Json): Row[] => body.directions.flatMap((d: Json) => d.goals.flatMap((g: Json) => g.indicators));
const planStatus = async (planId: string, year = 2016, query = '') =>
  expectStatus(await call(ctx.app, 'GET', `${API}/plans/${planId}/status?year=${year}${query}`), 200);
const setMethod = async (planId: string, evaluationMethodId: string | null) =>
  expectStatus(await call(ctx.app, 'PATCH', `${API}/plans/${planId}`, { evaluationMethodId }), 200);

describe('the evaluation method resource', () => {
  it('creates, reads, lists and versions a method, with ETags and an audit record per change', async () => {
    const created = await call(ctx.app, 'POST', `${API}/evaluation-methods`, methodBody());
    expect(created.status).toBe(201);
    expect(created.headers.etag).toBe('"1"');
    expect(created.headers.location).toBe(`${API}/evaluation-methods/${created.body.id}`);
    expect(created.body).toMatchObject({ version: 1, rules: RULES });
    const one = await call(ctx.app, 'GET', `${API}/evaluation-methods/${created.body.id}`);
    expect(one.body).toEqual(created.body);
    const changed = expectStatus(
      await call(ctx.app, 'PATCH', `${API}/evaluation-methods/${created.body.id}`, { rules: { ...RULES, cap: 1.2 } }),
      200,
    );
    expect(changed.version).toBe(2);
    const versions = expectStatus(
      await call(ctx.app, 'GET', `${API}/evaluation-methods/${created.body.id}/versions`),
      200,
    );
    expect(versions.items.map((v: Json) => [v.version, v.rules.cap])).toEqual([
      [1, 1],
      [2, 1.2],
    ]);
    const list = expectStatus(await call(ctx.app, 'GET', `${API}/evaluation-methods?limit=500`), 200);
    expect(list.items.map((m: Json) => m.id)).toContain(created.body.id);
    const audit = expectStatus(
      await call(ctx.app, 'GET', `${API}/audit?entityType=evaluationMethod&entityId=${created.body.id}`),
      200,
    );
    expect(audit.items.map((a: Json) => a.action).sort()).toEqual(['create', 'update']);
  });

  it('refuses bad rules with 400 naming the field, and stores nothing', async () => {
    const before = expectStatus(await call(ctx.app, 'GET', `${API}/evaluation-methods?limit=500`), 200).items.length;
    const bad: [Record<string, unknown>, string][] = [
      [{ ...RULES, bands: [BANDS[1], BANDS[0], BANDS[2]] }, 'body.rules.bands.1.min'], // unordered
      [{ ...RULES, bands: [BANDS[0], { ...BANDS[1], min: 1 }, BANDS[2]] }, 'body.rules.bands.1.min'], // overlapping (equal)
      [{ ...RULES, bands: [BANDS[0], BANDS[1]] }, 'body.rules.bands.1.min'], // not exhaustive
      [{ ...RULES, bands: [{ ...BANDS[0], min: -1 }] }, 'body.rules.bands.0.min'],
      [{ ...RULES, cap: -0.5 }, 'body.rules.cap'],
      [{ ...RULES, cap: '1' }, 'body.rules.cap'],
      [{ ...RULES, rollUp: 'median' }, 'body.rules.rollUp'],
      [{ ...RULES, pending: { treatment: 'not_achieved_after', deadline: '13-01' } }, 'body.rules.pending.deadline'],
    ];
    for (const [rules, path] of bad)
      expectProblem(await call(ctx.app, 'POST', `${API}/evaluation-methods`, methodBody(rules)), 400, [path]);
    const { rankDegree: _dropped, ...missing } = RULES;
    expectProblem(await call(ctx.app, 'POST', `${API}/evaluation-methods`, methodBody(missing)), 400, [
      'body.rules.rankDegree',
    ]);
    const method = await createMethod();
    expectProblem(
      await call(ctx.app, 'PATCH', `${API}/evaluation-methods/${method.id}`, { rules: { ...RULES, cap: -1 } }),
      400,
      ['body.rules.cap'],
    );
    expect(expectStatus(await call(ctx.app, 'GET', `${API}/evaluation-methods/${method.id}`), 200).version).toBe(1);
    expect(expectStatus(await call(ctx.app, 'GET', `${API}/evaluation-methods?limit=500`), 200).items.length).toBe(
      before + 1,
    );
    expectProblem(await call(ctx.app, 'GET', `${API}/evaluation-methods/${unknownId()}`), 404);
    expectProblem(await call(ctx.app, 'GET', `${API}/evaluation-methods/${unknownId()}/versions`), 404);
    expectProblem(await call(ctx.app, 'DELETE', `${API}/evaluation-methods/${unknownId()}`), 404);
  });

  it('is admin-managed: viewers and editors read, only admins write', async () => {
    const method = await createMethod();
    for (const role of ['viewer', 'editor'] as const) {
      const auth = bearer(await tokenFor(ctx, { role, organizationId: demo.organizationId }));
      expect((await call(ctx.app, 'GET', `${API}/evaluation-methods/${method.id}`, undefined, auth)).status).toBe(200);
      expectProblem(await call(ctx.app, 'POST', `${API}/evaluation-methods`, methodBody(), auth), 403);
      expectProblem(
        await call(ctx.app, 'PATCH', `${API}/evaluation-methods/${method.id}`, { name: { en: 'x' } }, auth),
        403,
      );
      expectProblem(await call(ctx.app, 'DELETE', `${API}/evaluation-methods/${method.id}`, undefined, auth), 403);
    }
  });

  it('lists through the list pipeline: keyset pages in code order, a total when asked, the next page in Link', async () => {
    await createMethod();
    await createMethod();
    const all = expectStatus(await call(ctx.app, 'GET', `${API}/evaluation-methods?limit=500&count=true`), 200);
    expect(all.total).toBe(all.items.length);
    expect(all.items.length).toBeGreaterThanOrEqual(2);
    const codes = all.items.map((m: Json) => m.code as string);
    expect(codes).toEqual([...codes].sort());
    const first = await call(ctx.app, 'GET', `${API}/evaluation-methods?limit=1`);
    const page = expectStatus(first, 200);
    expect(page.items).toHaveLength(1);
    expect(page.total).toBeUndefined();
    expect(first.headers.link).toBe(`<${API}/evaluation-methods?limit=1&cursor=${page.nextCursor}>; rel="next"`);
    const second = expectStatus(
      await call(ctx.app, 'GET', `${API}/evaluation-methods?limit=1&cursor=${page.nextCursor}`),
      200,
    );
    expect(second.items[0].code).toBe(codes[1]);
    expectProblem(await call(ctx.app, 'GET', `${API}/evaluation-methods?cursor=not-a-cursor`), 400);
  });

  it('refuses a duplicate code with 409', async () => {
    const method = await createMethod();
    expectProblem(
      await call(ctx.app, 'POST', `${API}/evaluation-methods`, { ...methodBody(), code: method.code }),
      409,
    );
  });
});

describe('plans and indicators name their method and weight', () => {
  it('a plan naming a missing method answers 400 and keeps its method', async () => {
    const tree = await createTree(ctx.app);
    expectProblem(
      await call(ctx.app, 'PATCH', `${API}/plans/${tree.plan.id}`, { evaluationMethodId: unknownId() }),
      400,
      ['body.evaluationMethodId'],
    );
    expectProblem(
      await call(ctx.app, 'PATCH', `${API}/plans/${tree.plan.id}`, { evaluationMethodId: 'not-a-uuid' }),
      400,
    );
    expect(expectStatus(await call(ctx.app, 'GET', `${API}/plans/${tree.plan.id}`), 200).evaluationMethodId).toBeNull();
    const body = {
      organizationId: tree.organization.id,
      code: uniqueCode('p'),
      title: { en: 'P' },
      startYear: 2014,
      endYear: 2018,
      evaluationMethodId: unknownId(),
    };
    expectProblem(await call(ctx.app, 'POST', `${API}/plans`, body), 400, ['body.evaluationMethodId']);
  });

  it('weights: default 1, >= 0, at most 4 decimals', async () => {
    const tree = await createTree(ctx.app);
    expect(tree.indicator.weight).toBe(1);
    for (const weight of [-1, -0.0001, 1.00001, '2', 2e6]) {
      expectProblem(await call(ctx.app, 'PATCH', `${API}/indicators/${tree.indicator.id}`, { weight }), 400, [
        'body.weight',
      ]);
    }
    expect(
      expectStatus(await call(ctx.app, 'PATCH', `${API}/indicators/${tree.indicator.id}`, { weight: 0 }), 200).weight,
    ).toBe(0);
    expect(
      expectStatus(await call(ctx.app, 'PATCH', `${API}/indicators/${tree.indicator.id}`, { weight: 2.5 }), 200).weight,
    ).toBe(2.5);
  });
});

describe('a plan switched to a capped, banded, weighted method and back', () => {
  it('scores the demo by the method, then answers exactly as before once switched back', async () => {
    const before = await planStatus(demo.planId);
    const method = await createMethod();
    // Weight the CPI (3.2.1) 3 times as much as the rest.
    expectStatus(
      await call(ctx.app, 'PATCH', `${API}/indicators/${demo.indicatorIds.get('3.2.1')}`, { weight: 3 }),
      200,
    );
    await setMethod(demo.planId, method.id);
    const scored = await planStatus(demo.planId);
    expect(scored.evaluationMethod).toMatchObject({ methodId: method.id, rules: RULES });
    const rows = new Map(flatten(scored).map((r) => [r.code, r]));
    // Verdicts never change with the method: 14 / 4 / 1.
    expect(scored.summary).toMatchObject({
      total: 19,
      achieved: 14,
      notAchieved: 4,
      pending: 1,
      achievementRate: 77.78,
      targetRate: 73.68,
    });
    for (const row of rows.values()) if (row.degree !== null) expect(row.degree).toBeLessThanOrEqual(1);
    expect(rows.get('1.1.3')).toMatchObject({ achievementPercent: 130, degree: 1, band: { code: 'high' }, gap: 18 });
    expect(rows.get('3.2.1')).toMatchObject({
      degree: 0.916,
      band: { code: 'medium', label: label('Medium') },
      gap: -11,
      deviation: 11,
      trend: 'worsened',
      scoreTrend: 'improved',
      weight: 3,
    });
    expect(rows.get('2.1.3')).toMatchObject({ degree: 0.91, band: { code: 'medium' }, gap: -7.2 });
    expect(rows.get('1.1.1')).toMatchObject({ gap: 2.7, deviation: -2.7 });
    expect(rows.get('2.1.2')).toMatchObject({ status: 'pending', degree: null, band: null, gap: null, overdue: false });
    // The weighted mean counts the CPI three times; the score follows rollUp "weighted".
    const degrees = [...rows.values()].filter((r) => r.degree !== null);
    const weighted = degrees.reduce((s, r) => s + r.degree * r.weight, 0) / degrees.reduce((s, r) => s + r.weight, 0);
    expect(scored.summary.weightedDegree).toBeCloseTo(weighted * 100, 2);
    expect(scored.summary.score).toBe(scored.summary.weightedDegree);
    expect(scored.summary.weightedDegree).not.toBe(scored.summary.meanDegree);
    // The flat feed and the indicator status score the same way.
    const cpi = expectStatus(
      await call(ctx.app, 'GET', `${API}/indicators/${demo.indicatorIds.get('3.2.1')}/status?year=2016`),
      200,
    );
    expect(cpi).toMatchObject({ degree: 0.916, band: { code: 'medium' } });
    const feed = expectStatus(
      await call(ctx.app, 'GET', `${API}/status?year=2016&planId=${demo.planId}&limit=500`),
      200,
    );
    expect(feed.items.find((i: Json) => i.code === '1.1.3')).toMatchObject({ degree: 1, band: { code: 'high' } });

    // In use: 409, and nothing deleted.
    expectProblem(await call(ctx.app, 'DELETE', `${API}/evaluation-methods/${method.id}`), 409);
    // Back to the default: the answer is exactly the one before (the weight stays stored, the default ignores it).
    await setMethod(demo.planId, null);
    expectStatus(
      await call(ctx.app, 'PATCH', `${API}/indicators/${demo.indicatorIds.get('3.2.1')}`, { weight: 1 }),
      200,
    );
    expect(await planStatus(demo.planId)).toEqual(before);
    expect((await call(ctx.app, 'DELETE', `${API}/evaluation-methods/${method.id}`)).status).toBe(204);
    expectProblem(await call(ctx.app, 'GET', `${API}/evaluation-methods/${method.id}`), 404);
  });

  it('counts pending values as not achieved after the deadline, by the mean degree', async () => {
    const method = await createMethod({
      ...RULES,
      rollUp: 'mean',
      pending: { treatment: 'not_achieved_after', deadline: '05-31' },
    });
    await setMethod(demo.planId, method.id);
    try {
      const scored = await planStatus(demo.planId);
      // 2016's deadline (2017-05-31) has passed: 14 of 19.
      expect(scored.summary).toMatchObject({
        achieved: 14,
        notAchieved: 5,
        pending: 0,
        overdue: 1,
        achievementRate: 73.68,
      });
      expect(scored.summary.score).toBe(scored.summary.meanDegree);
      expect(flatten(scored).find((r) => r.code === '2.1.2')).toMatchObject({ status: 'pending', overdue: true });
    } finally {
      await setMethod(demo.planId, null);
    }
  });
});

/** year -> degree cell of a plan's status CSV (the columns counted from the end: only names before them are free text). */
async function csvDegrees(planId: string, query = ''): Promise<Record<string, string>> {
  const res = await call(ctx.app, 'GET', `${API}/status?planId=${planId}&${query}format=csv`);
  expect(res.status).toBe(200);
  const [header, ...lines] = res.raw.body
    .replace(/^\uFEFF/, '')
    .trim()
    .split('\r\n') as string[];
  const names = header!.split(',');
  const fromEnd = (name: string) => names.length - names.indexOf(name);
  return Object.fromEntries(
    lines.map((line) => {
      const cells = line.split(',');
      return [cells[cells.length - fromEnd('year')]!, cells[cells.length - fromEnd('degree')]!];
    }),
  );
}

describe('approved years keep their method version', () => {
  it('answers with the version it was approved with after the method changes, and the method cannot be deleted', async () => {
    const tree = await createTree(ctx.app);
    await putMeasurement(ctx.app, tree.indicator.id, 2016, { plan: 50, fact: 75 });
    await putMeasurement(ctx.app, tree.indicator.id, 2015, { plan: 50, fact: 75 });
    const method = await createMethod({ ...RULES, cap: 1.2 });
    await setMethod(tree.plan.id, method.id);
    const order = { document: { en: 'Order No. 1' }, date: '2017-01-20' };
    const approval = expectStatus(
      await call(ctx.app, 'POST', `${API}/plans/${tree.plan.id}/years/2016/approve`, order),
      201,
    );
    const v1 = expectStatus(await call(ctx.app, 'GET', `${API}/evaluation-methods/${method.id}/versions`), 200)
      .items[0];
    expect(approval.evaluationMethodVersionId).toBe(v1.id);
    expectStatus(
      await call(ctx.app, 'PATCH', `${API}/evaluation-methods/${method.id}`, { rules: { ...RULES, cap: 1 } }),
      200,
    );

    const approved = await planStatus(tree.plan.id, 2016);
    expect(approved.evaluationMethod.versionId).toBe(v1.id);
    expect(flatten(approved)[0]!.degree).toBe(1.2);
    const open = await planStatus(tree.plan.id, 2015);
    expect(open.evaluationMethod.versionId).not.toBe(v1.id);
    expect(flatten(open)[0]!.degree).toBe(1);
    // The CSV export scores each row by its own year's approval too, for one year and for every year.
    expect(await csvDegrees(tree.plan.id, 'year=2016&')).toEqual({ 2016: '1.2' });
    expect(await csvDegrees(tree.plan.id, 'year=2015&')).toEqual({ 2015: '1' });
    expect(await csvDegrees(tree.plan.id)).toEqual({ 2015: '1', 2016: '1.2' });
    // The plan switched back to the default: the approved year still answers with v1.
    await setMethod(tree.plan.id, null);
    expect(flatten(await planStatus(tree.plan.id, 2016))[0]!.degree).toBe(1.2);
    expect(flatten(await planStatus(tree.plan.id, 2015))[0]!.degree).toBe(1.5);
    expect(await csvDegrees(tree.plan.id)).toEqual({ 2015: '1.5', 2016: '1.2' });
    expectProblem(await call(ctx.app, 'DELETE', `${API}/evaluation-methods/${method.id}`), 409);
  });
});

describe('forecast of the final target', () => {
  it('projects the 2018 target from the facts so far, or says why not', async () => {
    const wgi = demo.indicatorIds.get('3.2.2')!; // facts 2010 93, 2014 80, 2015 64, 2016 61
    await putMeasurement(ctx.app, wgi, 2018, { plan: 55 });
    const status = await planStatus(demo.planId, 2016, '&forecast=true');
    const rows = new Map(flatten(status).map((r) => [r.code, r]));
    expect(rows.get('3.2.2')!.forecast).toMatchObject({ targetYear: 2018, target: 55, points: 4, onTrack: true });
    expect(rows.get('3.2.2')!.forecast.projected).toBeLessThanOrEqual(55);
    expect(rows.get('3.2.1')!.forecast).toMatchObject({ target: null, projected: null, onTrack: null });
    expect(rows.get('3.2.1')!.forecast.reason.en).toContain('No target for 2018');
    for (const row of rows.values())
      expect(row.forecast.reason).toMatchObject({
        kk: expect.any(String),
        ru: expect.any(String),
        en: expect.any(String),
      });
    expect(status.summary.atRisk).toBe(0);
    // Without ?forecast: no forecast, no extra counts.
    const plain = await planStatus(demo.planId, 2016);
    expect(flatten(plain)[0]!.forecast).toBeUndefined();
    expect(plain.summary.atRisk).toBeUndefined();
    // A target the line misses is at risk.
    await putMeasurement(ctx.app, wgi, 2018, { plan: 20 });
    const risky = await planStatus(demo.planId, 2016, '&forecast=true');
    expect(flatten(risky).find((r) => r.code === '3.2.2')!.forecast.onTrack).toBe(false);
    expect(risky.summary.atRisk).toBe(1);
    expect((await call(ctx.app, 'DELETE', `${API}/indicators/${wgi}/measurements/2018`)).status).toBe(204);
    expectProblem(await call(ctx.app, 'GET', `${API}/plans/${demo.planId}/status?year=2016&forecast=yes`), 400);
  });
});

describe('exports carry the new columns', () => {
  it("CSV: weight, degree, band, gap, scoreTrend, overdue after today's columns", async () => {
    const res = await call(ctx.app, 'GET', `${API}/status?year=2016&planId=${demo.planId}&format=csv`);
    expect(res.status).toBe(200);
    const lines = res.raw.body
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(lines[0]!.endsWith(',percentile,previousPercentile,weight,degree,band,gap,scoreTrend,overdue')).toBe(true);
    const cpi = lines.find((l: string) => l.includes(',3.2.1,'))!;
    expect(cpi.endsWith(',1,0.916,,-11,improved,false')).toBe(true);
  });

  it('a method change moves the export ETag (it touches no plan row)', async () => {
    const url = `${API}/status?year=2016&planId=${demo.planId}&format=csv`;
    const first = await call(ctx.app, 'GET', url);
    const method = await createMethod();
    expect((await call(ctx.app, 'GET', url, undefined, { 'if-none-match': String(first.headers.etag) })).status).toBe(
      200,
    );
    const second = await call(ctx.app, 'GET', url);
    expectStatus(
      await call(ctx.app, 'PATCH', `${API}/evaluation-methods/${method.id}`, { rules: { ...RULES, cap: 2 } }),
      200,
    );
    expect((await call(ctx.app, 'GET', url, undefined, { 'if-none-match': String(second.headers.etag) })).status).toBe(
      200,
    );
    const third = await call(ctx.app, 'GET', url);
    expect((await call(ctx.app, 'GET', url, undefined, { 'if-none-match': String(third.headers.etag) })).status).toBe(
      304,
    );
  });
});
