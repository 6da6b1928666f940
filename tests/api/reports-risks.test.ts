/** Risks (section 1 of the annual report): CRUD under a goal, the plan-wide register, rules, access, cascade. */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Json } from '../helpers/app.js';
import { bearer, call, setupApp, tokenFor } from '../helpers/app.js';
import type { Tree } from '../helpers/fixtures.js';
import {
  API,
  createGoal,
  createTree,
  errorPaths,
  expectProblem,
  expectStatus,
  queryRows,
  unknownId,
} from '../helpers/fixtures.js';
import type { LoadedDemo } from '../helpers/demo.js';
import { loadDemoThroughApi } from '../helpers/demo.js';
import { loadDemoDataset } from '../../src/demo/dataset.js';
import { sql } from 'drizzle-orm';

const ctx = setupApp({ MAX_EVENT_LOOP_DELAY_MS: 0 });
let tree: Tree;
let demo: LoadedDemo;

const riskBody = (overrides: Record<string, unknown> = {}) => ({
  year: 2016,
  risk: { kk: 'Кадрлардың жетіспеушілігі', ru: 'Нехватка кадров' },
  plannedMeasures: { kk: 'Ішкі конкурстарды жеделдету', ru: 'Ускорить внутренние конкурсы' },
  ...overrides,
});

beforeAll(async () => {
  tree = await createTree(ctx.app);
  demo = await loadDemoThroughApi(ctx.app, 'ASCSAC-RISKS');
});

