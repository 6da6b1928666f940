/** /users and /clients: admin CRUD, validation, pagination, ETags, and the last-admin rule. */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NO_AUTH, adminToken, bearer, call, createTestUser, setupApp } from '../helpers/app.js';
import type { Json } from '../helpers/app.js';
import { API, createOrganization, errorPaths, expectProblem, listAll } from '../helpers/fixtures.js';

const ctx = setupApp();
let n = 0;
const email = (prefix = 'user') => `${prefix}-${++n}-${randomUUID().slice(0, 8)}@nysana.test`;
const PASSWORD = 'a perfectly fine password';

async function createUser(body: Record<string, unknown> = {}): Promise<Json> {
  const res = await call(ctx.app, 'POST', `${API}/users`, {
    email: email(),
    displayName: 'Aigerim',
    role: 'viewer',
    password: PASSWORD,
    ...body,
  });
  expect(res.status, res.raw.body).toBe(201);
  return res.body;
}

describe('/users', () => {
  it('creates a user (201, Location, ETag), never returning the password, and the user can log in', async () => {
    const org = await createOrganization(ctx.app);
    const address = email('Mixed.Case').replace('mixed', 'MiXeD');
    const res = await call(ctx.app, 'POST', `${API}/users`, {
      email: `  ${address}  `,
      displayName: ' Daniyar ',
      role: 'editor',
      organizationId: org.id,
      password: PASSWORD,
    });
    expect(res.status, res.raw.body).toBe(201);
    expect(res.headers.location).toBe(`${API}/users/${res.body.id}`);
    expect(res.headers.etag).toBe('"1"');
    expect(res.body).toEqual({
      id: expect.any(String),
      email: address.toLowerCase(),
      displayName: 'Daniyar',
      role: 'editor',
      organizationId: org.id,
      active: true,
      lastLoginAt: null,
      version: 1,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const login = await call(ctx.app, 'POST', `${API}/auth/login`, { email: address, password: PASSWORD }, NO_AUTH);
    expect(login.status).toBe(200);
    expect((await call(ctx.app, 'GET', `${API}/users/${res.body.id}`)).body.lastLoginAt).not.toBeNull();
  });

  it('validates: every bad field listed, editors need an existing organization, weak passwords refused', async () => {
    const res = await call(ctx.app, 'POST', `${API}/users`, {
      email: 'not-an-email',
      displayName: '',
      role: 'owner',
      password: 'short',
      extra: 1,
    });
    expectProblem(res, 400, ['body.email', 'body.displayName', 'body.role', 'body.password', 'body.extra']);
    expectProblem(
      await call(ctx.app, 'POST', `${API}/users`, {
        email: email(),
        displayName: 'E',
        role: 'editor',
        password: PASSWORD,
      }),
      400,
      ['body.organizationId'],
    );
    expectProblem(
      await call(ctx.app, 'POST', `${API}/users`, {
        email: email(),
        displayName: 'E',
        role: 'editor',
        organizationId: randomUUID(),
        password: PASSWORD,
      }),
      400,
      ['body.organizationId'],
    );
    expectProblem(
      await call(ctx.app, 'POST', `${API}/users`, {
        email: email(),
        displayName: 'E',
        role: 'viewer',
        password: '            x',
      }),
      400,
      ['body.password'],
    );
  });

  it('refuses a duplicate e-mail, whatever its case (409)', async () => {
    const user = await createUser();
    const dup = await call(ctx.app, 'POST', `${API}/users`, {
      email: user.email.toUpperCase(),
      displayName: 'Twin',
      role: 'viewer',
      password: PASSWORD,
    });
    expectProblem(dup, 409);
  });

  it('lists with filters and cursor pages ordered by e-mail', async () => {
    const org = await createOrganization(ctx.app);
    for (let i = 0; i < 5; i++) await createUser({ role: 'editor', organizationId: org.id });
    await createUser({ role: 'editor', organizationId: org.id, active: false });
    const { items, pages } = await listAll(ctx.app, `${API}/users?organizationId=${org.id}&active=true`, 2);
    expect(items).toHaveLength(5);
    expect(pages).toBe(3);
    const emails = items.map((u: Json) => u.email);
    expect(emails).toEqual([...emails].sort());
    expect(items.every((u: Json) => u.role === 'editor' && u.active)).toBe(true);
    const inactive = (await call(ctx.app, 'GET', `${API}/users?organizationId=${org.id}&active=false`)).body.items;
    expect(inactive).toHaveLength(1);
    expect(
      (await call(ctx.app, 'GET', `${API}/users?email=${encodeURIComponent(emails[0].toUpperCase())}`)).body.items,
    ).toHaveLength(1);
    expectProblem(await call(ctx.app, 'GET', `${API}/users?cursor=garbage`), 400, ['query.cursor']);
    expectProblem(await call(ctx.app, 'GET', `${API}/users?role=root`), 400, ['query.role']);
  });

  it('updates with If-Match (412 when stale), and a password change ends sessions', async () => {
    const user = await createUser();
    const pair = (await call(ctx.app, 'POST', `${API}/auth/login`, { email: user.email, password: PASSWORD }, NO_AUTH))
      .body;
    const stale = await call(ctx.app, 'PATCH', `${API}/users/${user.id}`, { displayName: 'X' }, { 'if-match': '"7"' });
    expectProblem(stale, 412);
    const ok = await call(
      ctx.app,
      'PATCH',
      `${API}/users/${user.id}`,
      { displayName: 'Renamed', password: 'the new password here' },
      { 'if-match': '"1"' },
    );
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ displayName: 'Renamed', version: 2 });
    expect(ok.headers.etag).toBe('"2"');
    expect(
      (await call(ctx.app, 'POST', `${API}/auth/refresh`, { refreshToken: pair.refreshToken }, NO_AUTH)).status,
    ).toBe(401);
    expect(
      (
        await call(
          ctx.app,
          'POST',
          `${API}/auth/login`,
          { email: user.email, password: 'the new password here' },
          NO_AUTH,
        )
      ).status,
    ).toBe(200);
    expectProblem(await call(ctx.app, 'PATCH', `${API}/users/${user.id}`, {}), 400);
    expectProblem(await call(ctx.app, 'PATCH', `${API}/users/${user.id}`, { role: 'editor' }), 400, [
      'body.organizationId',
    ]);
    expectProblem(await call(ctx.app, 'PATCH', `${API}/users/${randomUUID()}`, { displayName: 'Nobody' }), 404);
  });

  it('deletes a user; its tokens stop working at once', async () => {
    const user = await createTestUser(ctx.app, { role: 'viewer' });
    expect((await call(ctx.app, 'GET', `${API}/me`, undefined, bearer(user.token))).status).toBe(200);
    expect((await call(ctx.app, 'DELETE', `${API}/users/${user.id}`)).status).toBe(204);
    expect((await call(ctx.app, 'GET', `${API}/me`, undefined, bearer(user.token))).status).toBe(401);
    expectProblem(await call(ctx.app, 'DELETE', `${API}/users/${user.id}`), 404);
  });

  it('keeps at least one active admin', async () => {
    // A database of its own, so that the helper's admin is the only one.
    const { buildApp } = await import('../../src/app.js');
    const { createTestDatabase } = await import('../helpers/database.js');
    const { testConfig } = await import('../helpers/app.js');
    const fresh = await createTestDatabase();
    const app = await buildApp({ db: fresh.database.db, config: testConfig, logger: false });
    try {
      const me = (await call(app, 'GET', `${API}/me`)).body;
      expectProblem(await call(app, 'PATCH', `${API}/users/${me.id}`, { role: 'viewer' }), 409);
      expectProblem(await call(app, 'PATCH', `${API}/users/${me.id}`, { active: false }), 409);
      expectProblem(await call(app, 'DELETE', `${API}/users/${me.id}`), 409);
      const second = (
        await call(app, 'POST', `${API}/users`, {
          email: email('admin'),
          displayName: 'Second',
          role: 'admin',
          password: PASSWORD,
        })
      ).body;
      expect((await call(app, 'PATCH', `${API}/users/${me.id}`, { role: 'viewer' })).status).toBe(200);
      // The first admin is a viewer now: its own token no longer administers anything.
      expect((await call(app, 'GET', `${API}/users`, undefined, bearer(await adminToken(app)))).status).toBe(403);
      const secondToken = (
        await call(app, 'POST', `${API}/auth/login`, { email: second.email, password: PASSWORD }, NO_AUTH)
      ).body.accessToken;
      expectProblem(await call(app, 'DELETE', `${API}/users/${second.id}`, undefined, bearer(secondToken)), 409);
    } finally {
      await app.close();
      await fresh.dispose();
    }
  });
});

