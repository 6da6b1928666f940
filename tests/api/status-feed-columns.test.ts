/**
 * The read model's analysis-ready flat rows (issue 15): codes and names of the organization, plan,
 * direction and goal on every feed row, the filters goalId, directionId, code, yearFrom and yearTo,
 * and the natural order (plan code, direction position/code, goal position/code, indicator code,
 * 1.1.10 after 1.1.9) with keyset pages that hold it across page sizes.
 */
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { readStatus, statusViewColumns } from '../../src/status/read-model.js';
import type { Json } from '../helpers/app.js';
import { call, setupApp } from '../helpers/app.js';
import {
  API,
  createDirection,
  createGoal,
  createIndicator,
  createOrganization,
  createPlan,
  expectProblem,
  expectStatus,
  listAll,
  putMeasurement,
  queryRows,
  unknownId,
} from '../helpers/fixtures.js';

const ctx = setupApp();

let org: Json;
let plan: Json;
let laterPlan: Json;
const dir: Json[] = [];
const goal: Record<string, Json> = {};
const ind: Record<string, Json> = {};
let otherOrg: Json;

// Indicator codes under goal 1.1, created out of order; the natural order is 1.1.1, 1.1.1a, 1.1.2, 1.1.9, 1.1.10.
const GOAL_11_CODES = ['1.1.10', '1.1.2', '1.1.9', '1.1.1a', '1.1.1'];

beforeAll(async () => {
  org = await createOrganization(ctx.app, { code: 'ORG-NAT', name: { kk: 'Агенттік', ru: 'Агентство', en: 'Agency' } });
  otherOrg = await createOrganization(ctx.app, { code: 'ORG-OTHER' });
  // Plan codes in natural order: P-9 before P-10 (plain text order would put P-10 first).
  laterPlan = await createPlan(ctx.app, org.id, {
    code: 'P-10',
    title: { en: 'Later plan' },
    startYear: 2014,
    endYear: 2018,
  });
  plan = await createPlan(ctx.app, org.id, {
    code: 'P-9',
    title: { kk: 'Жоспар', en: 'Plan nine' },
    startYear: 2014,
    endYear: 2018,
  });
  // Direction 2 has the lower position: positions order directions before codes.
  dir[1] = await createDirection(ctx.app, plan.id, { code: '1', position: 5, title: { en: 'Direction one' } });
  dir[2] = await createDirection(ctx.app, plan.id, {
    code: '2',
    position: 1,
    title: { ru: 'Направление два', en: 'Direction two' },
  });
  goal['1.1'] = await createGoal(ctx.app, dir[1].id, { code: '1.1', position: 0, title: { en: 'Goal 1.1' } });
  goal['1.2'] = await createGoal(ctx.app, dir[1].id, { code: '1.2', position: 0, title: { en: 'Goal 1.2' } });
  goal['2.1'] = await createGoal(ctx.app, dir[2].id, { code: '2.1', position: 0, title: { kk: 'Мақсат 2.1' } });
  for (const code of GOAL_11_CODES) ind[code] = await createIndicator(ctx.app, goal['1.1'].id, { code, position: 0 });
  ind['1.2.1'] = await createIndicator(ctx.app, goal['1.2'].id, { code: '1.2.1', position: 0 });
  ind['2.1.1'] = await createIndicator(ctx.app, goal['2.1'].id, { code: '2.1.1', position: 0 });
  const laterDir = await createDirection(ctx.app, laterPlan.id, { code: '1', position: 0 });
  const laterGoal = await createGoal(ctx.app, laterDir.id, { code: '1.1', position: 0 });
  ind['later 1.1.2'] = await createIndicator(ctx.app, laterGoal.id, { code: '1.1.2', position: 0 });
  for (const year of [2015, 2016, 2017]) {
    await putMeasurement(ctx.app, ind['1.1.9'].id, year, { plan: 10, fact: year - 2005 });
    await putMeasurement(ctx.app, ind['1.1.10'].id, year, { plan: 50, fact: 40.5 });
  }
  await putMeasurement(ctx.app, ind['later 1.1.2'].id, 2016, { plan: 1, fact: 1 });
});

async function feed(query: string, limit = 500): Promise<Json[]> {
  return (await listAll(ctx.app, `${API}/status?${query}`, limit)).items;
}
const codesOf = (rows: Json[]) => rows.map((r) => `${r.planCode}/${r.directionCode}/${r.goalCode}/${r.code}`);

