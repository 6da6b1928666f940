/** Login, refresh rotation, logout, the client-credentials grant, JWKS, /me, first admin, rate limits. */
import { Writable } from 'node:stream';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, loggerOptions } from '../../src/app.js';
import { parseOptions } from '@node-rs/argon2';
import { eq } from 'drizzle-orm';
import { refreshTokens, serviceClients, users } from '../../src/db/schema.js';
import { ensureFirstAdmin } from '../../src/users/bootstrap.js';
import type { Json } from '../helpers/app.js';
import { NO_AUTH, bearer, call, createTestUser, setupApp, testConfig, tokenFor } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { createOrganization, createTree } from '../helpers/fixtures.js';

const ctx = setupApp();
const API = '/api/v1';

const login = (email: string, password: string, headers: Record<string, string> = {}) =>
  call(ctx.app, 'POST', `${API}/auth/login`, { email, password }, { ...NO_AUTH, ...headers });
const refresh = (refreshToken: string) => call(ctx.app, 'POST', `${API}/auth/refresh`, { refreshToken }, NO_AUTH);
const form = (params: Record<string, string>) => new URLSearchParams(params).toString();
const FORM = { 'content-type': 'application/x-www-form-urlencoded', ...NO_AUTH };

async function newClient(body: Record<string, unknown> = { name: 'BI dashboard', role: 'viewer' }) {
  const res = await call(ctx.app, 'POST', `${API}/clients`, body);
  expect(res.status, res.raw.body).toBe(201);
  return res.body as Json;
}

describe('POST /auth/login', () => {
  it('returns a token pair for the right password; the access token works and carries the contract claims', async () => {
    const org = await createOrganization(ctx.app);
    const user = await createTestUser(ctx.app, { role: 'editor', organizationId: org.id });
    const res = await login(user.email.toUpperCase(), user.password);
    expect(res.status, res.raw.body).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      accessToken: expect.any(String),
      tokenType: 'Bearer',
      expiresIn: 900,
      refreshToken: expect.stringMatching(/^nyr_[\w-]{43}$/),
      refreshExpiresIn: expect.any(Number),
    });
    const header = decodeProtectedHeader(res.body.accessToken);
    expect(header).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt', kid: expect.any(String) });
    const jwks = (await call(ctx.app, 'GET', '/.well-known/jwks.json', undefined, NO_AUTH)).body;
    const { payload } = await jwtVerify(res.body.accessToken, createLocalJWKSet(jwks), {
      issuer: 'nysana',
      audience: 'nysana-api',
      algorithms: ['EdDSA'],
    });
    expect(payload).toMatchObject({ sub: user.id, role: 'editor', org: org.id, iss: 'nysana', aud: 'nysana-api' });
    expect(payload.exp! - payload.iat!).toBe(900);
    expect(payload.jti).toEqual(expect.any(String));

    const me = await call(ctx.app, 'GET', `${API}/me`, undefined, bearer(res.body.accessToken));
    expect(me.body).toEqual({
      kind: 'user',
      id: user.id,
      role: 'editor',
      organizationId: org.id,
      email: user.email,
      displayName: 'Test editor',
    });
  });

  it('answers the same 401 for a wrong password, an unknown e-mail and a deactivated account', async () => {
    const user = await createTestUser(ctx.app, { role: 'viewer' });
    const inactive = await createTestUser(ctx.app, { role: 'viewer', active: false });
    const answers = [
      await login(user.email, 'wrong password, long enough'),
      await login('nobody-at-all@nysana.test', user.password),
      await login(inactive.email, inactive.password),
    ];
    for (const res of answers) {
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    const bodies = answers.map((r) => r.raw.body);
    expect(new Set(bodies).size).toBe(1);
  });

  it('spends argon2 time on unknown e-mails too (no account enumeration by timing)', async () => {
    const user = await createTestUser(ctx.app, { role: 'viewer' });
    const time = async (email: string) => {
      const start = performance.now();
      await login(email, 'not the password at all');
      return performance.now() - start;
    };
    await time(`warm-${Date.now()}@nysana.test`); // the dummy hash is computed once, lazily
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 3; i++) {
      known.push(await time(user.email));
      unknown.push(await time(`nobody-${i}-${Date.now()}@nysana.test`));
    }
    // Without the dummy verification an unknown e-mail would answer ~50x faster.
    expect(median(unknown)).toBeGreaterThan(median(known) * 0.4);
  });

  it('stores passwords as argon2id with at least the OWASP parameters', async () => {
    const created = await call(ctx.app, 'POST', `${API}/users`, {
      email: `owasp-${Date.now()}@nysana.test`,
      displayName: 'Owasp',
      role: 'viewer',
      password: 'a long enough password',
    });
    const [row] = await ctx.db.database.db.select().from(users).where(eq(users.id, created.body.id));
    expect(row!.passwordHash).toMatch(/^\$argon2id\$/);
    const params = parseOptions(row!.passwordHash);
    expect(params.memoryCost).toBeGreaterThanOrEqual(19_456);
    expect(params.timeCost).toBeGreaterThanOrEqual(2);
    expect(params.parallelism).toBe(1);
  });

  it('validates the body (400) before looking anything up', async () => {
    const res = await call(ctx.app, 'POST', `${API}/auth/login`, { email: 'a@b.kz' }, NO_AUTH);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain('body.password');
  });
});

