import { beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/demo/seed.js';
import { buildApp } from '../../src/app.js';
import { call, setupApp, testConfig } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import type { LoadedDemo } from '../helpers/demo.js';
import { loadDemoThroughApi } from '../helpers/demo.js';

const ctx = setupApp();
let demo: LoadedDemo;

beforeAll(async () => {
  demo = await loadDemoThroughApi(ctx.app);
});

type Row = { code: string; status: string; [k: string]: unknown };
const flatten = (body: { directions: { goals: { indicators: Row[] }[] }[] }) =>
  body.directions.flatMap((d) => d.goals.flatMap((g) => g.indicators));

describe('plan status of the 2016 demo report', () => {
  it('derives every verdict the report prints: 14 achieved, 4 not achieved, 1 pending', async () => {
    const res = await call(ctx.app, 'GET', `/api/v1/plans/${demo.planId}/status?year=2016`);
    expect(res.status).toBe(200);
    const rows = flatten(res.body);
    expect(rows).toHaveLength(19);
    for (const row of rows)
      expect({ code: row.code, status: row.status }).toEqual({ code: row.code, status: demo.verdicts.get(row.code) });
    const { targetRate, meanDegree, weightedDegree, score, overdue, ...today } = res.body.summary;
    expect(today).toEqual({ total: 19, achieved: 14, notAchieved: 4, pending: 1, noTarget: 0, achievementRate: 77.78 });
    // Evaluation methods (issue 18), the built-in default: 14 of the 19 with a target; the score is today's rate.
    expect({ targetRate, score, overdue }).toEqual({ targetRate: 73.68, score: 77.78, overdue: 0 });
    expect(weightedDegree).toBe(meanDegree); // every weight is 1
    expect(res.body.evaluationMethod).toMatchObject({
      methodId: null,
      versionId: null,
      rules: { cap: null, bands: [], rollUp: 'share' },
    });
  });

  it('keeps the report structure and rolls summaries up per goal and direction', async () => {
    const res = await call(ctx.app, 'GET', `/api/v1/plans/${demo.planId}/status?year=2016`);
    expect(res.body.directions.map((d: { code: string }) => d.code)).toEqual(['1', '2', '3']);
    const goals = res.body.directions.flatMap((d: { goals: { code: string }[] }) => d.goals.map((g) => g.code));
    expect(goals).toEqual(['1.1', '2.1', '3.1', '3.2']);
    for (const d of res.body.directions) {
      const sum = d.goals.reduce((n: number, g: { summary: { total: number } }) => n + g.summary.total, 0);
      expect(d.summary.total).toBe(sum);
      for (const g of d.goals) expect(g.summary.total).toBe(g.indicators.length);
    }
  });

  it('shows the lower-is-better percentages and the CPI rank with its trend and percentile', async () => {
    const rows = flatten((await call(ctx.app, 'GET', `/api/v1/plans/${demo.planId}/status?year=2016`)).body);
    const byCode = new Map(rows.map((r) => [r.code, r]));
    expect(byCode.get('1.1.1')).toMatchObject({
      betterWhen: 'lower',
      plan: 9,
      fact: 6.3,
      status: 'achieved',
      achievementPercent: 142.86,
      deviation: -2.7,
    });
    expect(byCode.get('1.1.2')).toMatchObject({
      plan: 1.3,
      fact: 1.3,
      status: 'achieved',
      achievementPercent: 100,
      deviation: 0,
      previousFact: 1.5,
      trend: 'improved',
    });
    expect(byCode.get('3.2.1')).toMatchObject({
      valueType: 'rank',
      plan: 120,
      fact: 131,
      ratingSize: 176,
      score: 29,
      status: 'not_achieved',
      achievementPercent: 91.6,
      deviation: 11,
      previousFact: 123,
      trend: 'worsened',
      percentile: 25.71,
      previousPercentile: 26.95,
    });
  });

  it('adds resolved text with ?lang and falls back when a language is missing', async () => {
    const res = await call(ctx.app, 'GET', `/api/v1/plans/${demo.planId}/status?year=2016&lang=ru`);
    const row = flatten(res.body)[0]!;
    expect(row.nameText).toBe((row.name as { ru: string }).ru);
    expect(res.body.directions[0].titleText).toBe(res.body.directions[0].title.ru);
    const plain = await call(ctx.app, 'GET', `/api/v1/plans/${demo.planId}/status?year=2016`);
    expect(flatten(plain.body)[0]).not.toHaveProperty('nameText');
    const viaHeader = await call(ctx.app, 'GET', `/api/v1/plans/${demo.planId}/status?year=2016`, undefined, {
      'accept-language': 'en-GB,en;q=0.9',
    });
    expect(flatten(viaHeader.body)[0]!.nameText).toBe((flatten(viaHeader.body)[0]!.name as { en: string }).en);
  });

  it('answers a year without data as no_target, and 400/404 for bad input', async () => {
    const res = await call(ctx.app, 'GET', `/api/v1/plans/${demo.planId}/status?year=2018`);
    expect(res.body.summary).toMatchObject({ total: 19, noTarget: 19, achievementRate: null });
    expect((await call(ctx.app, 'GET', `/api/v1/plans/${demo.planId}/status?year=2019`)).status).toBe(400);
    expect((await call(ctx.app, 'GET', `/api/v1/plans/${demo.planId}/status`)).status).toBe(400);
    expect((await call(ctx.app, 'GET', `/api/v1/plans/${demo.planId}/status?year=abc`)).status).toBe(400);
    expect(
      (await call(ctx.app, 'GET', `/api/v1/plans/00000000-0000-4000-8000-000000000000/status?year=2016`)).status,
    ).toBe(404);
  });
});

describe('indicator status', () => {
  it('answers one year, or every plan year and measured year', async () => {
    const id = demo.indicatorIds.get('3.2.2')!; // WEF bribes rank, with history 2010, 2014, 2015
    const one = await call(ctx.app, 'GET', `/api/v1/indicators/${id}/status?year=2015`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ year: 2015, fact: 64, previousFact: 80, trend: 'improved', status: 'no_target' });
    const all = await call(ctx.app, 'GET', `/api/v1/indicators/${id}/status`);
    const years = all.body.items.map((i: { year: number }) => i.year);
    expect(years).toEqual([2010, 2014, 2015, 2016, 2017, 2018]);
    expect(all.body.items.find((i: { year: number }) => i.year === 2017)).toMatchObject({
      status: 'no_target',
      fact: null,
    });
    expect((await call(ctx.app, 'GET', `/api/v1/indicators/00000000-0000-4000-8000-000000000000/status`)).status).toBe(
      404,
    );
  });
});

