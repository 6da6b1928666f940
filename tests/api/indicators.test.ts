import { beforeAll, describe, expect, it } from 'vitest';
import { call, setupApp } from '../helpers/app.js';
import type { Json } from '../helpers/app.js';
import {
  API,
  createGoal,
  createIndicator,
  createTree,
  errorPaths,
  expectProblem,
  expectStatus,
  indicatorBody,
  putMeasurement,
  tick,
  unknownId,
} from '../helpers/fixtures.js';

const ctx = setupApp();

describe('indicators', () => {
  let goalId: string;
  let otherGoalId: string;
  const collection = (id: string) => `${API}/goals/${id}/indicators`;
  const item = (id: string) => `${API}/indicators/${id}`;
  const create = (body: Record<string, unknown>, goal = goalId) => call(ctx.app, 'POST', collection(goal), body);

  beforeAll(async () => {
    const tree = await createTree(ctx.app);
    goalId = tree.goal.id;
    otherGoalId = (await createGoal(ctx.app, tree.direction.id)).id;
  });

  describe('create and read', () => {
    it('creates with every field: 201, ETag, Location, goalId from the path', async () => {
      const body = indicatorBody({
        code: '1.1.1',
        name: { kk: 'Мемлекеттік қызметшілердің тұрақтамауы', ru: 'Текучесть кадров' },
        unit: { kk: '%', ru: '%', en: '%' },
        source: { ru: 'Данные кадровых служб' },
        valueType: 'percent',
        betterWhen: 'lower', // a percentage where lower is better: never inferred from the unit
        group: { ru: 'Кадры' },
        position: 4,
      });
      const res = await create(body);
      expect(res.status).toBe(201);
      expect(res.headers.etag).toBe('"1"');
      expect(res.headers.location).toBe(item(res.body.id));
      expect(res.body).toEqual({
        ...body,
        id: res.body.id,
        goalId,
        weight: 1,
        version: 1,
        createdAt: res.body.createdAt,
        updatedAt: res.body.updatedAt,
      });
      expect(expectStatus(await call(ctx.app, 'GET', item(res.body.id)), 200)).toEqual(res.body);
    });

    it('answers group null when not given and positions after the last indicator', async () => {
      const tree = await createTree(ctx.app);
      expect(tree.indicator).toMatchObject({ group: null, position: 1 });
      const second = await createIndicator(ctx.app, tree.goal.id);
      expect(second.position).toBe(2);
      const placed = await createIndicator(ctx.app, tree.goal.id, { position: 20 });
      expect((await createIndicator(ctx.app, tree.goal.id)).position).toBe(21);
      const list = expectStatus(await call(ctx.app, 'GET', collection(tree.goal.id)), 200);
      expect(list.items.map((i: Json) => i.position)).toEqual([1, 2, 20, 21]);
      expect(list.items[2].id).toBe(placed.id);
    });

    it('defaults betterWhen to "lower" for a rank', async () => {
      const body: Record<string, unknown> = indicatorBody({ valueType: 'rank', unit: { en: 'place' } });
      delete body.betterWhen;
      const res = await create(body);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ valueType: 'rank', betterWhen: 'lower' });
      expect(expectStatus(await call(ctx.app, 'GET', item(res.body.id)), 200).betterWhen).toBe('lower');
    });

    it('accepts a rank with betterWhen "lower" given explicitly', async () => {
      expect((await create(indicatorBody({ valueType: 'rank', betterWhen: 'lower' }))).body.betterWhen).toBe('lower');
    });

    it('filters by code, valueType and betterWhen (together too) and rejects bad filter values', async () => {
      const tree = await createTree(ctx.app);
      const g = tree.goal.id;
      const a = tree.indicator; // percent, higher
      const b = await createIndicator(ctx.app, g, { code: 'F-B', valueType: 'number', betterWhen: 'lower' });
      const c = await createIndicator(ctx.app, g, { code: 'F-C', valueType: 'rank', betterWhen: 'lower' });
      const d = await createIndicator(ctx.app, g, { code: 'F-D', valueType: 'number', betterWhen: 'higher' });
      const ids = async (query: string) =>
        expectStatus(await call(ctx.app, 'GET', `${collection(g)}?${query}`), 200).items.map((i: Json) => i.id);
      expect(await ids('valueType=number')).toEqual([b.id, d.id]);
      expect(await ids('valueType=rank')).toEqual([c.id]);
      expect(await ids('betterWhen=higher')).toEqual([a.id, d.id]);
      expect(await ids('betterWhen=lower&valueType=number')).toEqual([b.id]);
      expect(await ids('code=F-C')).toEqual([c.id]);
      expect(await ids('code=F-C&valueType=number')).toEqual([]);
      expectProblem(await call(ctx.app, 'GET', `${collection(g)}?valueType=ratio`), 400, ['query.valueType']);
      expectProblem(await call(ctx.app, 'GET', `${collection(g)}?betterWhen=up`), 400, ['query.betterWhen']);
    });

    it('answers 404 for an unknown goal and 400 for a malformed one', async () => {
      expectProblem(await create(indicatorBody(), unknownId()), 404);
      expectProblem(await call(ctx.app, 'GET', collection(unknownId())), 404);
      expectProblem(await create(indicatorBody(), 'goal-1'), 400, ['params.goalId']);
      expectProblem(await call(ctx.app, 'GET', collection('goal-1')), 400, ['params.goalId']);
    });
  });

  describe('bad input on create', () => {
    it.each(['code', 'name', 'unit', 'source', 'valueType'])('rejects a body without %s', async (field) => {
      const body: Record<string, unknown> = indicatorBody();
      delete body[field];
      expectProblem(await create(body), 400, [`body.${field}`]);
    });

    it('requires betterWhen for a non-rank (400 on body.betterWhen)', async () => {
      for (const valueType of ['percent', 'number']) {
        const body: Record<string, unknown> = indicatorBody({ valueType, code: `NO-BW-${valueType}` });
        delete body.betterWhen;
        const res = await create(body);
        expectProblem(res, 400, ['body.betterWhen']);
        expect(
          expectStatus(await call(ctx.app, 'GET', `${collection(goalId)}?code=NO-BW-${valueType}`), 200).items,
        ).toEqual([]);
      }
    });

    it('rejects a rank with betterWhen "higher" (400 on body.betterWhen)', async () => {
      const res = await create(indicatorBody({ valueType: 'rank', betterWhen: 'higher', code: 'RANK-UP' }));
      expectProblem(res, 400, ['body.betterWhen']);
      expect(expectStatus(await call(ctx.app, 'GET', `${collection(goalId)}?code=RANK-UP`), 200).items).toEqual([]);
    });

    it.each([
      ['an unknown valueType', { valueType: 'ratio' }, 'body.valueType'],
      ['an unknown betterWhen', { betterWhen: 'more' }, 'body.betterWhen'],
      ['a string name', { name: 'Share' }, 'body.name'],
      ['an empty unit', { unit: {} }, 'body.unit'],
      ['a blank source', { source: { ru: '  ' } }, 'body.source'],
      ['a group with an unknown language', { group: { fr: 'x' } }, 'body.group.fr'],
      ['a text over 4000 characters', { name: { en: 'x'.repeat(4001) } }, 'body.name.en'],
      ['a fractional position', { position: 1.5 }, 'body.position'],
      ['an unknown field', { target: 50 }, 'body.target'],
      ['the goalId in the body', { goalId: unknownId() }, 'body.goalId'],
    ])('rejects %s', async (_label, override, path) => {
      expectProblem(await create(indicatorBody(override)), 400, [path]);
    });

    it('rejects a duplicate code within the goal (409) but allows it in another goal', async () => {
      const first = await createIndicator(ctx.app, goalId, { code: '1.1.9' });
      expectProblem(await create(indicatorBody({ code: '1.1.9' })), 409);
      expect((await create(indicatorBody({ code: '1.1.9' }), otherGoalId)).status).toBe(201);
      expect(expectStatus(await call(ctx.app, 'GET', `${collection(goalId)}?code=1.1.9`), 200).items).toEqual([first]);
    });
  });

  describe('update', () => {
    it('patches fields: version, ETag and updatedAt move, the rest stays', async () => {
      const ind = await createIndicator(ctx.app, goalId);
      await tick();
      const res = await call(ctx.app, 'PATCH', item(ind.id), {
        betterWhen: 'lower',
        group: { en: 'Staff' },
        unit: { en: 'people' },
      });
      expect(res.status).toBe(200);
      expect(res.headers.etag).toBe('"2"');
      expect(res.body).toEqual({
        ...ind,
        betterWhen: 'lower',
        group: { en: 'Staff' },
        unit: { en: 'people' },
        version: 2,
        updatedAt: res.body.updatedAt,
      });
      expect(Date.parse(res.body.updatedAt)).toBeGreaterThan(Date.parse(ind.updatedAt));
      const cleared = await call(ctx.app, 'PATCH', item(ind.id), { group: null });
      expect(cleared.body).toMatchObject({ group: null, version: 3 });
    });

    it('rejects an empty body and unknown or badly typed fields', async () => {
      const ind = await createIndicator(ctx.app, goalId);
      expectProblem(await call(ctx.app, 'PATCH', item(ind.id), {}), 400);
      expectProblem(await call(ctx.app, 'PATCH', item(ind.id), { goalId: otherGoalId }), 400, ['body.goalId']);
      expectProblem(await call(ctx.app, 'PATCH', item(ind.id), { valueType: 'ratio' }), 400, ['body.valueType']);
      expectProblem(await call(ctx.app, 'PATCH', item(ind.id), { betterWhen: null }), 400, ['body.betterWhen']);
      expect(expectStatus(await call(ctx.app, 'GET', item(ind.id)), 200)).toEqual(ind);
    });

    it('refuses betterWhen "higher" on a rank, in the body or against the stored value type', async () => {
      const rank = await createIndicator(ctx.app, goalId, { valueType: 'rank', betterWhen: 'lower' });
      expectProblem(await call(ctx.app, 'PATCH', item(rank.id), { betterWhen: 'higher' }), 400, ['body.betterWhen']);
      expectProblem(await call(ctx.app, 'PATCH', item(rank.id), { valueType: 'rank', betterWhen: 'higher' }), 400, [
        'body.betterWhen',
      ]);
      const higher = await createIndicator(ctx.app, goalId, { valueType: 'number', betterWhen: 'higher' });
      const res = await call(ctx.app, 'PATCH', item(higher.id), { valueType: 'rank' });
      expectProblem(res, 400, ['body.betterWhen']);
      expect(expectStatus(await call(ctx.app, 'GET', item(rank.id)), 200)).toEqual(rank);
      expect(expectStatus(await call(ctx.app, 'GET', item(higher.id)), 200)).toEqual(higher);
      // Together with betterWhen "lower" the change is fine.
      const ok = await call(ctx.app, 'PATCH', item(higher.id), { valueType: 'rank', betterWhen: 'lower' });
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ valueType: 'rank', betterWhen: 'lower', version: 2 });
    });

    it('refuses to make an indicator a rank while a measurement is not a whole rank >= 1 (409)', async () => {
      for (const [label, bad] of [
        ['fractional fact', { plan: 3, fact: 2.5 }],
        ['zero plan', { plan: 0, fact: 4 }],
        ['negative fact', { plan: 3, fact: -1 }],
      ] as const) {
        const ind = await createIndicator(ctx.app, goalId, { valueType: 'number', betterWhen: 'lower' });
        await putMeasurement(ctx.app, ind.id, 2015, { plan: 5, fact: 4 });
        await putMeasurement(ctx.app, ind.id, 2016, bad);
        const res = await call(ctx.app, 'PATCH', item(ind.id), { valueType: 'rank' });
        expectProblem(res, 409);
        expect(res.body.detail, label).toMatch(/1 measurement/);
        expect(expectStatus(await call(ctx.app, 'GET', item(ind.id)), 200)).toEqual(ind);
      }
    });

    it('makes an indicator a rank when every measurement is a whole number >= 1 (or null)', async () => {
      const ind = await createIndicator(ctx.app, goalId, { valueType: 'number', betterWhen: 'lower' });
      await putMeasurement(ctx.app, ind.id, 2015, { plan: 5, fact: 4 });
      await putMeasurement(ctx.app, ind.id, 2016, { plan: 3, fact: null });
      const res = await call(ctx.app, 'PATCH', item(ind.id), { valueType: 'rank' });
      expect(res.status).toBe(200);
      expect(res.body.valueType).toBe('rank');
    });

    it('refuses to make a rank a non-rank while a measurement carries ratingSize or score (409)', async () => {
      const rank = await createIndicator(ctx.app, goalId, { valueType: 'rank', betterWhen: 'lower' });
      await putMeasurement(ctx.app, rank.id, 2016, { plan: 40, fact: 38, ratingSize: 180, score: 29 });
      expectProblem(await call(ctx.app, 'PATCH', item(rank.id), { valueType: 'number' }), 409);
      expect(expectStatus(await call(ctx.app, 'GET', item(rank.id)), 200).valueType).toBe('rank');
      // Once cleared, the change goes through.
      await putMeasurement(ctx.app, rank.id, 2016, { plan: 40, fact: 38 });
      expect((await call(ctx.app, 'PATCH', item(rank.id), { valueType: 'number' })).status).toBe(200);
    });

    it('rejects renaming to a code of the same goal (409) and allows one of another goal', async () => {
      await createIndicator(ctx.app, goalId, { code: 'REN-A' });
      await createIndicator(ctx.app, otherGoalId, { code: 'REN-B' });
      const ind = await createIndicator(ctx.app, goalId);
      expectProblem(await call(ctx.app, 'PATCH', item(ind.id), { code: 'REN-A' }), 409);
      expect((await call(ctx.app, 'PATCH', item(ind.id), { code: 'REN-B' })).body.code).toBe('REN-B');
    });

    it('honours If-Match and If-None-Match', async () => {
      const ind = await createIndicator(ctx.app, goalId);
      expectProblem(await call(ctx.app, 'PATCH', item(ind.id), { position: 9 }, { 'if-match': '"0"' }), 412);
      expect((await call(ctx.app, 'PATCH', item(ind.id), { position: 9 }, { 'if-match': '"1"' })).body.position).toBe(
        9,
      );
      const cached = await call(ctx.app, 'GET', item(ind.id), undefined, { 'if-none-match': 'W/"2"' });
      expect(cached.status).toBe(304);
      expect((await call(ctx.app, 'GET', item(ind.id), undefined, { 'if-none-match': '"1"' })).status).toBe(200);
    });
  });

  describe('unknown ids and delete', () => {
    it.each(['GET', 'PATCH', 'DELETE'] as const)(
      '%s answers 404 for an unknown id and 400 for a malformed one',
      async (method) => {
        const body = method === 'PATCH' ? { position: 1 } : undefined;
        expectProblem(await call(ctx.app, method, item(unknownId()), body), 404);
        expectProblem(await call(ctx.app, method, item('1.1.1'), body), 400, ['params.id']);
      },
    );

    it('answers 409 while measurements exist, deletes with ?cascade=true', async () => {
      const ind = await createIndicator(ctx.app, goalId);
      await putMeasurement(ctx.app, ind.id, 2016, { plan: 1, fact: 2 });
      const res = await call(ctx.app, 'DELETE', item(ind.id));
      expectProblem(res, 409);
      expect(errorPaths(res)).toEqual([]);
      expect((await call(ctx.app, 'GET', `${item(ind.id)}/measurements/2016`)).status).toBe(200);
      expect((await call(ctx.app, 'DELETE', `${item(ind.id)}?cascade=true`)).status).toBe(204);
      expectProblem(await call(ctx.app, 'GET', item(ind.id)), 404);
      expectProblem(await call(ctx.app, 'GET', `${item(ind.id)}/measurements`), 404);
    });
  });
});