describe('/clients', () => {
  it('creates a client whose secret is shown once', async () => {
    const org = await createOrganization(ctx.app);
    const res = await call(ctx.app, 'POST', `${API}/clients`, {
      name: 'Ministry of Finance ERP',
      role: 'editor',
      organizationId: org.id,
    });
    expect(res.status, res.raw.body).toBe(201);
    expect(res.headers.location).toBe(`${API}/clients/${res.body.id}`);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      id: expect.any(String),
      clientId: res.body.id,
      name: 'Ministry of Finance ERP',
      role: 'editor',
      organizationId: org.id,
      active: true,
      lastUsedAt: null,
      version: 1,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      clientSecret: expect.stringMatching(/^nys_/),
    });
    const got = await call(ctx.app, 'GET', `${API}/clients/${res.body.id}`);
    expect(got.body.clientSecret).toBeUndefined();
    expect(got.raw.body).not.toContain(res.body.clientSecret);
    const list = await call(ctx.app, 'GET', `${API}/clients?organizationId=${org.id}`);
    expect(list.body.items).toHaveLength(1);
    expect(list.raw.body).not.toContain(res.body.clientSecret);
  });

  it('never makes a client admin, and editors need an organization', async () => {
    expectProblem(await call(ctx.app, 'POST', `${API}/clients`, { name: 'Root', role: 'admin' }), 400, ['body.role']);
    expectProblem(await call(ctx.app, 'POST', `${API}/clients`, { name: 'Ed', role: 'editor' }), 400, [
      'body.organizationId',
    ]);
    const viewer = (await call(ctx.app, 'POST', `${API}/clients`, { name: 'Viewer', role: 'viewer' })).body;
    expectProblem(await call(ctx.app, 'PATCH', `${API}/clients/${viewer.id}`, { role: 'editor' }), 400, [
      'body.organizationId',
    ]);
    expectProblem(await call(ctx.app, 'PATCH', `${API}/clients/${viewer.id}`, { role: 'admin' }), 400, ['body.role']);
  });

  it('updates, paginates, deletes', async () => {
    for (let i = 0; i < 3; i++) await call(ctx.app, 'POST', `${API}/clients`, { name: `Paged ${i}`, role: 'viewer' });
    const { items } = await listAll(ctx.app, `${API}/clients?role=viewer`, 2);
    expect(items.length).toBeGreaterThanOrEqual(3);
    const names = items.map((c: Json) => c.name);
    expect(names).toEqual([...names].sort());
    const target = items[0];
    const patched = await call(
      ctx.app,
      'PATCH',
      `${API}/clients/${target.id}`,
      { name: 'Renamed' },
      { 'if-match': `"${target.version}"` },
    );
    expect(patched.status).toBe(200);
    expect(patched.body.version).toBe(target.version + 1);
    expectProblem(
      await call(
        ctx.app,
        'PATCH',
        `${API}/clients/${target.id}`,
        { name: 'Again' },
        { 'if-match': `"${target.version}"` },
      ),
      412,
    );
    expect((await call(ctx.app, 'DELETE', `${API}/clients/${target.id}`)).status).toBe(204);
    expectProblem(await call(ctx.app, 'GET', `${API}/clients/${target.id}`), 404);
    expectProblem(await call(ctx.app, 'POST', `${API}/clients/${randomUUID()}/secret`), 404);
    expect(errorPaths(await call(ctx.app, 'GET', `${API}/clients?active=maybe`))).toContain('query.active');
  });
});
