import { describe, expect, it } from 'vitest';
import { call, setupApp } from '../helpers/app.js';
import type { Json } from '../helpers/app.js';
import {
  API,
  createOrganization,
  createPlan,
  errorPaths,
  expectProblem,
  expectStatus,
  tick,
  unknownId,
} from '../helpers/fixtures.js';

const ctx = setupApp();

describe('organizations', () => {
  it('creates, reads, updates and deletes', async () => {
    const created = await call(ctx.app, 'POST', '/api/v1/organizations', {
      code: 'ORG1',
      name: { kk: 'Агенттік', en: 'Agency' },
    });
    expect(created.status).toBe(201);
    expect(created.headers.etag).toBe('"1"');
    expect(created.body).toMatchObject({ code: 'ORG1', version: 1, name: { kk: 'Агенттік', en: 'Agency' } });
    const id = created.body.id;
    expect(created.headers.location).toBe(`/api/v1/organizations/${id}`);

    const got = await call(ctx.app, 'GET', `/api/v1/organizations/${id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created.body);

    const patched = await call(ctx.app, 'PATCH', `/api/v1/organizations/${id}`, { name: { ru: 'Агентство' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ version: 2, name: { ru: 'Агентство' }, code: 'ORG1' });
    expect(patched.headers.etag).toBe('"2"');

    expect((await call(ctx.app, 'DELETE', `/api/v1/organizations/${id}`)).status).toBe(204);
    expect((await call(ctx.app, 'GET', `/api/v1/organizations/${id}`)).status).toBe(404);
  });

  it('rejects a duplicate code with 409 and writes nothing', async () => {
    expect((await call(ctx.app, 'POST', '/api/v1/organizations', { code: 'DUP', name: { en: 'A' } })).status).toBe(201);
    const dup = await call(ctx.app, 'POST', '/api/v1/organizations', { code: 'DUP', name: { en: 'B' } });
    expect(dup.status).toBe(409);
    expect(dup.headers['content-type']).toMatch(/^application\/problem\+json/);
    const list = await call(ctx.app, 'GET', '/api/v1/organizations?code=DUP');
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0].name).toEqual({ en: 'A' });
  });

  it('lists every invalid field at once', async () => {
    const res = await call(ctx.app, 'POST', '/api/v1/organizations', { code: 7, name: { kk: '' }, extra: true });
    expect(res.status).toBe(400);
    const paths = res.body.errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['body.code', 'body.name', 'body.extra']));
    expect(res.body).toMatchObject({
      status: 400,
      title: 'Bad Request',
      type: expect.any(String),
      detail: expect.any(String),
    });
  });

  it('moves updatedAt and the version on every PATCH, keeps createdAt, and replaces the name as a whole', async () => {
    const org = await createOrganization(ctx.app, { name: { kk: 'Агенттік', ru: 'Агентство', en: 'Agency' } });
    await tick();
    const first = expectStatus(
      await call(ctx.app, 'PATCH', `${API}/organizations/${org.id}`, { name: { en: 'Agency for Civil Service' } }),
      200,
    );
    await tick();
    const second = await call(ctx.app, 'PATCH', `${API}/organizations/${org.id}`, { code: 'RENAMED-1' });
    expect(second.status).toBe(200);
    expect(second.headers.etag).toBe('"3"');
    expect(first).toMatchObject({ version: 2, createdAt: org.createdAt, name: { en: 'Agency for Civil Service' } });
    expect(first.name).not.toHaveProperty('kk');
    expect(second.body).toMatchObject({
      version: 3,
      createdAt: org.createdAt,
      code: 'RENAMED-1',
      name: { en: 'Agency for Civil Service' },
    });
    expect(Date.parse(first.updatedAt)).toBeGreaterThan(Date.parse(org.updatedAt));
    expect(Date.parse(second.body.updatedAt)).toBeGreaterThan(Date.parse(first.updatedAt));
  });

  it('lists organizations in code order and filters by exact code', async () => {
    const b = await createOrganization(ctx.app, { code: 'LIST-B' });
    const a = await createOrganization(ctx.app, { code: 'LIST-A' });
    const list = expectStatus(await call(ctx.app, 'GET', `${API}/organizations`), 200);
    const codes = list.items.map((o: Json) => o.code);
    expect(codes).toEqual([...codes].sort());
    expect(codes.indexOf('LIST-A')).toBe(codes.indexOf('LIST-B') - 1);
    expect(list.nextCursor).toBeNull();
    expect(expectStatus(await call(ctx.app, 'GET', `${API}/organizations?code=LIST-A`), 200)).toEqual({
      items: [a],
      nextCursor: null,
    });
    expect(expectStatus(await call(ctx.app, 'GET', `${API}/organizations?code=LIST`), 200).items).toEqual([]);
    expect(b.code).toBe('LIST-B');
    expectProblem(await call(ctx.app, 'GET', `${API}/organizations?code=a%20b`), 400, ['query.code']);
  });

  it.each([
    ['no code', { name: { en: 'x' } }, 'body.code'],
    ['no name', { code: 'NONAME' }, 'body.name'],
    ['a name as a string', { code: 'STR', name: 'Agency' }, 'body.name'],
    ['an empty name object', { code: 'EMPTY', name: {} }, 'body.name'],
    ['a name in an unknown language', { code: 'LANG', name: { fr: 'Agence' } }, 'body.name.fr'],
    ['a name value that is not a string', { code: 'NUM', name: { en: 5 } }, 'body.name.en'],
    ['a code starting with a dot', { code: '.x', name: { en: 'x' } }, 'body.code'],
    ['a code over 64 characters', { code: 'C'.repeat(65), name: { en: 'x' } }, 'body.code'],
    ['an id', { id: '00000000-0000-4000-8000-000000000000', code: 'WITHID', name: { en: 'x' } }, 'body.id'],
  ])('rejects %s with 400', async (_label, body, path) => {
    const res = await call(ctx.app, 'POST', `${API}/organizations`, body);
    expectProblem(res, 400, [path]);
    const code = (body as { code?: string }).code;
    if (typeof code === 'string' && /^[A-Z]{1,64}$/.test(code)) {
      expect(expectStatus(await call(ctx.app, 'GET', `${API}/organizations?code=${code}`), 200).items).toEqual([]);
    }
  });

  it('accepts codes with letters of any script, digits and . - _ /', async () => {
    const org = await createOrganization(ctx.app, { code: 'АДГС/2016_v1.0-kz' });
    expect(org.code).toBe('АДГС/2016_v1.0-kz');
    const found = expectStatus(
      await call(ctx.app, 'GET', `${API}/organizations?code=${encodeURIComponent('АДГС/2016_v1.0-kz')}`),
      200,
    );
    expect(found.items.map((o: Json) => o.id)).toEqual([org.id]);
  });

  it('rejects PATCH with an empty body, an unknown field or a duplicate code, changing nothing', async () => {
    await createOrganization(ctx.app, { code: 'TAKEN-ORG' });
    const org = await createOrganization(ctx.app);
    const empty = await call(ctx.app, 'PATCH', `${API}/organizations/${org.id}`, {});
    expectProblem(empty, 400);
    expectProblem(await call(ctx.app, 'PATCH', `${API}/organizations/${org.id}`, { region: 'Astana' }), 400, [
      'body.region',
    ]);
    expectProblem(await call(ctx.app, 'PATCH', `${API}/organizations/${org.id}`, { version: 5 }), 400, [
      'body.version',
    ]);
    expectProblem(await call(ctx.app, 'PATCH', `${API}/organizations/${org.id}`, { code: 'TAKEN-ORG' }), 409);
    expect(expectStatus(await call(ctx.app, 'GET', `${API}/organizations/${org.id}`), 200)).toEqual(org);
  });

  it('honours If-Match on PATCH and DELETE and If-None-Match on GET', async () => {
    const org = await createOrganization(ctx.app);
    const url = `${API}/organizations/${org.id}`;
    expectProblem(await call(ctx.app, 'PATCH', url, { name: { en: 'x' } }, { 'if-match': '"2"' }), 412);
    expect(expectStatus(await call(ctx.app, 'GET', url), 200).version).toBe(1);
    expect((await call(ctx.app, 'PATCH', url, { name: { en: 'x' } }, { 'if-match': '"1"' })).status).toBe(200);
    expect((await call(ctx.app, 'PATCH', url, { name: { en: 'y' } }, { 'if-match': '*' })).body.version).toBe(3);
    expect((await call(ctx.app, 'GET', url, undefined, { 'if-none-match': '"3"' })).status).toBe(304);
    expect((await call(ctx.app, 'GET', url, undefined, { 'if-none-match': '"1", "2"' })).status).toBe(200);
    expect((await call(ctx.app, 'GET', url, undefined, { 'if-none-match': '"1", "3"' })).status).toBe(304);
    expectProblem(await call(ctx.app, 'DELETE', url, undefined, { 'if-match': '"2"' }), 412);
    expect((await call(ctx.app, 'DELETE', url, undefined, { 'if-match': '"3"' })).status).toBe(204);
  });

  it.each(['GET', 'PATCH', 'DELETE'] as const)(
    '%s answers 404 for an unknown id and 400 for a malformed one',
    async (method) => {
      const body = method === 'PATCH' ? { name: { en: 'x' } } : undefined;
      const id = unknownId();
      const res = await call(ctx.app, method, `${API}/organizations/${id}`, body);
      expectProblem(res, 404);
      expect(res.body.detail).toContain(id);
      const bad = await call(ctx.app, method, `${API}/organizations/12345`, body);
      expectProblem(bad, 400, ['params.id']);
      expect(errorPaths(bad)).toEqual(['params.id']);
    },
  );

  it('refuses to delete an organization with plans (409) and keeps both', async () => {
    const org = await createOrganization(ctx.app);
    const plan = await createPlan(ctx.app, org.id);
    expectProblem(await call(ctx.app, 'DELETE', `${API}/organizations/${org.id}`), 409);
    expect((await call(ctx.app, 'GET', `${API}/organizations/${org.id}`)).status).toBe(200);
    expect((await call(ctx.app, 'GET', `${API}/plans/${plan.id}`)).status).toBe(200);
  });
});