describe('flat status feed', () => {
  it('pages through every 2016 row exactly once and filters by status', async () => {
    const seen: Row[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: { items: Row[]; nextCursor: string | null } } = await call(
        ctx.app,
        'GET',
        `/api/v1/status?year=2016&planId=${demo.planId}&limit=5${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.status).toBe(200);
      seen.push(...res.body.items);
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(4);
    expect(new Set(seen.map((r) => r.code)).size).toBe(19);
    const notAchieved = await call(ctx.app, 'GET', `/api/v1/status?year=2016&status=not_achieved`);
    expect(notAchieved.body.items.map((r: Row) => r.code).sort()).toEqual(
      [...demo.verdicts]
        .filter(([, v]) => v === 'not_achieved')
        .map(([c]) => c)
        .sort(),
    );
  });

  it('?status= answers exactly the rows with that status: the four filters split the whole feed', async () => {
    const all = (await call(ctx.app, 'GET', `/api/v1/status?limit=500`)).body.items as Row[];
    expect(all.length).toBeGreaterThan(19);
    const key = (r: Row) => `${r.indicatorId}/${r.year}`;
    const seen: string[] = [];
    for (const status of ['achieved', 'not_achieved', 'pending', 'no_target']) {
      const filtered = (await call(ctx.app, 'GET', `/api/v1/status?limit=500&status=${status}`)).body.items as Row[];
      expect(filtered.length).toBeGreaterThan(0);
      expect(new Set(filtered.map((r) => r.status))).toEqual(new Set([status]));
      expect(filtered.map(key)).toEqual(all.filter((r) => r.status === status).map(key));
      seen.push(...filtered.map(key));
    }
    expect(seen.sort()).toEqual(all.map(key).sort());
  });

  it('answers CSV with a BOM on Accept: text/csv or ?format=csv', async () => {
    const res = await call(ctx.app, 'GET', `/api/v1/status?year=2016&format=csv&lang=kk&limit=500`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const text = res.raw.body;
    expect(text.startsWith('\uFEFF')).toBe(true);
    const lines = text.trim().split('\r\n');
    expect(lines).toHaveLength(20);
    expect(lines[0]).toContain('indicatorId');
    const cpi = lines.find((l) => l.includes(demo.indicatorIds.get('3.2.1')!))!;
    expect(cpi.split(',')).toEqual(
      expect.arrayContaining(['3.2.1', 'rank', 'lower', '2016', '120', '131', '176', 'not_achieved']),
    );
    const viaAccept = await call(ctx.app, 'GET', `/api/v1/status?year=2016&limit=2`, undefined, { accept: 'text/csv' });
    expect(viaAccept.headers['content-type']).toMatch(/^text\/csv/);
    expect(viaAccept.headers['x-next-cursor']).toBeTruthy();
    expect(viaAccept.headers.link).toContain('rel="next"');
  });

  it('rejects a bad cursor and a bad status with 400', async () => {
    expect((await call(ctx.app, 'GET', `/api/v1/status?cursor=zzz`)).status).toBe(400);
    expect((await call(ctx.app, 'GET', `/api/v1/status?status=great`)).status).toBe(400);
  });
});

describe('seed:demo', () => {
  it('loads the whole report into an empty database in one go', async () => {
    const fresh = await createTestDatabase();
    try {
      const result = await seedDemo(fresh.database.db);
      expect(result.loaded).toBe(true);
      const app = await buildApp({ db: fresh.database.db, config: testConfig, logger: false });
      const res = await call(app, 'GET', `/api/v1/plans/${result.planId}/status?year=2016`);
      expect(res.body.summary).toMatchObject({ total: 19, achieved: 14, notAchieved: 4, pending: 1 });
      await app.close();
    } finally {
      await fresh.dispose();
    }
  });

  it('loads the dataset once and leaves a second run a no-op', async () => {
    // The API already created the ASCSAC organization in this database: the seed must not duplicate it.
    const again = await seedDemo(ctx.db.database.db);
    expect(again.loaded).toBe(false);
    const orgs = await call(ctx.app, 'GET', '/api/v1/organizations?code=ASCSAC');
    expect(orgs.status, JSON.stringify(orgs.body)).toBe(200);
    expect(orgs.body.items).toHaveLength(1);
  });
});
