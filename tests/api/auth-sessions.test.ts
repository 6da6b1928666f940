/**
 * A password change ends every session of the user: refresh tokens AND access tokens, from the
 * next request, on every replica. Two app instances ("replicas") over one database: on PostgreSQL
 * each has its own connection pool; on PGlite they share the one embedded database. Each instance
 * has its own per-process caches, which is what a replica adds.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import type { Database } from '../../src/db/client.js';
import { openPostgres } from '../../src/db/client.js';
import { NO_AUTH, bearer, call, createTestUser, setupApp, testConfig } from '../helpers/app.js';

const API = '/api/v1';
const ctx = setupApp(); // replica A (the one that writes), default PRINCIPAL_CACHE_MS (1 s)
let secondPool: Database | undefined;
let replicaB: FastifyInstance; // reads the database on every request (PRINCIPAL_CACHE_MS=0)
let replicaC: FastifyInstance; // default 1 s principal cache, like a production replica

beforeAll(async () => {
  secondPool = ctx.db.url ? await openPostgres({ url: ctx.db.url, poolMax: 3, connectTimeoutMs: 30_000 }) : undefined;
  const db = secondPool?.db ?? ctx.db.database.db;
  replicaB = await buildApp({ db, config: { ...testConfig, PRINCIPAL_CACHE_MS: 0 }, logger: false });
  replicaC = await buildApp({ db, config: testConfig, logger: false });
  await Promise.all([replicaB.ready(), replicaC.ready()]);
});

afterAll(async () => {
  await replicaB?.close();
  await replicaC?.close();
  await secondPool?.close();
});

const me = (app: FastifyInstance, token: string) => call(app, 'GET', `${API}/me`, undefined, bearer(token));
const login = async (email: string, password: string) => {
  const res = await call(ctx.app, 'POST', `${API}/auth/login`, { email, password }, NO_AUTH);
  expect(res.status, res.raw.body).toBe(200);
  return res.body.accessToken as string;
};

describe('a password change ends the access tokens issued before it', () => {
  it('admin reset (PATCH /users/{id} with password): old tokens refused on the writing replica and on the others; new ones work', async () => {
    const user = await createTestUser(ctx.app, { role: 'viewer' });
    const loggedIn = await login(user.email, user.password);
    for (const app of [ctx.app, replicaB, replicaC]) {
      expect((await me(app, user.token)).status).toBe(200);
      expect((await me(app, loggedIn)).status).toBe(200);
    }

    const reset = await call(ctx.app, 'PATCH', `${API}/users/${user.id}`, {
      password: 'a new password from the admin',
    });
    expect(reset.status, reset.raw.body).toBe(200);

    // The writing replica and one that reads the database: refused from the very next request.
    for (const app of [ctx.app, replicaB]) {
      for (const token of [user.token, loggedIn]) {
        const res = await me(app, token);
        expect(res.status).toBe(401);
        expect(res.headers['www-authenticate']).toMatch(/invalid_token/);
      }
    }
    // A replica with the default cache: refused once its cached read (PRINCIPAL_CACHE_MS) is older than that.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + testConfig.PRINCIPAL_CACHE_MS + 1 });
    try {
      expect((await me(replicaC, user.token)).status).toBe(401);
    } finally {
      vi.useRealTimers();
    }

    // Unchanged: the other fields of a PATCH do not end sessions.
    const fresh = await login(user.email, 'a new password from the admin');
    expect((await call(ctx.app, 'PATCH', `${API}/users/${user.id}`, { displayName: 'Renamed' })).status).toBe(200);
    for (const app of [ctx.app, replicaB, replicaC]) expect((await me(app, fresh)).status).toBe(200);
  });

  it('a token issued after the change is accepted at once by a replica that cached the state before it', async () => {
    const user = await createTestUser(ctx.app, { role: 'viewer' });
    expect((await me(replicaC, user.token)).status).toBe(200); // replica C caches session version 0
    expect((await call(ctx.app, 'PATCH', `${API}/users/${user.id}`, { password: 'another new password' })).status).toBe(
      200,
    );
    const fresh = await login(user.email, 'another new password');
    expect((await me(replicaC, fresh)).status).toBe(200);
    // ...and having read the newer state, C now refuses the old token too.
    expect((await me(replicaC, user.token)).status).toBe(401);
  });

  it('POST /me/password: the token that made the change and every other one are refused from the next request', async () => {
    const viewer = await createTestUser(ctx.app, { role: 'viewer' });
    const other = await login(viewer.email, viewer.password);
    const changed = await call(
      ctx.app,
      'POST',
      `${API}/me/password`,
      { currentPassword: viewer.password, newPassword: 'my own new password' },
      bearer(viewer.token),
    );
    expect(changed.status, changed.raw.body).toBe(204);
    for (const app of [ctx.app, replicaB]) {
      expect((await me(app, viewer.token)).status).toBe(401);
      expect((await me(app, other)).status).toBe(401);
    }
    const fresh = await login(viewer.email, 'my own new password');
    for (const app of [ctx.app, replicaB, replicaC]) expect((await me(app, fresh)).status).toBe(200);
  });

  it('tokens of service clients are unaffected by the claim', async () => {
    const created = await call(ctx.app, 'POST', `${API}/clients`, { name: 'Dashboard', role: 'viewer' });
    const token = await call(
      ctx.app,
      'POST',
      `${API}/auth/token`,
      new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: created.body.id,
        client_secret: created.body.clientSecret,
      }).toString(),
      { 'content-type': 'application/x-www-form-urlencoded', ...NO_AUTH },
    );
    expect(token.status).toBe(200);
    for (const app of [ctx.app, replicaB, replicaC]) expect((await me(app, token.body.access_token)).status).toBe(200);
  });
});