describe('POST /auth/refresh', () => {
  it('rotates: a new pair, the old refresh token stops working', async () => {
    const user = await createTestUser(ctx.app, { role: 'viewer' });
    const first = (await login(user.email, user.password)).body;
    const second = await refresh(first.refreshToken);
    expect(second.status, second.raw.body).toBe(200);
    expect(second.body.refreshToken).not.toBe(first.refreshToken);
    expect(second.body.accessToken).not.toBe(first.accessToken);
    expect((await call(ctx.app, 'GET', `${API}/me`, undefined, bearer(second.body.accessToken))).status).toBe(200);
    const third = await refresh(second.body.refreshToken);
    expect(third.status).toBe(200);
  });

  it('revokes the whole family when a used refresh token comes back', async () => {
    const user = await createTestUser(ctx.app, { role: 'viewer' });
    const first = (await login(user.email, user.password)).body;
    const second = (await refresh(first.refreshToken)).body;
    // The thief replays the first token: refused, and the legitimate holder's newer token dies too.
    expect((await refresh(first.refreshToken)).status).toBe(401);
    expect((await refresh(second.refreshToken)).status).toBe(401);
    // Another login of the same user (another family) is untouched.
    const other = (await login(user.email, user.password)).body;
    expect((await refresh(other.refreshToken)).status).toBe(200);
  });

  it('refuses unknown and expired refresh tokens, and stores only their hashes', async () => {
    expect((await refresh('nyr_not-a-real-token')).status).toBe(401);
    const user = await createTestUser(ctx.app, { role: 'viewer' });
    const pair = (await login(user.email, user.password)).body;
    const rows = await ctx.db.database.db.select().from(refreshTokens).where(eq(refreshTokens.userId, user.id));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(rows)).not.toContain(pair.refreshToken);
    await ctx.db.database.db
      .update(refreshTokens)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(refreshTokens.userId, user.id));
    expect((await refresh(pair.refreshToken)).status).toBe(401);
  });

  it('never extends a login past the session limit', async () => {
    const user = await createTestUser(ctx.app, { role: 'viewer' });
    const pair = (await login(user.email, user.password)).body;
    expect(pair.refreshExpiresIn).toBe(testConfig.REFRESH_TOKEN_TTL_SECONDS);
    const soon = new Date(Date.now() + 60_000);
    await ctx.db.database.db
      .update(refreshTokens)
      .set({ sessionExpiresAt: soon })
      .where(eq(refreshTokens.userId, user.id));
    const next = (await refresh(pair.refreshToken)).body;
    expect(next.refreshExpiresIn).toBeLessThanOrEqual(60);
  });
});