const NATURAL_2016 = [
  'P-9/2/2.1/2.1.1',
  'P-9/1/1.1/1.1.1',
  'P-9/1/1.1/1.1.1a',
  'P-9/1/1.1/1.1.2',
  'P-9/1/1.1/1.1.9',
  'P-9/1/1.1/1.1.10',
  'P-9/1/1.2/1.2.1',
  'P-10/1/1.1/1.1.2',
];

describe('natural order', () => {
  it('orders a year by plan code, direction position, goal, then indicator code with numbers compared as numbers', async () => {
    expect(codesOf(await feed('year=2016'))).toEqual(NATURAL_2016);
  });

  it('keeps the order across keyset pages of every size, each row once', async () => {
    for (const limit of [1, 2, 3, 7]) expect(codesOf(await feed('year=2016', limit))).toEqual(NATURAL_2016);
  });

  it("without a year keeps an indicator's years together, in year order", async () => {
    const rows = await feed('planId=' + plan.id, 2);
    expect(rows.map((r) => `${r.code}:${r.year}`)).toEqual([
      '1.1.9:2015',
      '1.1.9:2016',
      '1.1.9:2017',
      '1.1.10:2015',
      '1.1.10:2016',
      '1.1.10:2017',
    ]);
  });

  it('stores the natural key once per indicator, equal on both databases', async () => {
    const rows = await queryRows(
      ctx,
      sql`select i.code from indicators i where i.goal_id = ${goal['1.1'].id} order by i.sort_key, i.id`,
    );
    expect(rows.map((r) => r.code)).toEqual(['1.1.1', '1.1.1a', '1.1.2', '1.1.9', '1.1.10']);
    const [keys] = await queryRows(
      ctx,
      sql`select nysana_natural_key('007') = nysana_natural_key('7') as zeros, nysana_natural_key('0') < nysana_natural_key('1') as zero,
        nysana_natural_key('') as empty, nysana_natural_key('A10') > nysana_natural_key('A9') as letters,
        nysana_natural_key('2.1') collate "C" < nysana_natural_key('10.1') collate "C" as first_run`,
    );
    expect(keys).toEqual({ zeros: true, zero: true, empty: '', letters: true, first_run: true });
  });
});

describe('codes and names of the tree on every flat row', () => {
  it('carries organization, plan, direction and goal codes and localized names, resolved with ?lang', async () => {
    const [row] = await feed(`year=2016&code=2.1.1&lang=ru`);
    expect(row).toMatchObject({
      organizationId: org.id,
      organizationCode: 'ORG-NAT',
      organizationName: org.name,
      organizationNameText: 'Агентство',
      planId: plan.id,
      planCode: 'P-9',
      planTitle: plan.title,
      planTitleText: 'Жоспар', // no ru: falls back to kk
      directionId: dir[2].id,
      directionCode: '2',
      directionTitle: dir[2].title,
      directionTitleText: 'Направление два',
      goalId: goal['2.1'].id,
      goalCode: '2.1',
      goalTitle: goal['2.1'].title,
      goalTitleText: 'Мақсат 2.1',
      indicatorId: ind['2.1.1'].id,
      code: '2.1.1',
    });
  });

  it('falls back kk, ru, en for a missing language, and leaves the text fields out without a language', async () => {
    const [ru] = await feed(`year=2016&code=2.1.1&lang=ru`);
    expect(ru.planTitleText).toBe('Жоспар');
    const [plain] = await feed(`year=2016&code=2.1.1`);
    expect(plain.organizationName).toEqual(org.name);
    for (const key of ['organizationNameText', 'planTitleText', 'directionTitleText', 'goalTitleText', 'nameText'])
      expect(plain).not.toHaveProperty(key);
  });

  it('comes from the read model for every flat read (the columns other deliveries select)', async () => {
    const rows = await readStatus(ctx.db.database.db, {
      columns: statusViewColumns,
      filter: { year: 2016, goalId: goal['2.1'].id },
      order: { by: 'natural' },
    });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      organizationCode: 'ORG-NAT',
      planCode: 'P-9',
      directionCode: '2',
      goalCode: '2.1',
      code: '2.1.1',
    });
  });
});