describe('risks of a goal', () => {
  it('creates a risk with defaults, a Location and an ETag', async () => {
    const res = await call(ctx.app, 'POST', `${API}/goals/${tree.goal.id}/risks`, riskBody());
    const risk = expectStatus(res, 201);
    expect(risk).toMatchObject({
      goalId: tree.goal.id,
      year: 2016,
      position: 1,
      executionStatus: 'in_progress',
      actualMeasures: null,
      note: null,
      version: 1,
    });
    expect(res.headers.location).toBe(`${API}/risks/${risk.id}`);
    expect(res.headers.etag).toBe('"1"');
    const second = expectStatus(
      await call(ctx.app, 'POST', `${API}/goals/${tree.goal.id}/risks`, riskBody({ executionStatus: 'executed' })),
      201,
    );
    expect(second.position).toBe(2);
    expect(expectStatus(await call(ctx.app, 'GET', `${API}/risks/${risk.id}`), 200)).toEqual(risk);
  });

  it('lists by year then position, filters by year and status, and pages', async () => {
    const goal = await createGoal(ctx.app, tree.direction.id);
    const url = `${API}/goals/${goal.id}/risks`;
    const a = expectStatus(await call(ctx.app, 'POST', url, riskBody({ year: 2017, position: 1 })), 201);
    const b = expectStatus(
      await call(ctx.app, 'POST', url, riskBody({ year: 2016, position: 5, executionStatus: 'not_executed' })),
      201,
    );
    const c = expectStatus(await call(ctx.app, 'POST', url, riskBody({ year: 2016, position: 2 })), 201);
    const all = expectStatus(await call(ctx.app, 'GET', url), 200);
    expect(all.items.map((r: Json) => r.id)).toEqual([c.id, b.id, a.id]);
    expect(expectStatus(await call(ctx.app, 'GET', `${url}?year=2017`), 200).items.map((r: Json) => r.id)).toEqual([
      a.id,
    ]);
    expect(
      expectStatus(await call(ctx.app, 'GET', `${url}?executionStatus=not_executed`), 200).items.map((r: Json) => r.id),
    ).toEqual([b.id]);
    const first = expectStatus(await call(ctx.app, 'GET', `${url}?limit=2`), 200);
    expect(first.items).toHaveLength(2);
    const rest = expectStatus(await call(ctx.app, 'GET', `${url}?limit=2&cursor=${first.nextCursor}`), 200);
    expect(rest.items.map((r: Json) => r.id)).toEqual([a.id]);
    expect(rest.nextCursor).toBeNull();
    expectProblem(await call(ctx.app, 'GET', `${url}?executionStatus=done&year=abc`), 400, [
      'query.executionStatus',
      'query.year',
    ]);
    expectProblem(await call(ctx.app, 'GET', `${API}/goals/${unknownId()}/risks`), 404);
  });

  it('answers 400 listing every bad field, never a 500', async () => {
    const res = await call(ctx.app, 'POST', `${API}/goals/${tree.goal.id}/risks`, {
      year: 1800,
      risk: {},
      plannedMeasures: 5,
      actualMeasures: { de: 'nein' },
      executionStatus: 'done',
      position: -1,
      extra: true,
    });
    expectProblem(res, 400, [
      'body.year',
      'body.risk',
      'body.plannedMeasures',
      'body.actualMeasures.de',
      'body.executionStatus',
      'body.position',
      'body.extra',
    ]);
    expectProblem(await call(ctx.app, 'POST', `${API}/goals/${tree.goal.id}/risks`, {}), 400, [
      'body.year',
      'body.risk',
      'body.plannedMeasures',
    ]);
    expectProblem(
      await call(ctx.app, 'POST', `${API}/goals/${tree.goal.id}/risks`, 'not json', {
        'content-type': 'application/json',
      }),
      400,
    );
    expectProblem(await call(ctx.app, 'GET', `${API}/risks/not-a-uuid`), 400, ['params.id']);
  });

  it('keeps the year within the plan years, on create and on change', async () => {
    for (const year of [2013, 2019]) {
      const res = await call(ctx.app, 'POST', `${API}/goals/${tree.goal.id}/risks`, riskBody({ year }));
      expectProblem(res, 400, ['body.year']);
    }
    const risk = expectStatus(
      await call(ctx.app, 'POST', `${API}/goals/${tree.goal.id}/risks`, riskBody({ year: 2018 })),
      201,
    );
    expectProblem(await call(ctx.app, 'PATCH', `${API}/risks/${risk.id}`, { year: 2005 }), 400, ['body.year']);
  });

  it('answers 404 for an unknown goal or risk', async () => {
    expectProblem(await call(ctx.app, 'POST', `${API}/goals/${unknownId()}/risks`, riskBody()), 404);
    expectProblem(await call(ctx.app, 'GET', `${API}/risks/${unknownId()}`), 404);
    expectProblem(await call(ctx.app, 'PATCH', `${API}/risks/${unknownId()}`, { executionStatus: 'executed' }), 404);
    expectProblem(await call(ctx.app, 'DELETE', `${API}/risks/${unknownId()}`), 404);
  });

  it('updates with If-Match, clears optional text with null, and deletes', async () => {
    const risk = expectStatus(
      await call(ctx.app, 'POST', `${API}/goals/${tree.goal.id}/risks`, riskBody({ note: { ru: 'Примечание' } })),
      201,
    );
    const url = `${API}/risks/${risk.id}`;
    const done = expectStatus(
      await call(
        ctx.app,
        'PATCH',
        url,
        { executionStatus: 'executed', actualMeasures: { kk: 'Орындалды: конкурс мерзімі қысқарды' }, note: null },
        { 'if-match': '"1"' },
      ),
      200,
    );
    expect(done).toMatchObject({
      version: 2,
      executionStatus: 'executed',
      note: null,
      actualMeasures: { kk: 'Орындалды: конкурс мерзімі қысқарды' },
    });
    expectProblem(await call(ctx.app, 'PATCH', url, { executionStatus: 'not_executed' }, { 'if-match': '"1"' }), 412);
    expectProblem(await call(ctx.app, 'PATCH', url, {}), 400);
    expectProblem(await call(ctx.app, 'PATCH', url, { risk: { kk: '' } }), 400, ['body.risk']);
    expectStatus(await call(ctx.app, 'DELETE', url), 204);
    expectProblem(await call(ctx.app, 'GET', url), 404);
  });

  it('are children of their goal: a goal with risks answers 409 unless ?cascade=true', async () => {
    const goal = await createGoal(ctx.app, tree.direction.id);
    expectStatus(await call(ctx.app, 'POST', `${API}/goals/${goal.id}/risks`, riskBody()), 201);
    expectProblem(await call(ctx.app, 'DELETE', `${API}/goals/${goal.id}`), 409);
    expectStatus(await call(ctx.app, 'DELETE', `${API}/goals/${goal.id}?cascade=true`), 204);
    const [row] = await queryRows(ctx, sql`select count(*)::int as n from risks where goal_id = ${goal.id}`);
    expect(row!.n).toBe(0);
  });
});

