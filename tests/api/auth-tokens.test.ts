/**
 * Token attacks: each forged or stale token answers 401. The forger holds the service's real
 * private key where that matters (taken from the database), so a 401 proves the specific check,
 * and a control token forged the same way but correctly proves the forging harness itself.
 */
import { randomUUID } from 'node:crypto';
import { eq, isNull } from 'drizzle-orm';
import type { CryptoKey, JWK, JWTPayload } from 'jose';
import { SignJWT, exportSPKI, generateKeyPair, importJWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { signingKeys, users } from '../../src/db/schema.js';
import { bearer, call, createTestUser, setupApp, testConfig } from '../helpers/app.js';
import type { TestUser } from '../helpers/app.js';

const ctx = setupApp();

let realKey: { kid: string; privateKey: CryptoKey; publicJwk: JWK };
let viewer: TestUser;

const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function claims(overrides: JWTPayload = {}): JWTPayload {
  return {
    iss: testConfig.JWT_ISSUER,
    aud: testConfig.JWT_AUDIENCE,
    sub: viewer.id,
    role: 'viewer',
    iat: now(),
    nbf: now(),
    exp: now() + 600,
    jti: randomUUID(),
    ...overrides,
  };
}

async function forge(
  payload: JWTPayload,
  header: Record<string, unknown> = {},
  key: CryptoKey | Uint8Array = realKey.privateKey,
) {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'EdDSA', kid: realKey.kid, typ: 'at+jwt', ...header } as never)
    .sign(key);
}

async function me(token: string) {
  return call(ctx.app, 'GET', '/api/v1/me', undefined, bearer(token));
}

function expectInvalidToken(res: Awaited<ReturnType<typeof me>>) {
  expect(res.status, res.raw.body).toBe(401);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="nysana", error="invalid_token"/);
}

beforeAll(async () => {
  viewer = await createTestUser(ctx.app, { role: 'viewer' });
  const [row] = await ctx.db.database.db.select().from(signingKeys).where(isNull(signingKeys.retiredAt));
  realKey = {
    kid: row!.kid,
    privateKey: (await importJWK(row!.privateJwk as JWK, 'EdDSA')) as CryptoKey,
    publicJwk: row!.publicJwk as JWK,
  };
});

