/**
 * The children rule: deleting a parent with children answers 409 and deletes nothing;
 * ?cascade=true deletes the whole subtree in one go, and nothing outside it.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { call, setupApp } from '../helpers/app.js';
import type { Json } from '../helpers/app.js';
import {
  API,
  countRows,
  createDirection,
  createGoal,
  createIndicator,
  createOrganization,
  createPlan,
  expectProblem,
  putMeasurement,
  unknownId,
} from '../helpers/fixtures.js';

const ctx = setupApp();

interface Built {
  org: Json;
  plan: Json;
  directions: Json[];
  goals: Json[];
  indicators: Json[];
}

/** A plan with 2 directions x 2 goals x 2 indicators x 2 measurements (8 indicators, 16 measurements). */
async function buildPlan(orgId: string): Promise<Built> {
  const org = { id: orgId };
  const plan = await createPlan(ctx.app, orgId);
  const directions: Json[] = [];
  const goals: Json[] = [];
  const indicators: Json[] = [];
  for (let d = 1; d <= 2; d++) {
    const direction = await createDirection(ctx.app, plan.id, { code: `${d}` });
    directions.push(direction);
    for (let g = 1; g <= 2; g++) {
      const goal = await createGoal(ctx.app, direction.id, { code: `${d}.${g}` });
      goals.push(goal);
      for (let i = 1; i <= 2; i++) {
        const indicator = await createIndicator(ctx.app, goal.id, { code: `${d}.${g}.${i}` });
        indicators.push(indicator);
        await putMeasurement(ctx.app, indicator.id, 2015, { plan: i, fact: i });
        await putMeasurement(ctx.app, indicator.id, 2016, { plan: i + 1 });
      }
    }
  }
  return { org, plan, directions, goals, indicators };
}

const status = async (url: string) => (await call(ctx.app, 'GET', url)).status;

async function expectAll(b: Built, expected: number) {
  expect(await status(`${API}/plans/${b.plan.id}`)).toBe(expected);
  for (const d of b.directions) expect(await status(`${API}/directions/${d.id}`)).toBe(expected);
  for (const g of b.goals) expect(await status(`${API}/goals/${g.id}`)).toBe(expected);
  for (const i of b.indicators) {
    expect(await status(`${API}/indicators/${i.id}`)).toBe(expected);
    expect(await status(`${API}/indicators/${i.id}/measurements/2015`)).toBe(expected);
  }
}

