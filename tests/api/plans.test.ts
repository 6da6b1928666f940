import { beforeAll, describe, expect, it } from 'vitest';
import { call, setupApp } from '../helpers/app.js';
import type { Json } from '../helpers/app.js';
import {
  API,
  createDirection,
  createGoal,
  createIndicator,
  createOrganization,
  createPlan,
  errorPaths,
  expectProblem,
  expectStatus,
  planBody,
  putMeasurement,
  tick,
  unknownId,
} from '../helpers/fixtures.js';

const ctx = setupApp();

describe('plans', () => {
  let org: Json;
  let otherOrg: Json;
  beforeAll(async () => {
    org = await createOrganization(ctx.app);
    otherOrg = await createOrganization(ctx.app);
  });

  describe('create and read', () => {
    it('creates a plan with approval and answers 201, ETag "1" and a Location that reads it back', async () => {
      const body = planBody(org.id, {
        code: '2014-2018',
        approval: { document: { ru: 'Приказ Председателя № 63' }, date: '2016-11-22' },
      });
      const res = await call(ctx.app, 'POST', `${API}/plans`, body);
      expect(res.status).toBe(201);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers.etag).toBe('"1"');
      expect(res.body).toMatchObject({ ...body, version: 1 });
      expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(res.body.createdAt).toBe(res.body.updatedAt);
      expect(new Date(res.body.createdAt).toISOString()).toBe(res.body.createdAt);
      expect(res.headers.location).toBe(`${API}/plans/${res.body.id}`);

      const got = await call(ctx.app, 'GET', res.headers.location as string);
      expect(got.status).toBe(200);
      expect(got.headers.etag).toBe('"1"');
      expect(got.body).toEqual(res.body);
    });

    it('returns approval null when none is given', async () => {
      const plan = await createPlan(ctx.app, org.id);
      expect(plan.approval).toBeNull();
      expect(Object.keys(plan).sort()).toEqual(
        [
          'approval',
          'code',
          'createdAt',
          'endYear',
          'evaluationMethodId',
          'id',
          'organizationId',
          'startYear',
          'title',
          'updatedAt',
          'version',
        ].sort(),
      );
    });

    it('accepts a one-year plan (startYear = endYear) and the extreme years 1900 and 2200, and stores them', async () => {
      for (const [startYear, endYear] of [
        [2020, 2020],
        [1900, 2200],
        [1900, 1900],
        [2200, 2200],
      ]) {
        const created = expectStatus(
          await call(ctx.app, 'POST', `${API}/plans`, planBody(org.id, { startYear, endYear })),
          201,
        );
        expect(created).toMatchObject({ startYear, endYear });
        expect(expectStatus(await call(ctx.app, 'GET', `${API}/plans/${created.id}`), 200)).toMatchObject({
          startYear,
          endYear,
          version: 1,
        });
      }
    });

    it('lists plans filtered by organizationId and by code', async () => {
      const a = await createPlan(ctx.app, otherOrg.id, { code: 'FILTER-A' });
      const b = await createPlan(ctx.app, otherOrg.id, { code: 'FILTER-B' });
      const sameCodeElsewhere = await createPlan(ctx.app, org.id, { code: 'FILTER-A' });

      const byOrg = expectStatus(await call(ctx.app, 'GET', `${API}/plans?organizationId=${otherOrg.id}`), 200);
      expect(byOrg.items.map((p: Json) => p.id)).toEqual([a.id, b.id]);
      expect(byOrg.nextCursor).toBeNull();

      const byCode = expectStatus(await call(ctx.app, 'GET', `${API}/plans?code=FILTER-A`), 200);
      expect(byCode.items.map((p: Json) => p.id).sort()).toEqual([a.id, sameCodeElsewhere.id].sort());

      const both = expectStatus(await call(ctx.app, 'GET', `${API}/plans?code=FILTER-A&organizationId=${org.id}`), 200);
      expect(both.items.map((p: Json) => p.id)).toEqual([sameCodeElsewhere.id]);

      const none = expectStatus(await call(ctx.app, 'GET', `${API}/plans?organizationId=${unknownId()}`), 200);
      expect(none).toEqual({ items: [], nextCursor: null });

      expectProblem(await call(ctx.app, 'GET', `${API}/plans?organizationId=nope`), 400, ['query.organizationId']);
    });
  });

  describe('bad input on create', () => {
    it('lists every missing required field', async () => {
      const res = await call(ctx.app, 'POST', `${API}/plans`, {});
      expectProblem(res, 400, ['body.organizationId', 'body.code', 'body.title', 'body.startYear', 'body.endYear']);
    });

    it.each([
      ['organizationId', 'body.organizationId'],
      ['code', 'body.code'],
      ['title', 'body.title'],
      ['startYear', 'body.startYear'],
      ['endYear', 'body.endYear'],
    ])('rejects a body without %s', async (field, path) => {
      const body: Record<string, unknown> = planBody(org.id);
      delete body[field];
      const res = await call(ctx.app, 'POST', `${API}/plans`, body);
      expectProblem(res, 400, [path]);
      expect(errorPaths(res)).toEqual([path]);
    });

    it.each([
      ['startYear as a string', { startYear: '2014' }, 'body.startYear'],
      ['startYear as a fraction', { startYear: 2014.5 }, 'body.startYear'],
      ['endYear as null', { endYear: null }, 'body.endYear'],
      ['title as a plain string', { title: 'План' }, 'body.title'],
      ['title with no non-empty language', { title: { kk: '   ', ru: '' } }, 'body.title'],
      ['title with an unknown language', { title: { de: 'Plan' } }, 'body.title.de'],
      ['code as a number', { code: 2014 }, 'body.code'],
      ['code with a space inside', { code: 'a b' }, 'body.code'],
      ['code empty', { code: '' }, 'body.code'],
      ['organizationId not a uuid', { organizationId: 'org-1' }, 'body.organizationId'],
      ['approval without date', { approval: { document: { en: 'Order 63' } } }, 'body.approval.date'],
      [
        'approval with an impossible date',
        { approval: { document: { en: 'Order 63' }, date: '2016-02-30' } },
        'body.approval.date',
      ],
      ['startYear before 1900', { startYear: 1899 }, 'body.startYear'],
      ['endYear after 2200', { endYear: 2201 }, 'body.endYear'],
      ['a huge startYear', { startYear: 1e16 }, 'body.startYear'],
    ])('rejects %s', async (_label, override, path) => {
      const res = await call(ctx.app, 'POST', `${API}/plans`, planBody(org.id, override));
      expectProblem(res, 400, [path]);
    });

    it('rejects an unknown field, naming it', async () => {
      const res = await call(ctx.app, 'POST', `${API}/plans`, { ...planBody(org.id), status: 'approved' });
      expectProblem(res, 400, ['body.status']);
      expect(res.body.errors.find((e: Json) => e.path === 'body.status').message).toBe('unknown field');
    });

    it('rejects client-set id, version and timestamps as unknown fields', async () => {
      const res = await call(ctx.app, 'POST', `${API}/plans`, { ...planBody(org.id), id: unknownId(), version: 9 });
      expectProblem(res, 400, ['body.id', 'body.version']);
    });

    it('rejects startYear after endYear (400 on endYear) and writes nothing', async () => {
      const body = planBody(org.id, { code: 'BACKWARDS', startYear: 2019, endYear: 2018 });
      expectProblem(await call(ctx.app, 'POST', `${API}/plans`, body), 400, ['body.endYear']);
      const list = expectStatus(await call(ctx.app, 'GET', `${API}/plans?code=BACKWARDS`), 200);
      expect(list.items).toEqual([]);
    });

    it('rejects an unknown organizationId with 400 on body.organizationId (not 404, not 409, not 500)', async () => {
      const res = await call(ctx.app, 'POST', `${API}/plans`, planBody(unknownId(), { code: 'ORPHAN' }));
      expectProblem(res, 400, ['body.organizationId']);
      expect(errorPaths(res)).toEqual(['body.organizationId']);
      expect(expectStatus(await call(ctx.app, 'GET', `${API}/plans?code=ORPHAN`), 200).items).toEqual([]);
    });

    it('rejects a duplicate code within the organization (409) but allows it in another one', async () => {
      const first = await createPlan(ctx.app, org.id, { code: 'DUP-PLAN', title: { en: 'first' } });
      const dup = await call(
        ctx.app,
        'POST',
        `${API}/plans`,
        planBody(org.id, { code: 'DUP-PLAN', title: { en: 'second' } }),
      );
      expectProblem(dup, 409);
      const elsewhere = await call(ctx.app, 'POST', `${API}/plans`, planBody(otherOrg.id, { code: 'DUP-PLAN' }));
      expect(elsewhere.status).toBe(201);

      const stored = expectStatus(
        await call(ctx.app, 'GET', `${API}/plans?code=DUP-PLAN&organizationId=${org.id}`),
        200,
      );
      expect(stored.items).toHaveLength(1);
      expect(stored.items[0]).toEqual(first);
    });

    it('trims the code, so " DUP-TRIM " collides with "DUP-TRIM"', async () => {
      const created = await createPlan(ctx.app, org.id, { code: ' DUP-TRIM ' });
      expect(created.code).toBe('DUP-TRIM');
      expectProblem(await call(ctx.app, 'POST', `${API}/plans`, planBody(org.id, { code: 'DUP-TRIM' })), 409);
    });
  });

  describe('update', () => {
    it('patches a field: version 2, new ETag, updatedAt moves, createdAt and other fields stay', async () => {
      const plan = await createPlan(ctx.app, org.id, {
        approval: { document: { en: 'Order 63' }, date: '2016-11-22' },
      });
      await tick();
      const res = await call(ctx.app, 'PATCH', `${API}/plans/${plan.id}`, { title: { kk: 'Жаңа атауы' } });
      expect(res.status).toBe(200);
      expect(res.headers.etag).toBe('"2"');
      expect(res.body).toEqual({ ...plan, title: { kk: 'Жаңа атауы' }, version: 2, updatedAt: res.body.updatedAt });
      expect(Date.parse(res.body.updatedAt)).toBeGreaterThan(Date.parse(plan.updatedAt));

      await tick();
      const again = await call(ctx.app, 'PATCH', `${API}/plans/${plan.id}`, { approval: null, endYear: 2019 });
      expect(again.status).toBe(200);
      expect(again.headers.etag).toBe('"3"');
      expect(again.body).toMatchObject({ version: 3, approval: null, endYear: 2019, startYear: 2014 });
      expect(Date.parse(again.body.updatedAt)).toBeGreaterThan(Date.parse(res.body.updatedAt));
      expect(expectStatus(await call(ctx.app, 'GET', `${API}/plans/${plan.id}`), 200)).toEqual(again.body);
    });

    it('rejects an empty PATCH body, an unknown field and organizationId (not movable) with 400', async () => {
      const plan = await createPlan(ctx.app, org.id);
      expectProblem(await call(ctx.app, 'PATCH', `${API}/plans/${plan.id}`, {}), 400);
      expectProblem(await call(ctx.app, 'PATCH', `${API}/plans/${plan.id}`, { owner: 'x' }), 400, ['body.owner']);
      expectProblem(await call(ctx.app, 'PATCH', `${API}/plans/${plan.id}`, { organizationId: otherOrg.id }), 400, [
        'body.organizationId',
      ]);
      expectProblem(await call(ctx.app, 'PATCH', `${API}/plans/${plan.id}`, { startYear: '2015' }), 400, [
        'body.startYear',
      ]);
      expectProblem(await call(ctx.app, 'PATCH', `${API}/plans/${plan.id}`, { title: null }), 400, ['body.title']);
      expect(expectStatus(await call(ctx.app, 'GET', `${API}/plans/${plan.id}`), 200)).toEqual(plan);
    });

    it('rejects startYear after endYear, whether both are sent or only one crosses the stored other', async () => {
      const plan = await createPlan(ctx.app, org.id);
      expectProblem(await call(ctx.app, 'PATCH', `${API}/plans/${plan.id}`, { startYear: 2018, endYear: 2017 }), 400, [
        'body.endYear',
      ]);
      expectProblem(await call(ctx.app, 'PATCH', `${API}/plans/${plan.id}`, { startYear: 2019 }), 400, [
        'body.startYear',
      ]);
      expectProblem(await call(ctx.app, 'PATCH', `${API}/plans/${plan.id}`, { endYear: 2013 }), 400, ['body.endYear']);
      expect(expectStatus(await call(ctx.app, 'GET', `${API}/plans/${plan.id}`), 200)).toEqual(plan);
      // Meeting in the middle is fine.
      expect((await call(ctx.app, 'PATCH', `${API}/plans/${plan.id}`, { startYear: 2018 })).body).toMatchObject({
        startYear: 2018,
        endYear: 2018,
      });
    });

    it('rejects renaming to a code another plan of the organization has (409), allows a code used elsewhere', async () => {
      await createPlan(ctx.app, org.id, { code: 'TAKEN' });
      await createPlan(ctx.app, otherOrg.id, { code: 'ELSEWHERE' });
      const plan = await createPlan(ctx.app, org.id);
      expectProblem(await call(ctx.app, 'PATCH', `${API}/plans/${plan.id}`, { code: 'TAKEN' }), 409);
      expect(expectStatus(await call(ctx.app, 'GET', `${API}/plans/${plan.id}`), 200)).toEqual(plan);
      const renamed = await call(ctx.app, 'PATCH', `${API}/plans/${plan.id}`, { code: 'ELSEWHERE' });
      expect(renamed.status).toBe(200);
      expect(renamed.body.code).toBe('ELSEWHERE');
    });

    describe('narrowing the years around stored measurements', () => {
      let plan: Json;
      let indicatorId: string;
      beforeAll(async () => {
        plan = await createPlan(ctx.app, org.id, { startYear: 2014, endYear: 2018 });
        const direction = await createDirection(ctx.app, plan.id);
        const goal = await createGoal(ctx.app, direction.id);
        indicatorId = (await createIndicator(ctx.app, goal.id)).id;
        await putMeasurement(ctx.app, indicatorId, 2005, { fact: 40 }); // history: 2014 - 9
        await putMeasurement(ctx.app, indicatorId, 2017, { plan: 60 });
      });

      it('answers 409 when a later start would strand a history year, and changes nothing', async () => {
        // 2016 - 10 = 2006 > 2005
        const res = await call(ctx.app, 'PATCH', `${API}/plans/${plan.id}`, { startYear: 2016 });
        expectProblem(res, 409);
        expect(res.body.detail).toMatch(/measurement/);
        const now = expectStatus(await call(ctx.app, 'GET', `${API}/plans/${plan.id}`), 200);
        expect(now).toMatchObject({ startYear: 2014, version: plan.version });
      });

      it('answers 409 when an earlier end would strand a plan year', async () => {
        expectProblem(await call(ctx.app, 'PATCH', `${API}/plans/${plan.id}`, { endYear: 2016 }), 409);
      });

      it('allows narrowing exactly to the stored years', async () => {
        // start 2015 keeps 2005 at exactly start - 10; end 2017 keeps 2017 at exactly the end.
        const res = await call(ctx.app, 'PATCH', `${API}/plans/${plan.id}`, { startYear: 2015, endYear: 2017 });
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ startYear: 2015, endYear: 2017, version: 2 });
        const list = expectStatus(await call(ctx.app, 'GET', `${API}/indicators/${indicatorId}/measurements`), 200);
        expect(list.items.map((m: Json) => m.year)).toEqual([2005, 2017]);
      });

      it('ignores measurements of other plans', async () => {
        const other = await createPlan(ctx.app, org.id, { startYear: 2014, endYear: 2018 });
        const res = await call(ctx.app, 'PATCH', `${API}/plans/${other.id}`, { startYear: 2018 });
        expect(res.status).toBe(200);
        expect(expectStatus(await call(ctx.app, 'GET', `${API}/plans/${other.id}`), 200)).toMatchObject({
          startYear: 2018,
          endYear: 2018,
          version: 2,
        });
      });
    });
  });

  describe('conditional requests', () => {
    it('refuses a stale If-Match with 412 and applies a matching one', async () => {
      const plan = await createPlan(ctx.app, org.id);
      const stale = await call(
        ctx.app,
        'PATCH',
        `${API}/plans/${plan.id}`,
        { title: { en: 'stale' } },
        { 'if-match': '"7"' },
      );
      expectProblem(stale, 412);
      expect(expectStatus(await call(ctx.app, 'GET', `${API}/plans/${plan.id}`), 200).title).toEqual(plan.title);

      const fresh = await call(
        ctx.app,
        'PATCH',
        `${API}/plans/${plan.id}`,
        { title: { en: 'fresh' } },
        { 'if-match': '"1"' },
      );
      expect(fresh.status).toBe(200);
      expect(fresh.body).toMatchObject({ version: 2, title: { en: 'fresh' } });

      // The old ETag is now stale.
      expectProblem(
        await call(ctx.app, 'PATCH', `${API}/plans/${plan.id}`, { title: { en: 'late' } }, { 'if-match': '"1"' }),
        412,
      );
      expectProblem(await call(ctx.app, 'DELETE', `${API}/plans/${plan.id}`, undefined, { 'if-match': '"1"' }), 412);
      expect((await call(ctx.app, 'GET', `${API}/plans/${plan.id}`)).status).toBe(200);
      expect((await call(ctx.app, 'DELETE', `${API}/plans/${plan.id}`, undefined, { 'if-match': '"2"' })).status).toBe(
        204,
      );
    });

    it('lets exactly one of several concurrent PATCHes with the same If-Match win; the others get 412', async () => {
      const plan = await createPlan(ctx.app, org.id);
      const results = await Promise.all(
        [1, 2, 3, 4].map((n) =>
          call(ctx.app, 'PATCH', `${API}/plans/${plan.id}`, { title: { en: `writer ${n}` } }, { 'if-match': '"1"' }),
        ),
      );
      expect(results.map((r) => r.status).sort()).toEqual([200, 412, 412, 412]);
      const winner = results.find((r) => r.status === 200)!;
      const now = expectStatus(await call(ctx.app, 'GET', `${API}/plans/${plan.id}`), 200);
      expect(now).toMatchObject({ version: 2, title: winner.body.title });
    });

    it('answers 304 to a matching If-None-Match and 200 to a stale one', async () => {
      const plan = await createPlan(ctx.app, org.id);
      const notModified = await call(ctx.app, 'GET', `${API}/plans/${plan.id}`, undefined, { 'if-none-match': '"1"' });
      expect(notModified.status).toBe(304);
      expect(notModified.raw.body).toBe('');
      expect(notModified.headers.etag).toBe('"1"');

      await call(ctx.app, 'PATCH', `${API}/plans/${plan.id}`, { title: { en: 'changed' } });
      const modified = await call(ctx.app, 'GET', `${API}/plans/${plan.id}`, undefined, { 'if-none-match': '"1"' });
      expect(modified.status).toBe(200);
      expect(modified.headers.etag).toBe('"2"');
      expect(modified.body.title).toEqual({ en: 'changed' });
    });
  });

  describe('unknown and malformed ids', () => {
    it.each(['GET', 'PATCH', 'DELETE'] as const)('%s of an unknown plan answers 404', async (method) => {
      const id = unknownId();
      const res = await call(
        ctx.app,
        method,
        `${API}/plans/${id}`,
        method === 'PATCH' ? { title: { en: 'x' } } : undefined,
      );
      expectProblem(res, 404);
      expect(res.body.detail).toContain(id);
    });

    it.each(['GET', 'PATCH', 'DELETE'] as const)('%s with a malformed id answers 400 on params.id', async (method) => {
      const res = await call(
        ctx.app,
        method,
        `${API}/plans/not-a-uuid`,
        method === 'PATCH' ? { title: { en: 'x' } } : undefined,
      );
      expectProblem(res, 400, ['params.id']);
    });
  });

  describe('delete', () => {
    it('deletes a plan without children (204, then 404) and answers 404 to a second delete', async () => {
      const plan = await createPlan(ctx.app, org.id);
      const res = await call(ctx.app, 'DELETE', `${API}/plans/${plan.id}`);
      expect(res.status).toBe(204);
      expect(res.raw.body).toBe('');
      expectProblem(await call(ctx.app, 'GET', `${API}/plans/${plan.id}`), 404);
      expectProblem(await call(ctx.app, 'DELETE', `${API}/plans/${plan.id}`), 404);
    });

    it('answers 409 while the plan has directions and keeps both', async () => {
      const plan = await createPlan(ctx.app, org.id);
      const direction = await createDirection(ctx.app, plan.id);
      expectProblem(await call(ctx.app, 'DELETE', `${API}/plans/${plan.id}`), 409);
      expectProblem(await call(ctx.app, 'DELETE', `${API}/plans/${plan.id}?cascade=false`), 409);
      expect((await call(ctx.app, 'GET', `${API}/plans/${plan.id}`)).status).toBe(200);
      expect((await call(ctx.app, 'GET', `${API}/directions/${direction.id}`)).status).toBe(200);
    });

    it('rejects a cascade value other than true/false', async () => {
      const plan = await createPlan(ctx.app, org.id);
      expectProblem(await call(ctx.app, 'DELETE', `${API}/plans/${plan.id}?cascade=yes`), 400, ['query.cascade']);
      expect((await call(ctx.app, 'GET', `${API}/plans/${plan.id}`)).status).toBe(200);
    });
  });
});