describe('POST /auth/logout', () => {
  it('needs a bearer token, revokes the refresh token, answers 204 for foreign tokens too', async () => {
    const user = await createTestUser(ctx.app, { role: 'viewer' });
    const pair = (await login(user.email, user.password)).body;
    expect(
      (await call(ctx.app, 'POST', `${API}/auth/logout`, { refreshToken: pair.refreshToken }, NO_AUTH)).status,
    ).toBe(401);

    // Someone else's logout with this refresh token changes nothing.
    const other = await tokenFor(ctx, { role: 'viewer' });
    expect(
      (await call(ctx.app, 'POST', `${API}/auth/logout`, { refreshToken: pair.refreshToken }, bearer(other))).status,
    ).toBe(204);
    const stillGood = (await refresh(pair.refreshToken)).body;
    expect(stillGood.refreshToken).toBeDefined();

    const out = await call(
      ctx.app,
      'POST',
      `${API}/auth/logout`,
      { refreshToken: stillGood.refreshToken },
      bearer(stillGood.accessToken),
    );
    expect(out.status).toBe(204);
    expect((await refresh(stillGood.refreshToken)).status).toBe(401);
  });

  it('logs out everywhere with allSessions', async () => {
    const user = await createTestUser(ctx.app, { role: 'viewer' });
    const a = (await login(user.email, user.password)).body;
    const b = (await login(user.email, user.password)).body;
    expect(
      (await call(ctx.app, 'POST', `${API}/auth/logout`, { allSessions: true }, bearer(a.accessToken))).status,
    ).toBe(204);
    expect((await refresh(a.refreshToken)).status).toBe(401);
    expect((await refresh(b.refreshToken)).status).toBe(401);
    expect((await call(ctx.app, 'POST', `${API}/auth/logout`, {}, bearer(a.accessToken))).status).toBe(400);
  });
});

