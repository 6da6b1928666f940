/**
 * Trust of an external identity provider: a stand-in "national SSO" publishes its JWKS from a tiny
 * node:http server on 127.0.0.1; the app verifies its tokens with createRemoteJWKSet and maps the
 * role and organization claims.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CryptoKey, JWK, JWTPayload } from 'jose';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { claimAt, roleFromClaim } from '../../src/auth/sso.js';
import type { Json } from '../helpers/app.js';
import { NO_AUTH, bearer, call, setupApp, testConfig } from '../helpers/app.js';
import { API, createOrganization, createTree, planBody } from '../helpers/fixtures.js';

const ISSUER = 'https://sso.egov.test/realms/gov';
const AUDIENCE = 'nysana';

let server: Server;
let jwksUrl = '';
let idpKey: CryptoKey;
let jwksRequests = 0;
const publishedKeys: JWK[] = [];

// The server must be listening before setupApp builds the app, which needs its URL.
const ready = (async () => {
  const pair = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  idpKey = pair.privateKey;
  publishedKeys.push({ ...(await exportJWK(pair.publicKey)), kid: 'idp-1', alg: 'RS256', use: 'sig' });
  server = createServer((req, res) => {
    if (req.url === '/certs') {
      jwksRequests++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: publishedKeys }));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/certs`;
})();

const ctx = setupApp();
let sso: Awaited<ReturnType<typeof buildApp>>;
let ministry: Json;

beforeAll(async () => {
  await ready;
  ministry = await createOrganization(ctx.app, { code: 'MINFIN' });
  sso = await buildApp({
    db: ctx.db.database.db,
    config: {
      ...testConfig,
      SSO_JWKS_URL: jwksUrl,
      SSO_ISSUER: ISSUER,
      SSO_AUDIENCE: AUDIENCE,
      SSO_ROLE_CLAIM: 'realm_access.roles',
      SSO_ROLE_MAP: { 'kpi-admin': 'admin', 'kpi-editor': 'editor', 'kpi-viewer': 'viewer' },
      SSO_ORGANIZATION_CLAIM: 'org',
    },
    logger: false,
  });
  await sso.ready();
});

afterAll(async () => {
  await sso?.close();
  await new Promise((resolve) => server?.close(resolve));
});

const now = () => Math.floor(Date.now() / 1000);

async function idpToken(
  claims: JWTPayload = {},
  options: { kid?: string; key?: CryptoKey; alg?: string; exp?: number } = {},
) {
  return new SignJWT({ realm_access: { roles: ['offline_access', 'kpi-editor'] }, org: 'MINFIN', ...claims })
    .setProtectedHeader({ alg: options.alg ?? 'RS256', kid: options.kid ?? 'idp-1' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject('iin-870101300123')
    .setIssuedAt()
    .setExpirationTime(options.exp ?? now() + 300)
    .sign(options.key ?? idpKey);
}

describe('single sign-on', () => {
  it('accepts a provider token, mapping role and organization (by code) from its claims', async () => {
    const res = await call(sso, 'GET', `${API}/me`, undefined, bearer(await idpToken()));
    expect(res.status, res.raw.body).toBe(200);
    expect(res.body).toEqual({
      kind: 'sso',
      id: 'iin-870101300123',
      role: 'editor',
      organizationId: ministry.id,
      email: null,
      displayName: null,
    });
    expect(jwksRequests).toBeGreaterThanOrEqual(1);
  });

  it("scopes a provider editor to its organization's plans", async () => {
    const token = bearer(await idpToken());
    const other = await createTree(ctx.app);
    expect((await call(sso, 'POST', `${API}/plans`, planBody(ministry.id), token)).status).toBe(201);
    expect((await call(sso, 'POST', `${API}/plans`, planBody(other.organization.id), token)).status).toBe(403);
    expect((await call(sso, 'GET', `${API}/plans/${other.plan.id}`, undefined, token)).status).toBe(200);
  });

  it('takes the highest mapped role, an organization id as well as a code, and ignores unmapped values', async () => {
    const token = await idpToken({ realm_access: { roles: ['kpi-viewer', 'kpi-admin'] }, org: ministry.id });
    const me = await call(sso, 'GET', `${API}/me`, undefined, bearer(token));
    expect(me.body).toMatchObject({ role: 'admin', organizationId: ministry.id });
    expect((await call(sso, 'GET', `${API}/users`, undefined, bearer(token))).status).toBe(200);
    const unknownOrg = await call(sso, 'GET', `${API}/me`, undefined, bearer(await idpToken({ org: 'NO-SUCH-ORG' })));
    expect(unknownOrg.body.organizationId).toBeNull();
  });

  it('answers 403 to a valid provider token that grants no Nysana role', async () => {
    const res = await call(
      sso,
      'GET',
      `${API}/plans`,
      undefined,
      bearer(await idpToken({ realm_access: { roles: ['offline_access'] } })),
    );
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('refuses provider tokens with a wrong audience, an expired one, a foreign signer, or alg none (401)', async () => {
    const wrongAudience = await new SignJWT({ realm_access: { roles: ['kpi-admin'] } })
      .setProtectedHeader({ alg: 'RS256', kid: 'idp-1' })
      .setIssuer(ISSUER)
      .setAudience('some-other-app')
      .setSubject('x')
      .setExpirationTime(now() + 300)
      .sign(idpKey);
    const expired = await idpToken({}, { exp: now() - 3600 });
    const { privateKey: foreign } = await generateKeyPair('RS256', { modulusLength: 2048 });
    const forged = await idpToken({}, { key: foreign });
    const unknownKid = await idpToken({}, { kid: 'idp-9', key: foreign });
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const none = `${b64({ alg: 'none', kid: 'idp-1' })}.${b64({ iss: ISSUER, aud: AUDIENCE, sub: 'x', exp: now() + 300, realm_access: { roles: ['kpi-admin'] } })}.`;
    for (const token of [wrongAudience, expired, forged, unknownKid, none]) {
      const res = await call(sso, 'GET', `${API}/me`, undefined, bearer(token));
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/invalid_token/);
    }
  });

  it('is off unless configured: the plain app refuses provider tokens', async () => {
    const res = await call(ctx.app, 'GET', `${API}/me`, undefined, bearer(await idpToken()));
    expect(res.status).toBe(401);
  });

  it('still accepts local tokens next to the provider', async () => {
    const login = await call(sso, 'GET', `${API}/me`);
    expect(login.body).toMatchObject({ kind: 'user', role: 'admin' });
    expect((await call(sso, 'GET', `${API}/me`, undefined, NO_AUTH)).status).toBe(401);
  });
});

describe('claim mapping', () => {
  it('walks dotted paths and maps strings, space-separated lists and arrays', () => {
    expect(claimAt({ a: { b: { c: 1 } } }, 'a.b.c')).toBe(1);
    expect(claimAt({ a: 1 }, 'a.b')).toBeUndefined();
    expect(roleFromClaim('viewer editor', undefined)).toBe('editor');
    expect(roleFromClaim(['admin', 'viewer'], undefined)).toBe('admin');
    expect(roleFromClaim(['root'], undefined)).toBeUndefined();
    expect(roleFromClaim(['x', 'y'], { x: 'viewer', y: 'editor' })).toBe('editor');
    expect(roleFromClaim('admin', { x: 'viewer' })).toBeUndefined();
    expect(roleFromClaim(42, undefined)).toBeUndefined();
  });
});