describe('the plan-wide risk register', () => {
  const expected = loadDemoDataset().directions.flatMap((d) =>
    d.goals.flatMap((g) => g.risks.map((r) => ({ directionCode: d.code, goalCode: g.code, risk: r.risk.kk }))),
  );

  it('lists the 6 demo risks in report order with their goal and direction', async () => {
    const res = expectStatus(await call(ctx.app, 'GET', `${API}/plans/${demo.planId}/risks?year=2016`), 200);
    expect(
      res.items.map((r: Json) => ({ directionCode: r.directionCode, goalCode: r.goalCode, risk: r.risk.kk })),
    ).toEqual(expected);
    expect(res.items.map((r: Json) => r.id)).toEqual(demo.riskIds);
    expect(res.items[0]).not.toHaveProperty('riskText');
    expect(res.nextCursor).toBeNull();
  });

  it('resolves text with ?lang and pages with a cursor', async () => {
    const ru = expectStatus(
      await call(ctx.app, 'GET', `${API}/plans/${demo.planId}/risks?lang=ru&executionStatus=executed`),
      200,
    );
    expect(ru.items[0].riskText).toBe(ru.items[0].risk.ru);
    expect(ru.items).toHaveLength(6);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Json = expectStatus(
        await call(ctx.app, 'GET', `${API}/plans/${demo.planId}/risks?limit=4${cursor ? `&cursor=${cursor}` : ''}`),
        200,
      );
      seen.push(...page.items.map((r: Json) => r.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 5);
    expect(pages).toBe(2);
    expect(seen).toEqual(demo.riskIds);
  });

  it('answers an empty list for a year without risks, 404 for an unknown plan, 400 for bad input', async () => {
    expect(expectStatus(await call(ctx.app, 'GET', `${API}/plans/${demo.planId}/risks?year=2017`), 200).items).toEqual(
      [],
    );
    expectProblem(await call(ctx.app, 'GET', `${API}/plans/${unknownId()}/risks`), 404);
    const bad = await call(ctx.app, 'GET', `${API}/plans/${demo.planId}/risks?cursor=zzz&limit=0&lang=de`);
    expectProblem(bad, 400);
    expect(errorPaths(bad)).toEqual(expect.arrayContaining(['query.limit', 'query.lang']));
    expectProblem(await call(ctx.app, 'GET', `${API}/plans/${demo.planId}/risks?cursor=zzz`), 400, ['query.cursor']);
  });
});

describe('who may change risks', () => {
  it("lets viewers read only, and editors write only their own organization's risks", async () => {
    const risk = expectStatus(await call(ctx.app, 'POST', `${API}/goals/${tree.goal.id}/risks`, riskBody()), 201);
    const viewer = bearer(await tokenFor(ctx, { role: 'viewer' }));
    expectStatus(await call(ctx.app, 'GET', `${API}/risks/${risk.id}`, undefined, viewer), 200);
    expectStatus(await call(ctx.app, 'GET', `${API}/plans/${tree.plan.id}/risks`, undefined, viewer), 200);
    expectProblem(await call(ctx.app, 'POST', `${API}/goals/${tree.goal.id}/risks`, riskBody(), viewer), 403);

    const other = bearer(await tokenFor(ctx, { role: 'editor', organizationId: demo.organizationId }));
    expectProblem(await call(ctx.app, 'POST', `${API}/goals/${tree.goal.id}/risks`, riskBody(), other), 403);
    expectProblem(await call(ctx.app, 'PATCH', `${API}/risks/${risk.id}`, { executionStatus: 'executed' }, other), 403);
    expectProblem(await call(ctx.app, 'DELETE', `${API}/risks/${risk.id}`, undefined, other), 403);

    const own = bearer(await tokenFor(ctx, { role: 'editor', organizationId: tree.organization.id }));
    expectStatus(await call(ctx.app, 'PATCH', `${API}/risks/${risk.id}`, { executionStatus: 'executed' }, own), 200);
    expectStatus(await call(ctx.app, 'POST', `${API}/goals/${tree.goal.id}/risks`, riskBody(), own), 201);
    expectStatus(await call(ctx.app, 'DELETE', `${API}/risks/${risk.id}`, undefined, own), 204);
  });
});

describe('risks in the report', () => {
  it('shows the execution status as stored, and the indicator verdict as derived from plan and fact', async () => {
    const goalId = demo.goalIds.get('2.1')!;
    const risks = expectStatus(await call(ctx.app, 'GET', `${API}/goals/${goalId}/risks`), 200).items;
    expectStatus(
      await call(ctx.app, 'PATCH', `${API}/risks/${risks[0].id}`, {
        executionStatus: 'not_executed',
        note: { kk: 'Себебі: қаржы жоқ' },
      }),
      200,
    );
    // Indicator 2.1.2 is pending (no fact yet): a fact arriving turns the verdict, with nobody typing it.
    expectStatus(
      await call(ctx.app, 'PUT', `${API}/indicators/${demo.indicatorIds.get('2.1.2')}/measurements/2016`, {
        plan: 61,
        fact: 64,
      }),
      200,
    );
    const report = expectStatus(await call(ctx.app, 'GET', `${API}/plans/${demo.planId}/reports/2016?lang=kk`), 200);
    const goal = report.sections.risks.directions[1].goals[0];
    expect(goal.risks[0]).toMatchObject({
      executionStatus: 'not_executed',
      executionStatusText: 'Орындалмады',
      note: 'Себебі: қаржы жоқ',
    });
    const indicator = report.sections.indicators.directions[1].goals[0].indicators.find(
      (i: Json) => i.code === '2.1.2',
    );
    expect(indicator).toMatchObject({ plan: 61, fact: 64, status: 'achieved', verdict: 'Орындалды' });
  });
});