describe('POST /auth/token (client credentials)', () => {
  it('issues a token for form-encoded, JSON and HTTP Basic credentials', async () => {
    const client = await newClient();
    expect(client.clientSecret).toMatch(/^nys_[\w-]{43}$/);
    const viaForm = await call(
      ctx.app,
      'POST',
      `${API}/auth/token`,
      form({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret }),
      FORM,
    );
    expect(viaForm.status, viaForm.raw.body).toBe(200);
    expect(viaForm.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 900 });
    expect(viaForm.headers['cache-control']).toBe('no-store');

    const viaJson = await call(
      ctx.app,
      'POST',
      `${API}/auth/token`,
      { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret },
      NO_AUTH,
    );
    expect(viaJson.status).toBe(200);

    const basic = Buffer.from(
      `${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`,
    ).toString('base64');
    const viaBasic = await call(ctx.app, 'POST', `${API}/auth/token`, form({ grant_type: 'client_credentials' }), {
      ...FORM,
      authorization: `Basic ${basic}`,
    });
    expect(viaBasic.status, viaBasic.raw.body).toBe(200);

    const me = await call(ctx.app, 'GET', `${API}/me`, undefined, bearer(viaBasic.body.access_token));
    expect(me.body).toEqual({
      kind: 'client',
      id: client.id,
      role: 'viewer',
      organizationId: null,
      email: null,
      displayName: 'BI dashboard',
    });
    const { payload } = await jwtVerify(
      viaBasic.body.access_token,
      createLocalJWKSet((await call(ctx.app, 'GET', '/.well-known/jwks.json', undefined, NO_AUTH)).body),
      { issuer: 'nysana', audience: 'nysana-api', algorithms: ['EdDSA'] },
    );
    expect(payload).toMatchObject({ sub: client.id, client_id: client.id, role: 'viewer' });
    const got = await call(ctx.app, 'GET', `${API}/clients/${client.id}`);
    expect(got.body.lastUsedAt).not.toBeNull();
  });

  it('answers RFC 6749 errors, never problem+json', async () => {
    const client = await newClient();
    const cases: [unknown, Record<string, string>, number, string][] = [
      [
        form({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: 'nys_wrong' }),
        FORM,
        401,
        'invalid_client',
      ],
      [
        form({ grant_type: 'client_credentials', client_id: 'not-a-uuid', client_secret: 'x' }),
        FORM,
        401,
        'invalid_client',
      ],
      [form({ grant_type: 'client_credentials' }), FORM, 401, 'invalid_client'],
      [
        form({ grant_type: 'password', client_id: client.clientId, client_secret: client.clientSecret }),
        FORM,
        400,
        'unsupported_grant_type',
      ],
      [form({ client_id: client.clientId, client_secret: client.clientSecret }), FORM, 400, 'invalid_request'],
      ['grant_type=client_credentials&grant_type=client_credentials', FORM, 400, 'invalid_request'],
      [{ grant_type: 'client_credentials', client_id: 7, client_secret: [] }, NO_AUTH, 400, 'invalid_request'],
      ['grant_type=client_credentials', { 'content-type': 'text/plain', ...NO_AUTH }, 400, 'invalid_request'],
      ['{not json', { 'content-type': 'application/json', ...NO_AUTH }, 400, 'invalid_request'],
    ];
    for (const [body, headers, status, error] of cases) {
      const res = await call(ctx.app, 'POST', `${API}/auth/token`, body, headers);
      expect(res.status, `${JSON.stringify(body)} -> ${res.raw.body}`).toBe(status);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toEqual({ error, error_description: expect.any(String) });
      expect(res.headers['cache-control']).toBe('no-store');
      if (status === 401) expect(res.headers['www-authenticate']).toMatch(/^Basic/);
    }
  });

  it('refuses a deactivated client, both for new tokens and tokens already issued', async () => {
    const client = await newClient();
    const token = (
      await call(
        ctx.app,
        'POST',
        `${API}/auth/token`,
        form({ grant_type: 'client_credentials', client_id: client.id, client_secret: client.clientSecret }),
        FORM,
      )
    ).body.access_token;
    expect((await call(ctx.app, 'GET', `${API}/plans`, undefined, bearer(token))).status).toBe(200);
    expect((await call(ctx.app, 'PATCH', `${API}/clients/${client.id}`, { active: false })).status).toBe(200);
    expect((await call(ctx.app, 'GET', `${API}/plans`, undefined, bearer(token))).status).toBe(401);
    const again = await call(
      ctx.app,
      'POST',
      `${API}/auth/token`,
      form({ grant_type: 'client_credentials', client_id: client.id, client_secret: client.clientSecret }),
      FORM,
    );
    expect(again.status).toBe(401);
  });

  it('lets an editor client write its own organization only, and a viewer client not at all', async () => {
    const mine = await createTree(ctx.app);
    const theirs = await createTree(ctx.app);
    const editor = await newClient({ name: 'Ministry ERP', role: 'editor', organizationId: mine.organization.id });
    const viewer = await newClient({ name: 'Open data portal', role: 'viewer' });
    const tokenOf = async (c: Json) =>
      (
        await call(
          ctx.app,
          'POST',
          `${API}/auth/token`,
          form({ grant_type: 'client_credentials', client_id: c.id, client_secret: c.clientSecret }),
          FORM,
        )
      ).body.access_token as string;
    const asEditor = bearer(await tokenOf(editor));
    const asViewer = bearer(await tokenOf(viewer));
    const put = (indicatorId: string, headers: Record<string, string>) =>
      call(ctx.app, 'PUT', `${API}/indicators/${indicatorId}/measurements/2016`, { plan: 10, fact: 12 }, headers);
    expect((await put(mine.indicator.id, asEditor)).status).toBe(201);
    expect((await put(theirs.indicator.id, asEditor)).status).toBe(403);
    expect((await put(mine.indicator.id, asViewer)).status).toBe(403);
    expect((await call(ctx.app, 'GET', `${API}/indicators/${theirs.indicator.id}`, undefined, asViewer)).status).toBe(
      200,
    );
  });

  it('rotates a secret: the old one stops working, the new one works', async () => {
    const client = await newClient();
    const rotated = await call(ctx.app, 'POST', `${API}/clients/${client.id}/secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.clientSecret).not.toBe(client.clientSecret);
    const ask = (secret: string) =>
      call(
        ctx.app,
        'POST',
        `${API}/auth/token`,
        form({ grant_type: 'client_credentials', client_id: client.id, client_secret: secret }),
        FORM,
      );
    expect((await ask(client.clientSecret)).status).toBe(401);
    expect((await ask(rotated.body.clientSecret)).status).toBe(200);
  });
});

describe('GET /.well-known/jwks.json', () => {
  it('is public, cacheable, and holds only public key material', async () => {
    const res = await call(ctx.app, 'GET', '/.well-known/jwks.json', undefined, NO_AUTH);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toMatch(/max-age=\d+/);
    expect(res.body.keys.length).toBeGreaterThanOrEqual(1);
    for (const key of res.body.keys) {
      expect(key).toEqual({
        kty: 'OKP',
        crv: 'Ed25519',
        x: expect.any(String),
        kid: expect.any(String),
        alg: 'EdDSA',
        use: 'sig',
      });
    }
  });
});

describe('POST /me/password', () => {
  it('changes the password with the current one and ends the other sessions', async () => {
    const user = await createTestUser(ctx.app, { role: 'viewer' });
    const session = (await login(user.email, user.password)).body;
    const wrong = await call(
      ctx.app,
      'POST',
      `${API}/me/password`,
      { currentPassword: 'nope nope nope', newPassword: 'a brand new password' },
      bearer(user.token),
    );
    expect(wrong.status).toBe(400);
    const weak = await call(
      ctx.app,
      'POST',
      `${API}/me/password`,
      { currentPassword: user.password, newPassword: 'short' },
      bearer(user.token),
    );
    expect(weak.status).toBe(400);
    const ok = await call(
      ctx.app,
      'POST',
      `${API}/me/password`,
      { currentPassword: user.password, newPassword: 'a brand new password' },
      bearer(user.token),
    );
    expect(ok.status).toBe(204);
    expect((await refresh(session.refreshToken)).status).toBe(401);
    expect((await login(user.email, user.password)).status).toBe(401);
    expect((await login(user.email, 'a brand new password')).status).toBe(200);
  });

  it('is for users only', async () => {
    const client = await newClient();
    const token = (
      await call(
        ctx.app,
        'POST',
        `${API}/auth/token`,
        form({ grant_type: 'client_credentials', client_id: client.id, client_secret: client.clientSecret }),
        FORM,
      )
    ).body.access_token;
    const res = await call(
      ctx.app,
      'POST',
      `${API}/me/password`,
      { currentPassword: 'x', newPassword: 'a brand new password' },
      bearer(token),
    );
    expect(res.status).toBe(403);
  });
});

describe('first admin', () => {
  it('is created from ADMIN_EMAIL/ADMIN_PASSWORD only while no user exists, and can log in', async () => {
    const fresh = await createTestDatabase();
    try {
      const config = { ADMIN_EMAIL: 'Admin@Nysana.KZ', ADMIN_PASSWORD: 'first admin password' };
      expect(await ensureFirstAdmin(fresh.database.db, { ADMIN_EMAIL: undefined, ADMIN_PASSWORD: undefined })).toEqual({
        status: 'no-users',
      });
      expect(await ensureFirstAdmin(fresh.database.db, config)).toEqual({
        status: 'created',
        email: 'admin@nysana.kz',
      });
      expect(await ensureFirstAdmin(fresh.database.db, { ...config, ADMIN_PASSWORD: 'another password!!' })).toEqual({
        status: 'exists',
      });
      const none = { ADMIN_EMAIL: undefined, ADMIN_PASSWORD: undefined };
      expect(await ensureFirstAdmin(fresh.database.db, none, { generateLocal: true })).toEqual({ status: 'exists' });
      const app = await buildApp({ db: fresh.database.db, config: testConfig, logger: false });
      try {
        const res = await call(
          app,
          'POST',
          `${API}/auth/login`,
          { email: 'admin@nysana.kz', password: 'first admin password' },
          NO_AUTH,
        );
        expect(res.status, res.raw.body).toBe(200);
        const me = await call(app, 'GET', `${API}/me`, undefined, bearer(res.body.accessToken));
        expect(me.body).toMatchObject({ role: 'admin', email: 'admin@nysana.kz' });
        expect(
          (
            await call(
              app,
              'POST',
              `${API}/auth/login`,
              { email: 'admin@nysana.kz', password: 'another password!!' },
              NO_AUTH,
            )
          ).status,
        ).toBe(401);
      } finally {
        await app.close();
      }
    } finally {
      await fresh.dispose();
    }
  });
});

describe('local admin on an empty embedded database', () => {
  it('is generated with a random password, returned once, and can log in', async () => {
    const fresh = await createTestDatabase();
    try {
      const none = { ADMIN_EMAIL: undefined, ADMIN_PASSWORD: undefined };
      const created = await ensureFirstAdmin(fresh.database.db, none, { generateLocal: true });
      expect(created).toEqual({
        status: 'created',
        email: 'admin@nysana.local',
        generatedPassword: expect.stringMatching(/^[\w-]{24}$/),
      });
      const password = (created as { generatedPassword: string }).generatedPassword;
      const app = await buildApp({ db: fresh.database.db, config: testConfig, logger: false });
      try {
        const res = await call(app, 'POST', `${API}/auth/login`, { email: 'admin@nysana.local', password }, NO_AUTH);
        expect(res.status).toBe(200);
      } finally {
        await app.close();
      }
    } finally {
      await fresh.dispose();
    }
  });
});

describe('rate limits (in memory, per process)', () => {
  const limited = setupApp({ AUTH_RATE_LIMIT_PER_MINUTE: 5, AUTH_MAX_FAILURES: 3, AUTH_LOCKOUT_SECONDS: 600 });
  // The lockouts on their own: a per-IP limit out of the way, so every 429 below is a lockout.
  const lockouts = setupApp({ AUTH_MAX_FAILURES: 3, AUTH_LOCKOUT_SECONDS: 600 });

  it('locks an account for the guessing address only (429 + Retry-After), whatever the password; other addresses still log in', async () => {
    const user = await createTestUser(lockouts.app, { role: 'viewer' });
    const other = await createTestUser(lockouts.app, { role: 'viewer' });
    const attempt = (email: string, password: string, ip: string) =>
      lockouts.app.inject({
        method: 'POST',
        url: `${API}/auth/login`,
        payload: { email, password },
        remoteAddress: ip,
      });
    for (let i = 0; i < 3; i++)
      expect((await attempt(user.email, 'wrong password guess', '10.0.0.1')).statusCode).toBe(401);
    const locked = await attempt(user.email, user.password, '10.0.0.1');
    expect(locked.statusCode).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(500);
    expect(locked.headers['content-type']).toMatch(/^application\/problem\+json/);
    // The real user at another address is not locked out by someone else's guesses...
    expect((await attempt(user.email, user.password, '10.0.1.1')).statusCode).toBe(200);
    // ...and the guessing address stays locked (a success elsewhere resets nothing there).
    expect((await attempt(user.email, user.password, '10.0.0.1')).statusCode).toBe(429);
    expect((await attempt(other.email, other.password, '10.0.0.1')).statusCode).toBe(200);
  });

  it('limits /auth requests per IP', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await limited.app.inject({
        method: 'POST',
        url: `${API}/auth/refresh`,
        payload: { refreshToken: 'nyr_x' },
        remoteAddress: '10.9.9.9',
      });
      statuses.push(res.statusCode);
      if (res.statusCode === 429) expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    const elsewhere = await limited.app.inject({
      method: 'POST',
      url: `${API}/auth/refresh`,
      payload: { refreshToken: 'nyr_x' },
      remoteAddress: '10.9.9.10',
    });
    expect(elsewhere.statusCode).toBe(401);
  });

  it('locks a client_id for the guessing address only, answering in RFC 6749 form; the real integration keeps working', async () => {
    const created = await call(lockouts.app, 'POST', `${API}/clients`, { name: 'Locked out', role: 'viewer' });
    const attempt = (secret: string, ip: string) =>
      lockouts.app.inject({
        method: 'POST',
        url: `${API}/auth/token`,
        payload: form({ grant_type: 'client_credentials', client_id: created.body.id, client_secret: secret }),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        remoteAddress: ip,
      });
    // 10 wrong secrets from address A (the limit is 2 x AUTH_MAX_FAILURES = 6 here).
    const statuses = [];
    for (let i = 0; i < 10; i++) statuses.push((await attempt('nys_wrong', '10.1.0.1')).statusCode);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401, 429, 429, 429, 429]);
    const locked = await attempt(created.body.clientSecret, '10.1.0.1');
    expect(locked.statusCode).toBe(429);
    expect(locked.json()).toEqual({ error: 'too_many_requests', error_description: expect.any(String) });
    expect(locked.headers['retry-after']).toBeDefined();
    // The integration at address B, holding the right secret, still gets its token.
    const real = await attempt(created.body.clientSecret, '10.1.0.2');
    expect(real.statusCode).toBe(200);
    expect(real.json().access_token).toEqual(expect.any(String));
    expect((await attempt(created.body.clientSecret, '10.1.0.1')).statusCode).toBe(429);
  });
});

describe('secrets stay secret', () => {
  const seen: { url: string; body: string; headers: string }[] = [];
  const record = async (...args: Parameters<typeof call>) => {
    const res = await call(...args);
    seen.push({ url: `${args[1]} ${args[2]}`, body: res.raw.body, headers: JSON.stringify(res.headers) });
    return res;
  };
  const logLines: string[] = [];
  let logged: Awaited<ReturnType<typeof buildApp>>;

  beforeAll(async () => {
    const stream = new Writable({
      write(chunk, _encoding, done) {
        logLines.push(String(chunk));
        done();
      },
    });
    logged = await buildApp({
      db: ctx.db.database.db,
      config: testConfig,
      logger: { ...loggerOptions('info'), stream },
    });
    await logged.ready();
  });
  afterAll(async () => {
    await logged?.close();
  });

  it('no response after creation contains a password hash, a refresh token hash, a client secret or its hash', async () => {
    const org = await createOrganization(ctx.app);
    const password = 'the quick brown fox jumps';
    const user = (
      await record(ctx.app, 'POST', `${API}/users`, {
        email: `tour-${Date.now()}@nysana.test`,
        displayName: 'Tour',
        role: 'editor',
        organizationId: org.id,
        password,
      })
    ).body;
    const pair = (await record(ctx.app, 'POST', `${API}/auth/login`, { email: user.email, password }, NO_AUTH)).body;
    const next = (await record(ctx.app, 'POST', `${API}/auth/refresh`, { refreshToken: pair.refreshToken }, NO_AUTH))
      .body;
    const created = await call(ctx.app, 'POST', `${API}/clients`, {
      name: 'Tour client',
      role: 'editor',
      organizationId: org.id,
    });
    const secret: string = created.body.clientSecret;
    const rotated = await call(ctx.app, 'POST', `${API}/clients/${created.body.id}/secret`);
    const newSecret: string = rotated.body.clientSecret;
    await record(
      ctx.app,
      'POST',
      `${API}/auth/token`,
      { grant_type: 'client_credentials', client_id: created.body.id, client_secret: newSecret },
      NO_AUTH,
    );
    await record(
      ctx.app,
      'POST',
      `${API}/auth/token`,
      { grant_type: 'client_credentials', client_id: created.body.id, client_secret: secret },
      NO_AUTH,
    );

    for (const url of [
      `${API}/users`,
      `${API}/users?limit=1`,
      `${API}/users/${user.id}`,
      `${API}/clients`,
      `${API}/clients/${created.body.id}`,
      `${API}/me`,
      '/.well-known/jwks.json',
      '/openapi.json',
    ]) {
      await record(ctx.app, 'GET', url);
    }
    await record(ctx.app, 'GET', `${API}/me`, undefined, bearer(next.accessToken));
    await record(ctx.app, 'PATCH', `${API}/users/${user.id}`, {
      displayName: 'Tour 2',
      password: 'another long password',
    });
    await record(ctx.app, 'PATCH', `${API}/clients/${created.body.id}`, { name: 'Tour client 2' });
    await record(ctx.app, 'POST', `${API}/users`, {
      email: user.email,
      displayName: 'Dup',
      role: 'viewer',
      password: 'duplicate password',
    });
    await record(ctx.app, 'DELETE', `${API}/clients/${created.body.id}`);

    const db = ctx.db.database.db;
    const hashes = [
      ...(await db.select({ h: users.passwordHash }).from(users)).map((r) => r.h),
      ...(await db.select({ h: refreshTokens.tokenHash }).from(refreshTokens)).map((r) => r.h),
      ...(await db.select({ h: serviceClients.secretHash }).from(serviceClients)).map((r) => r.h),
    ];
    expect(hashes.length).toBeGreaterThan(5);
    const forbidden = [
      ...hashes,
      secret,
      newSecret,
      password,
      'passwordHash',
      'password_hash',
      'secretHash',
      'tokenHash',
    ];
    for (const response of seen) {
      for (const needle of forbidden) {
        expect(
          response.body.includes(needle) || response.headers.includes(needle),
          `${response.url} leaks ${needle.slice(0, 12)}...`,
        ).toBe(false);
      }
    }
  });

  it('logs neither passwords, tokens nor secrets', async () => {
    const user = await createTestUser(logged, { role: 'viewer' });
    const pair = (
      await call(logged, 'POST', `${API}/auth/login`, { email: user.email, password: user.password }, NO_AUTH)
    ).body;
    await call(logged, 'POST', `${API}/auth/refresh`, { refreshToken: pair.refreshToken }, NO_AUTH);
    await call(logged, 'POST', `${API}/auth/login`, { email: user.email, password: 'wrong password here' }, NO_AUTH);
    await call(logged, 'GET', `${API}/me`, undefined, bearer(pair.accessToken));
    const all = logLines.join('\n');
    expect(all).toContain('login');
    for (const needle of [user.password, 'wrong password here', pair.refreshToken, pair.accessToken])
      expect(all).not.toContain(needle);
  });
});