describe('filters', () => {
  it('goalId, directionId and code narrow the rows', async () => {
    expect(codesOf(await feed(`year=2016&goalId=${goal['1.1'].id}`))).toEqual(NATURAL_2016.slice(1, 6));
    expect(codesOf(await feed(`year=2016&directionId=${dir[1].id}`))).toEqual(NATURAL_2016.slice(1, 7));
    // A code shared by two plans: both rows; with the plan, one.
    expect(codesOf(await feed('year=2016&code=1.1.2'))).toEqual(['P-9/1/1.1/1.1.2', 'P-10/1/1.1/1.1.2']);
    expect(codesOf(await feed(`year=2016&code=1.1.2&planId=${laterPlan.id}`))).toEqual(['P-10/1/1.1/1.1.2']);
  });

  it('code is exact: no prefix, case or natural-key match', async () => {
    expect(await feed('year=2016&code=1.1')).toEqual([]);
    expect(await feed('year=2016&code=1.1.1A')).toEqual([]);
    expect(await feed('year=2016&code=1.1.09')).toEqual([]);
  });

  it("an unknown goal or direction, or another organization's, matches nothing (200, empty)", async () => {
    expect(await feed(`year=2016&goalId=${unknownId()}`)).toEqual([]);
    expect(await feed(`year=2016&directionId=${unknownId()}`)).toEqual([]);
    expect(await feed(`year=2016&goalId=${goal['1.1'].id}&organizationId=${otherOrg.id}`)).toEqual([]);
    expect(await feed(`year=2016&directionId=${dir[1].id}&planId=${laterPlan.id}`)).toEqual([]);
  });

  it('yearFrom and yearTo select stored measurements in the range, bounds included', async () => {
    const years = async (q: string) => (await feed(`planId=${plan.id}&${q}`, 2)).map((r) => `${r.code}:${r.year}`);
    expect(await years('yearFrom=2016')).toEqual(['1.1.9:2016', '1.1.9:2017', '1.1.10:2016', '1.1.10:2017']);
    expect(await years('yearTo=2015')).toEqual(['1.1.9:2015', '1.1.10:2015']);
    expect(await years('yearFrom=2016&yearTo=2016')).toEqual(['1.1.9:2016', '1.1.10:2016']);
    expect(await years('yearFrom=2018')).toEqual([]);
    expect(await years('yearFrom=2016&code=1.1.10')).toEqual(['1.1.10:2016', '1.1.10:2017']);
  });

  it('refuses a range that means nothing, or one given with year (400 problem, naming the parameter)', async () => {
    expectProblem(await call(ctx.app, 'GET', `${API}/status?yearFrom=2017&yearTo=2016`), 400, ['query.yearTo']);
    expectProblem(await call(ctx.app, 'GET', `${API}/status?year=2016&yearFrom=2016`), 400, ['query.yearFrom']);
    expectProblem(await call(ctx.app, 'GET', `${API}/status?year=2016&yearTo=2016`), 400, ['query.yearTo']);
    expectProblem(await call(ctx.app, 'GET', `${API}/status?year=2016&yearTo=2016&format=csv`), 400, ['query.yearTo']);
  });

  it('refuses malformed values (400): years out of range or not integers, ids not UUIDs, codes too long', async () => {
    for (const q of [
      'yearFrom=1899',
      'yearTo=2201',
      'yearFrom=2016.5',
      'yearFrom=abc',
      'yearFrom=',
      'goalId=1',
      'directionId=x',
      `code=${'9'.repeat(65)}`,
    ]) {
      const res = await call(ctx.app, 'GET', `${API}/status?${q}`);
      expect(res.status, q).toBe(400);
    }
  });

  it('refuses cursors of another shape: the old (year, indicatorId) ones, wrong types, too long codes', async () => {
    const cursor = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const good = ['P-9', plan.id, 1, '2', 0, '2.1', '2.1.1', ind['2.1.1'].id, 2016];
    const bad = [
      [2016, ind['2.1.1'].id],
      good.slice(0, 8),
      [...good, 1],
      good.map((v, i) => (i === 2 ? '1' : v)),
      good.map((v, i) => (i === 1 ? 'not-a-uuid' : v)),
      good.map((v, i) => (i === 6 ? 'x'.repeat(65) : v)),
      good.map((v, i) => (i === 4 ? 1.5 : v)),
      good.map((v, i) => (i === 8 ? 2 ** 40 : v)),
      { a: 1 },
    ];
    for (const b of bad)
      expectProblem(await call(ctx.app, 'GET', `${API}/status?year=2016&cursor=${cursor(b)}`), 400, ['query.cursor']);
    expectProblem(await call(ctx.app, 'GET', `${API}/status?year=2016&cursor=%%%`), 400, ['query.cursor']);
    // A well-formed position of a row that no longer exists still pages on from where it was.
    const ghost = ['P-9', plan.id, 1, '2', 0, '2.1', '2.1.1', 'ffffffff-ffff-4fff-bfff-ffffffffffff', 2016];
    const page = expectStatus(
      await call(ctx.app, 'GET', `${API}/status?year=2016&cursor=${cursor(ghost)}&limit=500`),
      200,
    );
    expect(codesOf(page.items)).toEqual(NATURAL_2016.slice(1));
  });
});

