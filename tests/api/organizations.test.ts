import { describe, expect, it } from 'vitest';
import { call, setupApp } from '../helpers/app.js';

const ctx = setupApp();

describe('organizations', () => {
  it('creates, reads, updates and deletes', async () => {
    const created = await call(ctx.app, 'POST', '/api/v1/organizations', { code: 'ORG1', name: { kk: 'Агенттік', en: 'Agency' } });
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
    expect(res.body).toMatchObject({ status: 400, title: 'Bad Request', type: expect.any(String), detail: expect.any(String) });
  });
});