describe('access tokens', () => {
  it('accepts the control token forged with the real key and correct claims', async () => {
    const res = await me(await forge(claims()));
    expect(res.status, res.raw.body).toBe(200);
    expect(res.body).toMatchObject({ kind: 'user', id: viewer.id, role: 'viewer' });
  });

  it('refuses alg "none"', async () => {
    const unsigned = `${b64({ alg: 'none', typ: 'at+jwt', kid: realKey.kid })}.${b64(claims({ role: 'admin' }))}.`;
    expectInvalidToken(await me(unsigned));
    const noneCaps = `${b64({ alg: 'NONE', kid: realKey.kid })}.${b64(claims())}.`;
    expectInvalidToken(await me(noneCaps));
  });

  it('refuses HS256 signed with the public key (algorithm confusion)', async () => {
    const publicKey = await importJWK(realKey.publicJwk, 'EdDSA');
    const secrets = [
      new TextEncoder().encode(JSON.stringify(realKey.publicJwk)),
      new TextEncoder().encode(await exportSPKI(publicKey as CryptoKey)),
      Buffer.from(realKey.publicJwk.x!, 'base64url'),
    ];
    for (const secret of secrets) {
      const token = await new SignJWT(claims({ role: 'admin' }))
        .setProtectedHeader({ alg: 'HS256', kid: realKey.kid, typ: 'at+jwt' })
        .sign(secret);
      expectInvalidToken(await me(token));
    }
  });

  it('refuses an expired token, and says so', async () => {
    const res = await me(await forge(claims({ iat: now() - 7200, nbf: now() - 7200, exp: now() - 3600 })));
    expectInvalidToken(res);
    expect(res.body.detail).toMatch(/expired/);
  });

  it('refuses a token that is not yet valid', async () => {
    expectInvalidToken(await me(await forge(claims({ nbf: now() + 3600, exp: now() + 7200 }))));
  });

  it('refuses a wrong issuer or audience', async () => {
    expectInvalidToken(await me(await forge(claims({ iss: 'someone-else' }))));
    expectInvalidToken(await me(await forge(claims({ aud: 'another-api' }))));
    expectInvalidToken(await me(await forge(claims({ aud: [testConfig.JWT_AUDIENCE + 'x'] }))));
    const { iss: _iss, ...withoutIssuer } = claims();
    expectInvalidToken(await me(await forge(withoutIssuer)));
  });

  it('refuses an unknown kid, a missing kid, and a real kid over a foreign key', async () => {
    const { privateKey: foreign } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    expectInvalidToken(await me(await forge(claims(), { kid: 'unknown-kid' }, foreign)));
    expectInvalidToken(await me(await forge(claims(), { kid: undefined })));
    expectInvalidToken(await me(await forge(claims(), {}, foreign)));
  });

  it('refuses a tampered payload', async () => {
    const [header, , signature] = viewer.token.split('.');
    const payload = JSON.parse(Buffer.from(viewer.token.split('.')[1]!, 'base64url').toString());
    const tampered = `${header}.${b64({ ...payload, role: 'admin' })}.${signature}`;
    expectInvalidToken(await me(tampered));
    // and the untampered original still works
    expect((await me(viewer.token)).status).toBe(200);
  });

  it('refuses a token without the access-token typ, or without jti/sub, or with a bad role claim', async () => {
    expectInvalidToken(await me(await forge(claims(), { typ: 'JWT' })));
    const { jti: _jti, ...withoutJti } = claims();
    expectInvalidToken(await me(await forge(withoutJti)));
    expectInvalidToken(await me(await forge(claims({ sub: 'not-a-uuid' }))));
    expectInvalidToken(await me(await forge(claims({ role: 'superuser' }))));
  });

  it('refuses a validly signed token for a user that does not exist', async () => {
    expectInvalidToken(await me(await forge(claims({ sub: randomUUID(), role: 'admin' }))));
  });

  it('takes role and organization from the stored user, not from the token', async () => {
    // A viewer's token claiming admin (signed with the real key) still acts as a viewer.
    const res = await call(ctx.app, 'GET', '/api/v1/users', undefined, bearer(await forge(claims({ role: 'admin' }))));
    expect(res.status).toBe(403);
  });

  it("refuses a deactivated user's access token on the next request, and its refresh token", async () => {
    const user = await createTestUser(ctx.app, { role: 'viewer' });
    const login = await call(ctx.app, 'POST', '/api/v1/auth/login', { email: user.email, password: user.password });
    expect(login.status).toBe(200);
    expect((await me(login.body.accessToken)).status).toBe(200);

    const patched = await call(ctx.app, 'PATCH', `/api/v1/users/${user.id}`, { active: false });
    expect(patched.status).toBe(200);

    expectInvalidToken(await me(login.body.accessToken));
    expectInvalidToken(await me(user.token));
    const refresh = await call(ctx.app, 'POST', '/api/v1/auth/refresh', { refreshToken: login.body.refreshToken });
    expect(refresh.status).toBe(401);
  });

  it('refuses the refresh token of a user deactivated behind the API (in the database)', async () => {
    // An editor without an organization cannot exist: the database's check constraint refuses it.
    await expect(createTestUser(ctx.app, { role: 'editor', organizationId: null })).rejects.toMatchObject({
      cause: { code: '23514' },
    });
    const viewer2 = await createTestUser(ctx.app, { role: 'viewer' });
    const login = await call(ctx.app, 'POST', '/api/v1/auth/login', {
      email: viewer2.email,
      password: viewer2.password,
    });
    await ctx.db.database.db.update(users).set({ active: false }).where(eq(users.id, viewer2.id));
    const refresh = await call(ctx.app, 'POST', '/api/v1/auth/refresh', { refreshToken: login.body.refreshToken });
    expect(refresh.status).toBe(401);
  });
});
