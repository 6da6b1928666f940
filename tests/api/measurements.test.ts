import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminToken, call, setupApp } from '../helpers/app.js';
import type { Json } from '../helpers/app.js';
import {
  API,
  createIndicator,
  createTree,
  errorPaths,
  expectProblem,
  expectStatus,
  putMeasurement,
  queryRows,
  tick,
  unknownId,
} from '../helpers/fixtures.js';
import type { Tree } from '../helpers/fixtures.js';

const ctx = setupApp();

// Plan years 2014..2018, so measurements may lie in 2004..2018.
describe('measurements', () => {
  let tree: Tree;
  let percent: Json; // betterWhen higher
  let rank: Json;
  const url = (indicatorId: string, year?: number | string) =>
    `${API}/indicators/${indicatorId}/measurements${year === undefined ? '' : `/${year}`}`;
  const put = (indicatorId: string, year: number | string, body: unknown, headers?: Record<string, string>) =>
    call(ctx.app, 'PUT', url(indicatorId, year), body, headers);
  const stored = async (indicatorId: string, year: number) =>
    (
      await queryRows(
        ctx,
        sql`select plan::text as plan, fact::text as fact, score::text as score, rating_size as "ratingSize", plan = fact as "planEqualsFact", version
            from measurements where indicator_id = ${indicatorId} and year = ${year}`,
      )
    )[0];

  beforeAll(async () => {
    tree = await createTree(ctx.app, { plan: { startYear: 2014, endYear: 2018 } });
    percent = tree.indicator;
    rank = await createIndicator(ctx.app, tree.goal.id, {
      valueType: 'rank',
      betterWhen: 'lower',
      unit: { en: 'place' },
    });
  });

  describe('PUT creates, then replaces', () => {
    it('creates with 201 and ETag "1", replaces with 200 and ETag "2"; omitted fields become null', async () => {
      const ind = await createIndicator(ctx.app, tree.goal.id);
      const first = await put(ind.id, 2016, { plan: 75, fact: 80.5, note: { ru: 'Перевыполнено' } });
      expect(first.status).toBe(201);
      expect(first.headers.etag).toBe('"1"');
      expect(first.body).toEqual({
        id: expect.any(String),
        indicatorId: ind.id,
        year: 2016,
        plan: 75,
        fact: 80.5,
        ratingSize: null,
        score: null,
        note: { ru: 'Перевыполнено' },
        version: 1,
        createdAt: first.body.createdAt,
        updatedAt: first.body.createdAt,
      });

      await tick();
      const second = await put(ind.id, 2016, { plan: 76 });
      expect(second.status).toBe(200);
      expect(second.headers.etag).toBe('"2"');
      expect(second.body).toMatchObject({
        id: first.body.id,
        plan: 76,
        fact: null,
        note: null,
        version: 2,
        createdAt: first.body.createdAt,
      });
      expect(Date.parse(second.body.updatedAt)).toBeGreaterThan(Date.parse(first.body.updatedAt));

      const got = await call(ctx.app, 'GET', url(ind.id, 2016));
      expect(got.status).toBe(200);
      expect(got.headers.etag).toBe('"2"');
      expect(got.body).toEqual(second.body);

      const third = await put(ind.id, 2016, {});
      expect(third.status).toBe(200);
      expect(third.body).toMatchObject({ plan: null, fact: null, version: 3 });
    });

    it('answers concurrent PUTs of one new year with one 201 and the rest 200, ending at version n', async () => {
      const ind = await createIndicator(ctx.app, tree.goal.id);
      const results = await Promise.all([1, 2, 3, 4, 5].map((n) => put(ind.id, 2017, { plan: n })));
      const statuses = results.map((r) => r.status).sort();
      expect(statuses).toEqual([200, 200, 200, 200, 201]);
      const final = expectStatus(await call(ctx.app, 'GET', url(ind.id, 2017)), 200);
      expect(final.version).toBe(5);
      expect(expectStatus(await call(ctx.app, 'GET', url(ind.id)), 200).items).toHaveLength(1);
    });

    it('keeps one measurement per indicator and year, and years of other indicators apart', async () => {
      const a = await createIndicator(ctx.app, tree.goal.id);
      const b = await createIndicator(ctx.app, tree.goal.id);
      await putMeasurement(ctx.app, a.id, 2015, { plan: 1 });
      await putMeasurement(ctx.app, a.id, 2015, { plan: 2 });
      expect((await put(b.id, 2015, { plan: 3 })).status).toBe(201);
      const listA = expectStatus(await call(ctx.app, 'GET', url(a.id)), 200);
      expect(listA.items.map((m: Json) => [m.year, m.plan])).toEqual([[2015, 2]]);
      expect(expectStatus(await call(ctx.app, 'GET', url(b.id, 2015)), 200).plan).toBe(3);
    });
  });

  describe('year range (plan.startYear - 10 .. plan.endYear)', () => {
    it.each([2004, 2014, 2018])('accepts %i', async (year) => {
      expect((await put(percent.id, year, { plan: 1 })).status).toBe(201);
    });

    it.each([2003, 2019, 1900, 2200])('rejects %i with 400 on params.year and stores nothing', async (year) => {
      const res = await put(percent.id, year, { plan: 1 });
      expectProblem(res, 400, ['params.year']);
      expect(res.body.errors.find((e: Json) => e.path === 'params.year').message).toContain('2004..2018');
      expectProblem(await call(ctx.app, 'GET', url(percent.id, year)), 404);
    });

    it.each(['abc', '2016.5', '1e400', '99999999999', '-1'])('rejects the year %s with 400', async (year) => {
      expectProblem(await put(percent.id, year, { plan: 1 }), 400, ['params.year']);
    });

    it('lists every problem at once: the year and the values', async () => {
      const res = await put(rank.id, 2030, { plan: 2.5, fact: 0 });
      expectProblem(res, 400);
      expect(errorPaths(res)).toEqual(expect.arrayContaining(['params.year', 'body.plan', 'body.fact']));
    });
  });

  describe('numbers', () => {
    it('stores 1.3 as exactly 1.3 (not a binary approximation) and compares it equal', async () => {
      const res = await put(percent.id, 2010, { plan: 1.3, fact: 1.3 });
      expect(res.body).toMatchObject({ plan: 1.3, fact: 1.3 });
      expect(res.raw.body).toContain('"plan":1.3,');
      expect(await stored(percent.id, 2010)).toMatchObject({ plan: '1.3', fact: '1.3', planEqualsFact: true });
    });

    it.each([
      [0.1, '0.1'],
      [123456789012.345, '123456789012.345'],
      [-0.5, '-0.5'],
      [0, '0'],
      [1e15, '1000000000000000'],
      [-1e15, '-1000000000000000'],
      [0.30000000000000004, '0.30000000000000004'],
      [1e-7, '0.0000001'],
    ])('round-trips %s exactly', async (value, text) => {
      const ind = await createIndicator(ctx.app, tree.goal.id, { valueType: 'number', betterWhen: 'higher' });
      const res = await put(ind.id, 2016, { plan: value, fact: value });
      expect(res.status).toBe(201);
      expect(res.body.plan).toBe(value);
      expect((await stored(ind.id, 2016))!.plan).toBe(text);
      const got = await call(ctx.app, 'GET', url(ind.id, 2016));
      expect(got.body.fact).toBe(value);
      expect(got.raw.body).not.toMatch(/"(plan|fact)":"/); // never a number as a string
    });

    it.each([
      ['1e16', '{"plan":1e16}', 'body.plan'],
      ['-1e16', '{"fact":-1e16}', 'body.fact'],
      ['1e400 (Infinity after parsing)', '{"plan":1e400}', 'body.plan'],
      ['-1e400', '{"fact":-1e400}', 'body.fact'],
      ['a number as a string', '{"plan":"1.3"}', 'body.plan'],
      ['a boolean', '{"fact":true}', 'body.fact'],
      ['a huge ratingSize', '{"ratingSize":1e400}', 'body.ratingSize'],
      ['a huge score', '{"score":1e16}', 'body.score'],
    ])('rejects %s with 400 and stores nothing', async (_label, json, path) => {
      const ind = await createIndicator(ctx.app, tree.goal.id, { valueType: 'number', betterWhen: 'higher' });
      const res = await put(ind.id, 2016, json, { 'content-type': 'application/json' });
      expectProblem(res, 400, [path]);
      expect(await stored(ind.id, 2016)).toBeUndefined();
    });

    it('accepts null plan and fact', async () => {
      const res = await put(percent.id, 2011, { plan: null, fact: null });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ plan: null, fact: null });
    });
  });

  describe('rank rules', () => {
    it('accepts a whole rank with ratingSize equal to the rank and a score', async () => {
      const res = await put(rank.id, 2016, { plan: 40, fact: 38, ratingSize: 40, score: 29.5 });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ plan: 40, fact: 38, ratingSize: 40, score: 29.5 });
    });

    it.each([
      ['plan 0', { plan: 0, fact: 3 }, 'body.plan'],
      ['fact 2.5', { plan: 3, fact: 2.5 }, 'body.fact'],
      ['a negative fact', { fact: -3 }, 'body.fact'],
      ['ratingSize smaller than the fact', { plan: 10, fact: 50, ratingSize: 40 }, 'body.ratingSize'],
      ['ratingSize smaller than the plan', { plan: 50, ratingSize: 49 }, 'body.ratingSize'],
      ['ratingSize 0', { fact: 1, ratingSize: 0 }, 'body.ratingSize'],
      ['a fractional ratingSize', { fact: 1, ratingSize: 10.5 }, 'body.ratingSize'],
    ])('rejects %s with 400', async (_label, body, path) => {
      const res = await put(rank.id, 2015, body);
      expectProblem(res, 400, [path]);
      expectProblem(await call(ctx.app, 'GET', url(rank.id, 2015)), 404);
    });

    it.each([
      ['ratingSize', { plan: 5, ratingSize: 180 }, 'body.ratingSize'],
      ['score', { plan: 5, score: 29 }, 'body.score'],
    ])('rejects %s on a non-rank with 400', async (_label, body, path) => {
      const res = await put(percent.id, 2012, body);
      expectProblem(res, 400, [path]);
      expectProblem(await call(ctx.app, 'GET', url(percent.id, 2012)), 404);
    });

    it('allows fractional and negative values on a non-rank, stored and read back as sent', async () => {
      const res = await put(percent.id, 2013, { plan: 2.5, fact: -1.25 });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ plan: 2.5, fact: -1.25 });
      expect(await stored(percent.id, 2013)).toMatchObject({ plan: '2.5', fact: '-1.25' });
      expect(expectStatus(await call(ctx.app, 'GET', url(percent.id, 2013)), 200)).toMatchObject({
        plan: 2.5,
        fact: -1.25,
      });
    });
  });

  describe('other bad input', () => {
    it.each([
      ['an unknown field', { plan: 1, target: 2 }, 'body.target'],
      ['the year in the body', { plan: 1, year: 2016 }, 'body.year'],
      ['a string note', { note: 'late' }, 'body.note'],
      ['an empty note', { note: {} }, 'body.note'],
    ])('rejects %s', async (_label, body, path) => {
      expectProblem(await put(percent.id, 2017, body), 400, [path]);
    });

    it('rejects a body that is not an object', async () => {
      expectProblem(await put(percent.id, 2017, '[1,2]', { 'content-type': 'application/json' }), 400, ['body']);
      expectProblem(await put(percent.id, 2017, 'null', { 'content-type': 'application/json' }), 400);
    });

    it('answers 404 for an unknown indicator and 400 for a malformed one, on every route', async () => {
      const id = unknownId();
      expectProblem(await put(id, 2016, { plan: 1 }), 404);
      expectProblem(await call(ctx.app, 'GET', url(id)), 404);
      expectProblem(await call(ctx.app, 'GET', url(id, 2016)), 404);
      expectProblem(await call(ctx.app, 'DELETE', url(id, 2016)), 404);
      expectProblem(await put('x', 2016, { plan: 1 }), 400, ['params.id']);
      expectProblem(await call(ctx.app, 'GET', url('x')), 400, ['params.id']);
      expectProblem(await call(ctx.app, 'GET', url('x', 2016)), 400, ['params.id']);
      expectProblem(await call(ctx.app, 'DELETE', url('x', 2016)), 400, ['params.id']);
    });
  });

  describe('conditional requests', () => {
    it('replaces only with a matching If-Match (412 when stale); If-Match on a missing year is 412 and creates nothing', async () => {
      const ind = await createIndicator(ctx.app, tree.goal.id);
      expectProblem(await put(ind.id, 2016, { plan: 1 }, { 'if-match': '"1"' }), 412);
      expectProblem(await call(ctx.app, 'GET', url(ind.id, 2016)), 404);

      await putMeasurement(ctx.app, ind.id, 2016, { plan: 1 });
      expectProblem(await put(ind.id, 2016, { plan: 2 }, { 'if-match': '"2"' }), 412);
      expect(expectStatus(await call(ctx.app, 'GET', url(ind.id, 2016)), 200)).toMatchObject({ plan: 1, version: 1 });
      const ok = await put(ind.id, 2016, { plan: 2 }, { 'if-match': '"1"' });
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ plan: 2, version: 2 });
    });

    it('answers 304 to a matching If-None-Match', async () => {
      const ind = await createIndicator(ctx.app, tree.goal.id);
      await putMeasurement(ctx.app, ind.id, 2016, { plan: 1 });
      const res = await call(ctx.app, 'GET', url(ind.id, 2016), undefined, { 'if-none-match': '"1"' });
      expect(res.status).toBe(304);
      expect(res.raw.body).toBe('');
      await putMeasurement(ctx.app, ind.id, 2016, { plan: 2 });
      expect((await call(ctx.app, 'GET', url(ind.id, 2016), undefined, { 'if-none-match': '"1"' })).status).toBe(200);
    });
  });

  describe('PATCH (JSON merge patch)', () => {
    const patch = (indicatorId: string, year: number, body: unknown, headers: Record<string, string> = {}) =>
      ctx.app.inject({
        method: 'PATCH',
        url: url(indicatorId, year),
        payload: JSON.stringify(body),
        headers: { 'content-type': 'application/merge-patch+json', authorization: auth, ...headers },
      });
    let auth: string;
    beforeAll(async () => {
      auth = `Bearer ${await adminToken(ctx.app)}`;
    });

    it('changes only the fields sent: the note and the score survive; null clears a field', async () => {
      const ind = await createIndicator(ctx.app, tree.goal.id);
      await putMeasurement(ctx.app, ind.id, 2016, { plan: 8, fact: 7, note: { ru: 'Причина', en: 'Reason' } });
      // The README's example: plan and fact only.
      const res = await patch(ind.id, 2016, { plan: 8.5, fact: 7.9 });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers.etag).toBe('"2"');
      expect(res.json()).toMatchObject({ plan: 8.5, fact: 7.9, note: { ru: 'Причина', en: 'Reason' }, version: 2 });
      // note merges per language; null removes a language.
      const merged = await patch(ind.id, 2016, { note: { en: null, kk: 'Себеп' } });
      expect(merged.json()).toMatchObject({ plan: 8.5, fact: 7.9, note: { ru: 'Причина', kk: 'Себеп' } });
      expect(merged.json().note).not.toHaveProperty('en');
      // plain application/json is a merge patch too; null clears.
      const cleared = await call(ctx.app, 'PATCH', url(ind.id, 2016), { fact: null, note: null });
      expect(cleared.status).toBe(200);
      expect(cleared.body).toMatchObject({ plan: 8.5, fact: null, note: null, version: 4 });
      expect(await stored(ind.id, 2016)).toMatchObject({ plan: '8.5', fact: null, version: 4 });

      // A rank keeps its score and ratingSize when only the fact changes.
      await putMeasurement(ctx.app, rank.id, 2017, { plan: 10, fact: 12, ratingSize: 180, score: 37 });
      const rankPatch = await patch(rank.id, 2017, { fact: 9 });
      expect(rankPatch.json()).toMatchObject({ plan: 10, fact: 9, ratingSize: 180, score: 37 });
    });

    it('is audited like the PUT, with before and after', async () => {
      const ind = await createIndicator(ctx.app, tree.goal.id);
      await putMeasurement(ctx.app, ind.id, 2015, { plan: 1, note: { en: 'kept' } });
      expect((await patch(ind.id, 2015, { fact: 2 })).statusCode).toBe(200);
      const history = expectStatus(await call(ctx.app, 'GET', `${url(ind.id, 2015)}/history`), 200);
      expect(history.items).toHaveLength(2);
      expect(history.items[1]).toMatchObject({
        action: 'update',
        before: { plan: 1, fact: null, note: { en: 'kept' } },
        after: { plan: 1, fact: 2, note: { en: 'kept' } },
      });
    });

    it('honours If-Match: stale 412 changes nothing, current 200; If-Match without a measurement 412', async () => {
      const ind = await createIndicator(ctx.app, tree.goal.id);
      expect((await patch(ind.id, 2016, { plan: 1 }, { 'if-match': '"1"' })).statusCode).toBe(412);
      expectProblem(await call(ctx.app, 'GET', url(ind.id, 2016)), 404);
      await putMeasurement(ctx.app, ind.id, 2016, { plan: 1, note: { en: 'n' } });
      const stale = await patch(ind.id, 2016, { plan: 2 }, { 'if-match': '"7"' });
      expect(stale.statusCode).toBe(412);
      expect(stale.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(await stored(ind.id, 2016)).toMatchObject({ plan: '1', version: 1 });
      const ok = await patch(ind.id, 2016, { plan: 2 }, { 'if-match': '"1"' });
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toMatchObject({ plan: 2, note: { en: 'n' }, version: 2 });
    });

    it('creates a missing year (201), validates the merged measurement exactly as PUT does, and refuses an approved year', async () => {
      const ind = await createIndicator(ctx.app, tree.goal.id);
      const created = await patch(ind.id, 2017, { plan: 3 });
      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({ plan: 3, fact: null, note: null, version: 1 });
      // The PUT's rules: a rank is whole >= 1, ratingSize >= rank, score for ranks only, years of the plan.
      await putMeasurement(ctx.app, rank.id, 2016, { plan: 5, fact: 5, ratingSize: 10 });
      const bad = await patch(rank.id, 2016, { fact: 11 });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().errors.map((e: Json) => e.path)).toEqual(['body.ratingSize']);
      expect((await patch(rank.id, 2016, { fact: 1.5 })).json().errors.map((e: Json) => e.path)).toEqual(['body.fact']);
      expect((await patch(ind.id, 2017, { score: 3 })).json().errors.map((e: Json) => e.path)).toEqual(['body.score']);
      expect((await patch(ind.id, 1990, { plan: 3 })).json().errors.map((e: Json) => e.path)).toEqual(['params.year']);
      // The merged note must still hold some text; unknown fields and an empty patch are refused.
      await putMeasurement(ctx.app, ind.id, 2018, { plan: 1, note: { en: 'only' } });
      const emptied = await patch(ind.id, 2018, { note: { en: null } });
      expect(emptied.statusCode).toBe(400);
      expect(emptied.json().errors.map((e: Json) => e.path)).toEqual(['body.note']);
      expect((await patch(ind.id, 2018, { version: 3 })).statusCode).toBe(400);
      expect((await patch(ind.id, 2018, {})).statusCode).toBe(400);
      expect(await stored(ind.id, 2018)).toMatchObject({ plan: '1', version: 1 });
      // Another content type: 415.
      const text = await ctx.app.inject({
        method: 'PATCH',
        url: url(ind.id, 2018),
        payload: 'plan=1',
        headers: { 'content-type': 'text/plain', authorization: auth },
      });
      expect(text.statusCode).toBe(415);

      // An approved year is locked for PATCH as for PUT.
      const order = { document: { en: 'Order No. 1' }, date: '2016-11-22' };
      expect((await call(ctx.app, 'POST', `${API}/plans/${tree.plan.id}/years/2015/approve`, order)).status).toBe(201);
      await putMeasurement(ctx.app, ind.id, 2014, { plan: 1 }); // another year stays writable
      expect((await patch(ind.id, 2015, { plan: 1 })).statusCode).toBe(409);
      expect(await stored(ind.id, 2015)).toBeUndefined();
      expect(
        (await call(ctx.app, 'POST', `${API}/plans/${tree.plan.id}/years/2015/reopen`, { reason: 'test done' })).status,
      ).toBe(200);
    });
  });

  describe('list and delete', () => {
    it('lists by year and filters with yearFrom/yearTo (inclusive)', async () => {
      const ind = await createIndicator(ctx.app, tree.goal.id);
      for (const year of [2016, 2005, 2014, 2018, 2010]) await putMeasurement(ctx.app, ind.id, year, { plan: year });
      const years = async (query = '') =>
        expectStatus(await call(ctx.app, 'GET', `${url(ind.id)}${query}`), 200).items.map((m: Json) => m.year);
      expect(await years()).toEqual([2005, 2010, 2014, 2016, 2018]);
      expect(await years('?yearFrom=2010')).toEqual([2010, 2014, 2016, 2018]);
      expect(await years('?yearTo=2014')).toEqual([2005, 2010, 2014]);
      expect(await years('?yearFrom=2011&yearTo=2016')).toEqual([2014, 2016]);
      expect(await years('?yearFrom=2017&yearTo=2015')).toEqual([]);
      expectProblem(await call(ctx.app, 'GET', `${url(ind.id)}?yearFrom=soon`), 400, ['query.yearFrom']);
      expectProblem(await call(ctx.app, 'GET', `${url(ind.id)}?yearTo=2016.5`), 400, ['query.yearTo']);
      expectProblem(await call(ctx.app, 'GET', `${url(ind.id)}?yearFrom=99999999999`), 400);
    });

    it('deletes a year (204), then answers 404; other years stay', async () => {
      const ind = await createIndicator(ctx.app, tree.goal.id);
      await putMeasurement(ctx.app, ind.id, 2015, { plan: 1 });
      await putMeasurement(ctx.app, ind.id, 2016, { plan: 2 });
      const res = await call(ctx.app, 'DELETE', url(ind.id, 2015));
      expect(res.status).toBe(204);
      expect(res.raw.body).toBe('');
      expectProblem(await call(ctx.app, 'GET', url(ind.id, 2015)), 404);
      expectProblem(await call(ctx.app, 'DELETE', url(ind.id, 2015)), 404);
      expect(expectStatus(await call(ctx.app, 'GET', url(ind.id)), 200).items.map((m: Json) => m.year)).toEqual([2016]);
      // A deleted year can be created again, from version 1.
      const again = await put(ind.id, 2015, { plan: 3 });
      expect(again.status).toBe(201);
      expect(again.body.version).toBe(1);
    });

    it('deletes only with a matching If-Match', async () => {
      const ind = await createIndicator(ctx.app, tree.goal.id);
      await putMeasurement(ctx.app, ind.id, 2016, { plan: 1 });
      await putMeasurement(ctx.app, ind.id, 2016, { plan: 2 });
      expectProblem(await call(ctx.app, 'DELETE', url(ind.id, 2016), undefined, { 'if-match': '"1"' }), 412);
      expect((await call(ctx.app, 'GET', url(ind.id, 2016))).status).toBe(200);
      expect((await call(ctx.app, 'DELETE', url(ind.id, 2016), undefined, { 'if-match': '"2"' })).status).toBe(204);
    });

    it('rejects a malformed year on GET and DELETE', async () => {
      expectProblem(await call(ctx.app, 'GET', url(percent.id, 'last')), 400, ['params.year']);
      expectProblem(await call(ctx.app, 'DELETE', url(percent.id, '2016.5')), 400, ['params.year']);
    });
  });
});