describe('delete and cascade', () => {
  let orgA: Json;
  let orgB: Json;
  let a1: Built; // plan under org A: the one we delete from
  let a2: Built; // sibling plan under org A
  let b1: Built; // plan under org B

  beforeEach(async () => {
    // Fresh trees per test: the file's database is shared, so each test deletes from its own.
    orgA = await createOrganization(ctx.app);
    orgB = await createOrganization(ctx.app);
    a1 = await buildPlan(orgA.id);
    a2 = await buildPlan(orgA.id);
    b1 = await buildPlan(orgB.id);
  });

  it('answers 409 at every level that has children and deletes nothing', async () => {
    const before = await countRows(ctx);
    const targets = [
      `${API}/organizations/${orgA.id}`,
      `${API}/plans/${a1.plan.id}`,
      `${API}/directions/${a1.directions[0].id}`,
      `${API}/goals/${a1.goals[0].id}`,
      `${API}/indicators/${a1.indicators[0].id}`,
    ];
    for (const url of targets) {
      const res = await call(ctx.app, 'DELETE', url);
      expectProblem(res, 409);
      expect(res.body.detail).toMatch(/children|cascade/);
      expectProblem(await call(ctx.app, 'DELETE', `${url}?cascade=false`), 409);
    }
    expect(await countRows(ctx)).toEqual(before);
    expect(await status(`${API}/organizations/${orgA.id}`)).toBe(200);
    await expectAll(a1, 200);
  });

  it('deletes a plan with ?cascade=true: the whole subtree goes, the sibling plan and the other organization stay', async () => {
    const before = await countRows(ctx);
    const res = await call(ctx.app, 'DELETE', `${API}/plans/${a1.plan.id}?cascade=true`);
    expect(res.status).toBe(204);
    await expectAll(a1, 404);
    await expectAll(a2, 200);
    await expectAll(b1, 200);
    expect(await status(`${API}/organizations/${orgA.id}`)).toBe(200);
    expect(await countRows(ctx)).toEqual({
      ...before,
      plans: before.plans - 1,
      directions: before.directions - 2,
      goals: before.goals - 4,
      indicators: before.indicators - 8,
      measurements: before.measurements - 16,
    });
    // The survivors' measurements are intact, values included.
    const list = await call(ctx.app, 'GET', `${API}/indicators/${a2.indicators[1].id}/measurements`);
    expect(list.body.items.map((m: Json) => [m.year, m.plan, m.fact])).toEqual([
      [2015, 2, 2],
      [2016, 3, null],
    ]);
  });

  it('deletes one direction with ?cascade=true and keeps its sibling direction', async () => {
    const before = await countRows(ctx);
    const [gone, kept] = a1.directions;
    expect((await call(ctx.app, 'DELETE', `${API}/directions/${gone.id}?cascade=true`)).status).toBe(204);
    expect(await status(`${API}/directions/${gone.id}`)).toBe(404);
    for (const g of a1.goals.filter((x) => x.directionId === gone.id))
      expect(await status(`${API}/goals/${g.id}`)).toBe(404);
    for (const g of a1.goals.filter((x) => x.directionId === kept.id))
      expect(await status(`${API}/goals/${g.id}`)).toBe(200);
    const goneGoals = new Set(a1.goals.filter((x) => x.directionId === gone.id).map((x) => x.id));
    for (const i of a1.indicators) {
      expect(await status(`${API}/indicators/${i.id}`)).toBe(goneGoals.has(i.goalId) ? 404 : 200);
    }
    const directions = await call(ctx.app, 'GET', `${API}/plans/${a1.plan.id}/directions`);
    expect(directions.body.items.map((d: Json) => d.id)).toEqual([kept.id]);
    expect(await countRows(ctx)).toEqual({
      ...before,
      directions: before.directions - 1,
      goals: before.goals - 2,
      indicators: before.indicators - 4,
      measurements: before.measurements - 8,
    });
  });

  it('deletes a goal and an indicator with ?cascade=true, nothing else', async () => {
    const before = await countRows(ctx);
    const goal = a1.goals[3];
    expect((await call(ctx.app, 'DELETE', `${API}/goals/${goal.id}?cascade=true`)).status).toBe(204);
    const indicator = a1.indicators[0];
    expect((await call(ctx.app, 'DELETE', `${API}/indicators/${indicator.id}?cascade=true`)).status).toBe(204);
    expect(await status(`${API}/goals/${goal.id}`)).toBe(404);
    expect(await status(`${API}/indicators/${indicator.id}`)).toBe(404);
    expect(await status(`${API}/indicators/${a1.indicators[1].id}/measurements/2016`)).toBe(200);
    expect(await countRows(ctx)).toEqual({
      ...before,
      goals: before.goals - 1,
      indicators: before.indicators - 3,
      measurements: before.measurements - 6,
    });
  });

  it('deletes an organization with ?cascade=true: both its plans go, the other organization stays', async () => {
    const before = await countRows(ctx);
    expect((await call(ctx.app, 'DELETE', `${API}/organizations/${orgA.id}?cascade=true`)).status).toBe(204);
    expect(await status(`${API}/organizations/${orgA.id}`)).toBe(404);
    await expectAll(a1, 404);
    await expectAll(a2, 404);
    await expectAll(b1, 200);
    expect(await countRows(ctx)).toEqual({
      organizations: before.organizations - 1,
      plans: before.plans - 2,
      directions: before.directions - 4,
      goals: before.goals - 8,
      indicators: before.indicators - 16,
      measurements: before.measurements - 32,
    });
  });

  it('never orphans a child created while its plan is being cascade-deleted, nor answers 500', async () => {
    for (let round = 0; round < 3; round++) {
      const plan = await createPlan(ctx.app, orgB.id);
      await createDirection(ctx.app, plan.id);
      const [deleted, created] = await Promise.all([
        call(ctx.app, 'DELETE', `${API}/plans/${plan.id}?cascade=true`),
        call(ctx.app, 'POST', `${API}/plans/${plan.id}/directions`, { code: 'late', title: { en: 'late' } }),
      ]);
      expect(deleted.status).toBe(204);
      expect([201, 404]).toContain(created.status);
      if (created.status === 201) expect(await status(`${API}/directions/${created.body.id}`)).toBe(404);
      expect(await status(`${API}/plans/${plan.id}`)).toBe(404);
    }
    await expectAll(b1, 200);
  });

  it('cascades over a childless entity just like a plain delete', async () => {
    const plan = await createPlan(ctx.app, orgB.id);
    expect((await call(ctx.app, 'DELETE', `${API}/plans/${plan.id}?cascade=true`)).status).toBe(204);
    expect(await status(`${API}/plans/${plan.id}`)).toBe(404);
  });

  it('checks If-Match before cascading: a stale one deletes nothing', async () => {
    const before = await countRows(ctx);
    expectProblem(
      await call(ctx.app, 'DELETE', `${API}/plans/${a1.plan.id}?cascade=true`, undefined, { 'if-match': '"9"' }),
      412,
    );
    expect(await countRows(ctx)).toEqual(before);
  });

  it('answers 404 to a cascade delete of an unknown id and 400 to a bad cascade value', async () => {
    expectProblem(await call(ctx.app, 'DELETE', `${API}/plans/${unknownId()}?cascade=true`), 404);
    expectProblem(await call(ctx.app, 'DELETE', `${API}/plans/${a1.plan.id}?cascade=1`), 400, ['query.cascade']);
    await expectAll(a1, 200);
  });
});
