/**
 * The status endpoints skip zod's encode of their answers (src/http/serialize.ts, for speed), and
 * their rows are decoded by position from the read model's statements (src/status/read-model.ts).
 * That is only safe while the answers are exactly what the schemas describe: every field valid,
 * nothing extra. These tests hold them to that on real answers, with and without an approval,
 * translations and empty sections.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { FlatIndicatorStatus, IndicatorStatus, PlanStatus } from '../../src/status/schemas.js';
import { call, setupApp } from '../helpers/app.js';
import type { LoadedDemo } from '../helpers/demo.js';
import { loadDemoThroughApi } from '../helpers/demo.js';
import { API, createDirection, createGoal, createOrganization, createPlan } from '../helpers/fixtures.js';

const ctx = setupApp();
let demo: LoadedDemo;

beforeAll(async () => {
  demo = await loadDemoThroughApi(ctx.app);
});

/** The answer equals its own strict parse: valid, and no field the schema does not list. */
function expectExactly(schema: z.ZodType, body: unknown) {
  const parsed = schema.safeParse(body);
  expect(parsed.error).toBeUndefined();
  expect(body).toStrictEqual(JSON.parse(JSON.stringify(parsed.data)));
}

describe('status answers are exactly their schemas', () => {
  it('plan status in every language and none, before and after the year is approved', async () => {
    for (const approve of [false, true]) {
      if (approve) {
        const order = { document: { kk: 'Бұйрық № 1', ru: 'Приказ № 1' }, date: '2016-12-30' };
        expect((await call(ctx.app, 'POST', `${API}/plans/${demo.planId}/years/2016/approve`, order)).status).toBe(201);
      }
      for (const lang of ['', '&lang=kk', '&lang=ru', '&lang=en']) {
        const res = await call(ctx.app, 'GET', `${API}/plans/${demo.planId}/status?year=2016${lang}`);
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        expectExactly(PlanStatus, res.body);
        expect(res.body.approval === null).toBe(!approve);
      }
    }
  });

  it('the approval in a plan status is the one GET /plans/{id}/years lists, to the millisecond', async () => {
    const years = await call(ctx.app, 'GET', `${API}/plans/${demo.planId}/years`);
    const listed = years.body.items.find((a: { year: number }) => a.year === 2016);
    expect(listed).toBeDefined();
    const status = await call(ctx.app, 'GET', `${API}/plans/${demo.planId}/status?year=2016`);
    expect(status.body.approval).toEqual(listed);
    expect(
      status.body.directions.flatMap((d: { goals: { indicators: { approved: boolean }[] }[] }) =>
        d.goals.flatMap((g) => g.indicators.map((i) => i.approved)),
      ),
    ).toEqual(Array(19).fill(true));
  });

  it('indicator status for one year and for every year, and a page of the flat feed', async () => {
    const id = demo.indicatorIds.get('3.2.1')!;
    const one = await call(ctx.app, 'GET', `${API}/indicators/${id}/status?year=2016&lang=ru`);
    expectExactly(IndicatorStatus, one.body);
    const all = await call(ctx.app, 'GET', `${API}/indicators/${id}/status`);
    expect(all.body.items.length).toBeGreaterThan(1);
    for (const item of all.body.items) expectExactly(IndicatorStatus, item);
    const feed = await call(ctx.app, 'GET', `${API}/status?year=2016&limit=7&lang=en`);
    expect(feed.body.items).toHaveLength(7);
    for (const item of feed.body.items) expectExactly(FlatIndicatorStatus, item);
    // Without a language the rows carry no *Text fields (status/assemble.ts adds them field by field).
    const bare = await call(ctx.app, 'GET', `${API}/status?year=2016&limit=7`);
    expect(bare.body.items).toHaveLength(7);
    for (const item of bare.body.items) {
      expectExactly(FlatIndicatorStatus, item);
      expect(Object.keys(item).filter((k) => k.endsWith('Text'))).toEqual([]);
    }
    // With one, each name's text follows its name, in the answer's documented order.
    const keys = Object.keys(feed.body.items[0]);
    for (const name of ['name', 'unit', 'organizationName', 'planTitle', 'directionTitle', 'goalTitle'])
      expect(keys.indexOf(`${name}Text`)).toBe(keys.indexOf(name) + 1);
  });

  it('a plan with an empty direction and an empty goal: both listed, with empty summaries', async () => {
    const org = await createOrganization(ctx.app);
    const plan = await createPlan(ctx.app, org.id);
    const bare = await call(ctx.app, 'GET', `${API}/plans/${plan.id}/status?year=${plan.startYear}`);
    expectExactly(PlanStatus, bare.body);
    expect(bare.body).toMatchObject({
      planId: plan.id,
      approval: null,
      directions: [],
      summary: { total: 0, achievementRate: null },
    });

    const first = await createDirection(ctx.app, plan.id, { code: '1', position: 1 });
    const second = await createDirection(ctx.app, plan.id, { code: '2', position: 2 });
    const goal = await createGoal(ctx.app, second.id, { code: '2.1' });
    const res = await call(ctx.app, 'GET', `${API}/plans/${plan.id}/status?year=${plan.startYear}`);
    expectExactly(PlanStatus, res.body);
    expect(
      res.body.directions.map((d: { id: string; goals: { id: string; indicators: unknown[] }[] }) => [
        d.id,
        d.goals.map((g) => [g.id, g.indicators.length]),
      ]),
    ).toEqual([
      [first.id, []],
      [second.id, [[goal.id, 0]]],
    ]);
  });
});
