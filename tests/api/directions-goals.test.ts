/**
 * Directions (under a plan) and goals (under a direction) share one definition (src/shared/section.ts);
 * the same suite runs against both, so neither can drift.
 */
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
  tick,
  unknownId,
} from '../helpers/fixtures.js';

const ctx = setupApp();

interface SectionKind {
  name: string;
  plural: string;
  parentField: string;
  parentPlural: string;
  /** A fresh parent to hang sections under. */
  newParent: () => Promise<string>;
  /** A child of a section (to test the children rule). */
  addChild: (id: string) => Promise<void>;
}

const kinds: SectionKind[] = [
  {
    name: 'direction',
    plural: 'directions',
    parentField: 'planId',
    parentPlural: 'plans',
    newParent: async () => (await createPlan(ctx.app, (await createOrganization(ctx.app)).id)).id,
    addChild: async (id) => void (await createGoal(ctx.app, id)),
  },
  {
    name: 'goal',
    plural: 'goals',
    parentField: 'directionId',
    parentPlural: 'directions',
    newParent: async () =>
      (await createDirection(ctx.app, (await createPlan(ctx.app, (await createOrganization(ctx.app)).id)).id)).id,
    addChild: async (id) => void (await createIndicator(ctx.app, id)),
  },
];

describe.each(kinds)('$plural', (kind) => {
  const collection = (parentId: string) => `${API}/${kind.parentPlural}/${parentId}/${kind.plural}`;
  const item = (id: string) => `${API}/${kind.plural}/${id}`;
  const create = async (parentId: string, body: Record<string, unknown>) =>
    call(ctx.app, 'POST', collection(parentId), body);
  const createOk = async (parentId: string, body: Record<string, unknown>) =>
    expectStatus(await create(parentId, body), 201);

  let parentId: string;
  let otherParentId: string;
  beforeAll(async () => {
    parentId = await kind.newParent();
    otherParentId = await kind.newParent();
  });

  describe('create and read', () => {
    it('creates with 201, ETag "1", a Location, the parent id from the path and position 1 when first', async () => {
      const fresh = await kind.newParent();
      const res = await create(fresh, { code: '1', title: { kk: 'Бірінші', ru: 'Первое' } });
      expect(res.status).toBe(201);
      expect(res.headers.etag).toBe('"1"');
      expect(res.headers.location).toBe(item(res.body.id));
      expect(res.body).toMatchObject({
        [kind.parentField]: fresh,
        code: '1',
        title: { kk: 'Бірінші', ru: 'Первое' },
        position: 1,
        version: 1,
      });
      expect(Object.keys(res.body).sort()).toEqual(
        ['code', 'createdAt', 'id', kind.parentField, 'position', 'title', 'updatedAt', 'version'].sort(),
      );
      const got = await call(ctx.app, 'GET', res.headers.location as string);
      expect(got.status).toBe(200);
      expect(got.headers.etag).toBe('"1"');
      expect(got.body).toEqual(res.body);
    });

    it('defaults the position to after the last one, whatever order they were created in', async () => {
      const fresh = await kind.newParent();
      expect((await createOk(fresh, { code: 'a', title: { en: 'a' } })).position).toBe(1);
      expect((await createOk(fresh, { code: 'b', title: { en: 'b' }, position: 10 })).position).toBe(10);
      expect((await createOk(fresh, { code: 'c', title: { en: 'c' }, position: 3 })).position).toBe(3);
      expect((await createOk(fresh, { code: 'd', title: { en: 'd' } })).position).toBe(11);
      expect((await createOk(fresh, { code: 'e', title: { en: 'e' }, position: 0 })).position).toBe(0);
      // Positions are per parent: another parent starts again at 1.
      expect((await createOk(await kind.newParent(), { code: 'a', title: { en: 'a' } })).position).toBe(1);

      const list = expectStatus(await call(ctx.app, 'GET', collection(fresh)), 200);
      expect(list.items.map((s: Json) => [s.code, s.position])).toEqual([
        ['e', 0],
        ['a', 1],
        ['c', 3],
        ['b', 10],
        ['d', 11],
      ]);
    });

    it('orders by position, then code, when positions tie', async () => {
      const fresh = await kind.newParent();
      for (const code of ['2', '10', '1']) await createOk(fresh, { code, title: { en: code }, position: 5 });
      await createOk(fresh, { code: '9', title: { en: '9' }, position: 1 });
      const list = expectStatus(await call(ctx.app, 'GET', collection(fresh)), 200);
      // Text order of codes ('1' < '10' < '2'): documented as "ordered by position, code".
      expect(list.items.map((s: Json) => s.code)).toEqual(['9', '1', '10', '2']);
    });

    it('keeps a default position within the allowed range when the last one is at the maximum', async () => {
      const fresh = await kind.newParent();
      await createOk(fresh, { code: 'top', title: { en: 'top' }, position: 1_000_000 });
      const next = await create(fresh, { code: 'next', title: { en: 'next' } });
      expect(next.status).toBe(201);
      expect(next.body.position).toBe(1_000_000);
      expect((await call(ctx.app, 'GET', collection(fresh))).status).toBe(200);
      expectProblem(await create(fresh, { code: 'over', title: { en: 'over' }, position: 1_000_001 }), 400, [
        'body.position',
      ]);
    });

    it("lists only the parent's sections and filters by code", async () => {
      const fresh = await kind.newParent();
      const one = await createOk(fresh, { code: '1', title: { en: 'one' } });
      await createOk(fresh, { code: '2', title: { en: 'two' } });
      await createOk(await kind.newParent(), { code: '1', title: { en: 'elsewhere' } });
      const byCode = expectStatus(await call(ctx.app, 'GET', `${collection(fresh)}?code=1`), 200);
      expect(byCode).toEqual({ items: [one], nextCursor: null });
      const all = expectStatus(await call(ctx.app, 'GET', collection(fresh)), 200);
      expect(all.items.every((s: Json) => s[kind.parentField] === fresh)).toBe(true);
      expect(all.items).toHaveLength(2);
      expect(expectStatus(await call(ctx.app, 'GET', `${collection(fresh)}?code=3`), 200).items).toEqual([]);
    });

    it('answers 404 for an unknown parent and 400 for a malformed one, on create and list', async () => {
      const missing = unknownId();
      const created = await create(missing, { code: '1', title: { en: 'x' } });
      expectProblem(created, 404);
      expect(created.body.detail).toContain(missing);
      expectProblem(await call(ctx.app, 'GET', collection(missing)), 404);
      expectProblem(await create('123', { code: '1', title: { en: 'x' } }), 400, [`params.${kind.parentField}`]);
      expectProblem(await call(ctx.app, 'GET', collection('123')), 400, [`params.${kind.parentField}`]);
    });
  });

  describe('bad input', () => {
    it.each([
      ['no code', { title: { en: 't' } }, 'body.code'],
      ['no title', { code: 'x1' }, 'body.title'],
      ['a numeric code', { code: 1, title: { en: 't' } }, 'body.code'],
      ['a blank title', { code: 'x2', title: { en: ' ' } }, 'body.title'],
      ['a string title', { code: 'x3', title: 'title' }, 'body.title'],
      ['a string position', { code: 'x4', title: { en: 't' }, position: '2' }, 'body.position'],
      ['a fractional position', { code: 'x5', title: { en: 't' }, position: 2.5 }, 'body.position'],
      ['a negative position', { code: 'x6', title: { en: 't' }, position: -1 }, 'body.position'],
      ['a huge position', { code: 'x7', title: { en: 't' }, position: 1e16 }, 'body.position'],
      ['an unknown field', { code: 'x8', title: { en: 't' }, weight: 2 }, 'body.weight'],
    ])('rejects %s with 400 and writes nothing', async (_label, body, path) => {
      const res = await create(parentId, body);
      expectProblem(res, 400, [path]);
      const list = expectStatus(await call(ctx.app, 'GET', collection(parentId)), 200);
      expect(list.items.map((s: Json) => s.code)).not.toContain((body as { code?: unknown }).code);
    });

    it('rejects the parent id in the body: the parent comes from the path', async () => {
      const res = await create(parentId, { code: 'p', title: { en: 't' }, [kind.parentField]: otherParentId });
      expectProblem(res, 400, [`body.${kind.parentField}`]);
    });

    it('lists every invalid field at once', async () => {
      const res = await create(parentId, { code: '', title: {}, position: 'x', extra: 1 });
      expectProblem(res, 400);
      expect(errorPaths(res)).toEqual(
        expect.arrayContaining(['body.code', 'body.title', 'body.position', 'body.extra']),
      );
    });

    it('rejects a duplicate code under the same parent (409) but allows it under another', async () => {
      const first = await createOk(parentId, { code: 'DUP', title: { en: 'first' } });
      expectProblem(await create(parentId, { code: 'DUP', title: { en: 'second' } }), 409);
      expect((await create(otherParentId, { code: 'DUP', title: { en: 'other parent' } })).status).toBe(201);
      const stored = expectStatus(await call(ctx.app, 'GET', `${collection(parentId)}?code=DUP`), 200);
      expect(stored.items).toEqual([first]);
    });
  });

  describe('concurrency', () => {
    it('lets exactly one of several concurrent creates with one code through; the others get 409', async () => {
      const fresh = await kind.newParent();
      const results = await Promise.all(
        [1, 2, 3, 4, 5].map((n) => create(fresh, { code: 'RACE', title: { en: `try ${n}` } })),
      );
      expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409]);
      for (const r of results.filter((x) => x.status === 409)) expectProblem(r, 409);
      expect(expectStatus(await call(ctx.app, 'GET', `${collection(fresh)}?code=RACE`), 200).items).toHaveLength(1);
    });
  });

  describe('update', () => {
    it('patches title and position: version and ETag increment, updatedAt moves', async () => {
      const section = await createOk(parentId, { code: 'U1', title: { en: 'before' } });
      await tick();
      const res = await call(ctx.app, 'PATCH', item(section.id), { title: { en: 'after' }, position: 42 });
      expect(res.status).toBe(200);
      expect(res.headers.etag).toBe('"2"');
      expect(res.body).toEqual({
        ...section,
        title: { en: 'after' },
        position: 42,
        version: 2,
        updatedAt: res.body.updatedAt,
      });
      expect(Date.parse(res.body.updatedAt)).toBeGreaterThan(Date.parse(section.updatedAt));
      expect(expectStatus(await call(ctx.app, 'GET', item(section.id)), 200)).toEqual(res.body);
    });

    it('rejects an empty body, unknown fields, moving to another parent and bad values (400), changing nothing', async () => {
      const section = await createOk(parentId, { code: 'U2', title: { en: 't' } });
      expectProblem(await call(ctx.app, 'PATCH', item(section.id), {}), 400);
      expectProblem(await call(ctx.app, 'PATCH', item(section.id), { colour: 'red' }), 400, ['body.colour']);
      expectProblem(await call(ctx.app, 'PATCH', item(section.id), { [kind.parentField]: otherParentId }), 400, [
        `body.${kind.parentField}`,
      ]);
      expectProblem(await call(ctx.app, 'PATCH', item(section.id), { position: 0.5 }), 400, ['body.position']);
      expectProblem(await call(ctx.app, 'PATCH', item(section.id), { code: null }), 400, ['body.code']);
      expect(expectStatus(await call(ctx.app, 'GET', item(section.id)), 200)).toEqual(section);
    });

    it("rejects renaming to a sibling's code (409) and allows a code used under another parent", async () => {
      await createOk(parentId, { code: 'SIB', title: { en: 'sibling' } });
      await createOk(otherParentId, { code: 'COUSIN', title: { en: 'cousin' } });
      const section = await createOk(parentId, { code: 'U3', title: { en: 't' } });
      expectProblem(await call(ctx.app, 'PATCH', item(section.id), { code: 'SIB' }), 409);
      expect(expectStatus(await call(ctx.app, 'GET', item(section.id)), 200).code).toBe('U3');
      const res = await call(ctx.app, 'PATCH', item(section.id), { code: 'COUSIN' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ code: 'COUSIN', version: 2 });
    });

    it('honours If-Match (412 when stale, 200 when current) and If-None-Match (304)', async () => {
      const section = await createOk(parentId, { code: 'U4', title: { en: 't' } });
      expectProblem(await call(ctx.app, 'PATCH', item(section.id), { position: 7 }, { 'if-match': '"2"' }), 412);
      expectProblem(await call(ctx.app, 'PATCH', item(section.id), { position: 7 }, { 'if-match': 'garbage' }), 412);
      expect(expectStatus(await call(ctx.app, 'GET', item(section.id)), 200).version).toBe(1);
      const ok = await call(ctx.app, 'PATCH', item(section.id), { position: 7 }, { 'if-match': 'W/"1"' });
      expect(ok.status).toBe(200);
      expect(ok.body.position).toBe(7);
      expect((await call(ctx.app, 'GET', item(section.id), undefined, { 'if-none-match': '"2"' })).status).toBe(304);
      expect((await call(ctx.app, 'GET', item(section.id), undefined, { 'if-none-match': '"1"' })).status).toBe(200);
    });
  });

  describe('unknown ids and delete', () => {
    it.each(['GET', 'PATCH', 'DELETE'] as const)(
      '%s of an unknown id answers 404; of a malformed one 400',
      async (method) => {
        const body = method === 'PATCH' ? { title: { en: 'x' } } : undefined;
        const id = unknownId();
        const res = await call(ctx.app, method, item(id), body);
        expectProblem(res, 404);
        expect(res.body.detail).toContain(id);
        expectProblem(await call(ctx.app, method, item('zzz'), body), 400, ['params.id']);
      },
    );

    it('deletes a childless section (204) and then answers 404', async () => {
      const section = await createOk(parentId, { code: 'DEL1', title: { en: 't' } });
      expect((await call(ctx.app, 'DELETE', item(section.id))).status).toBe(204);
      expectProblem(await call(ctx.app, 'GET', item(section.id)), 404);
      expect(expectStatus(await call(ctx.app, 'GET', `${collection(parentId)}?code=DEL1`), 200).items).toEqual([]);
    });

    it('answers 409 while it has children and deletes both with ?cascade=true', async () => {
      const section = await createOk(parentId, { code: 'DEL2', title: { en: 't' } });
      await kind.addChild(section.id);
      expectProblem(await call(ctx.app, 'DELETE', item(section.id)), 409);
      expect((await call(ctx.app, 'GET', item(section.id))).status).toBe(200);
      expect((await call(ctx.app, 'DELETE', `${item(section.id)}?cascade=true`)).status).toBe(204);
      expectProblem(await call(ctx.app, 'GET', item(section.id)), 404);
    });

    it('refuses a stale If-Match on delete', async () => {
      const section = await createOk(parentId, { code: 'DEL3', title: { en: 't' } });
      expectProblem(await call(ctx.app, 'DELETE', item(section.id), undefined, { 'if-match': '"5"' }), 412);
      expect((await call(ctx.app, 'GET', item(section.id))).status).toBe(200);
    });
  });
});