// Last: it adds rows to the later plan.
describe('natural order after a change', () => {
  it('follows renumbered positions and changed codes at once (the stored keys are kept by triggers)', async () => {
    const moved = await createDirection(ctx.app, laterPlan.id, { code: '0', position: 9 });
    const g = await createGoal(ctx.app, moved.id, { code: '0.1', position: 0 });
    await createIndicator(ctx.app, g.id, { code: '0.1.1', position: 0 });
    const codes = codesOf(await feed(`year=2016&planId=${laterPlan.id}`));
    expect(codes).toEqual(['P-10/1/1.1/1.1.2', 'P-10/0/0.1/0.1.1']);
    expectStatus(
      await call(ctx.app, 'PATCH', `${API}/directions/${moved.id}`, { position: 0 }, { 'if-match': '"1"' }),
      200,
    );
    expect(codesOf(await feed(`year=2016&planId=${laterPlan.id}`))).toEqual(['P-10/0/0.1/0.1.1', 'P-10/1/1.1/1.1.2']);
    // The goal's code, then the plan's code: P-10 renamed P-8 comes before P-9.
    expectStatus(await call(ctx.app, 'PATCH', `${API}/goals/${g.id}`, { code: '9.1' }, { 'if-match': '"1"' }), 200);
    expect(codesOf(await feed(`year=2016&planId=${laterPlan.id}`))).toEqual(['P-10/0/9.1/0.1.1', 'P-10/1/1.1/1.1.2']);
    expectStatus(
      await call(
        ctx.app,
        'PATCH',
        `${API}/plans/${laterPlan.id}`,
        { code: 'P-8' },
        { 'if-match': `"${laterPlan.version}"` },
      ),
      200,
    );
    expect(codesOf(await feed('year=2016')).slice(0, 2)).toEqual(['P-8/0/9.1/0.1.1', 'P-8/1/1.1/1.1.2']);
    await expectKeysCurrent();
  });

  it("keeps an indicator's change stamp when only its parents move or are renamed, and stamps its own changes", async () => {
    const d = await createDirection(ctx.app, plan.id, { code: '7', position: 7 });
    const g = await createGoal(ctx.app, d.id, { code: '7.1', position: 0 });
    const i = await createIndicator(ctx.app, g.id, { code: '7.1.2', position: 0 });
    const stamp = async () => {
      const [row] = await queryRows(
        ctx,
        sql`select change_xid::text as x, sort_key as k from indicators where id = ${i.id}`,
      );
      return row as { x: string; k: string };
    };
    const before = await stamp();
    expectStatus(
      await call(ctx.app, 'PATCH', `${API}/directions/${d.id}`, { position: 8 }, { 'if-match': '"1"' }),
      200,
    );
    expectStatus(await call(ctx.app, 'PATCH', `${API}/goals/${g.id}`, { code: '7.10' }, { 'if-match': '"1"' }), 200);
    const moved = await stamp();
    expect(moved.k).not.toBe(before.k);
    expect(moved.x).toBe(before.x);
    // The indicator's own code: a new key and a new stamp; its name: a new stamp, the same key.
    expectStatus(
      await call(ctx.app, 'PATCH', `${API}/indicators/${i.id}`, { code: '7.10.1' }, { 'if-match': '"1"' }),
      200,
    );
    const renamed = await stamp();
    expect(renamed.k).not.toBe(moved.k);
    expect(BigInt(renamed.x)).toBeGreaterThan(BigInt(moved.x));
    expectStatus(
      await call(ctx.app, 'PATCH', `${API}/indicators/${i.id}`, { name: { en: 'Renamed' } }, { 'if-match': '"2"' }),
      200,
    );
    const named = await stamp();
    expect(named.k).toBe(renamed.k);
    expect(BigInt(named.x)).toBeGreaterThan(BigInt(renamed.x));
    expect(codesOf(await feed(`year=2016&directionId=${d.id}`))).toEqual(['P-9/7/7.10/7.10.1']);
    await expectKeysCurrent();
  });
});

/** Every indicator's stored key equals the one computed from its current tree. */
async function expectKeysCurrent() {
  const [check] = await queryRows(
    ctx,
    sql`select count(*)::int as n,
      count(*) filter (where i.sort_key = nysana_status_sort_key(p.code, p.id, d.position, d.code, g.position, g.code, i.code))::int as equal
      from indicators i join goals g on g.id = i.goal_id join directions d on d.id = g.direction_id join plans p on p.id = d.plan_id`,
  );
  expect(check!.n).toBeGreaterThan(0);
  expect(check!.equal).toBe(check!.n);
}
