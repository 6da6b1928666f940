/**
 * ES256 beside EdDSA (JWT_ALGORITHM), and RFC 8414 metadata discovery. Tokens are checked the way
 * an outside verifier would: jose with the published JWKS, issuer and audience pinned.
 */
import { randomUUID } from 'node:crypto';
import { eq, isNull } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { CryptoKey, JWK, JWTPayload } from 'jose';
import {
  SignJWT,
  createLocalJWKSet,
  decodeProtectedHeader,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  importJWK,
  jwtVerify,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import type { Config } from '../../src/config.js';
import { loadConfig } from '../../src/config.js';
import { signingKeys } from '../../src/db/schema.js';
import type { Json } from '../helpers/app.js';
import { NO_AUTH, bearer, call, createTestUser, testConfig } from '../helpers/app.js';
import type { TestDatabase } from '../helpers/database.js';
import { createTestDatabase } from '../helpers/database.js';

const opened: FastifyInstance[] = [];
const databases: TestDatabase[] = [];

async function app(config: Partial<Config>, db: TestDatabase['database']['db']) {
  const instance = await buildApp({ db, config: { ...testConfig, ...config }, logger: false });
  opened.push(instance);
  await instance.ready();
  return instance;
}

async function freshDb() {
  const db = await createTestDatabase();
  databases.push(db);
  return db.database.db;
}

afterAll(async () => {
  for (const instance of opened) await instance.close().catch(() => undefined);
  for (const db of databases) await db.dispose();
});

const jwks = async (instance: FastifyInstance): Promise<{ keys: JWK[] }> =>
  (await call(instance, 'GET', '/.well-known/jwks.json', undefined, NO_AUTH)).body;
const me = (instance: FastifyInstance, token: string) => call(instance, 'GET', '/api/v1/me', undefined, bearer(token));
const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Verifies as a relying party that knows only the JWKS document, the issuer and the audience. */
async function verifyOutside(token: string, keys: { keys: JWK[] }, issuer = testConfig.JWT_ISSUER) {
  return jwtVerify(token, createLocalJWKSet(keys as never), {
    issuer,
    audience: testConfig.JWT_AUDIENCE,
    algorithms: ['EdDSA', 'ES256'],
  });
}

describe('JWT_ALGORITHM=ES256 with generated keys', () => {
  let db: TestDatabase['database']['db'];
  let es: FastifyInstance;
  let viewerId: string;
  let token: string;

  beforeAll(async () => {
    db = await freshDb();
    es = await app({ JWT_ALGORITHM: 'ES256' }, db);
    const viewer = await createTestUser(es, { role: 'viewer' });
    viewerId = viewer.id;
    token = viewer.token;
  });

  it('generates a P-256 key, signs ES256 with it, publishes it, and the token verifies here and outside', async () => {
    const rows = await db.select().from(signingKeys);
    expect(rows.map((r) => [r.alg, r.retiredAt])).toEqual([['ES256', null]]);
    const published = await jwks(es);
    expect(published.keys).toEqual([
      {
        kty: 'EC',
        crv: 'P-256',
        x: expect.any(String),
        y: expect.any(String),
        kid: rows[0]!.kid,
        alg: 'ES256',
        use: 'sig',
      },
    ]);
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'ES256', kid: rows[0]!.kid, typ: 'at+jwt' });
    expect((await me(es, token)).status).toBe(200);
    const { payload } = await verifyOutside(token, published);
    expect(payload.sub).toBe(viewerId);
  });

  describe('forged tokens against the ES256 key', () => {
    let kid: string;
    let publicJwk: JWK;
    let privateKey: CryptoKey;
    const claims = (overrides: JWTPayload = {}): JWTPayload => ({
      iss: testConfig.JWT_ISSUER,
      aud: testConfig.JWT_AUDIENCE,
      sub: viewerId,
      role: 'viewer',
      iat: now(),
      nbf: now(),
      exp: now() + 600,
      jti: randomUUID(),
      ...overrides,
    });

    beforeAll(async () => {
      const [row] = await db.select().from(signingKeys).where(isNull(signingKeys.retiredAt));
      kid = row!.kid;
      publicJwk = row!.publicJwk as JWK;
      privateKey = (await importJWK({ ...(row!.privateJwk as JWK), alg: 'ES256' }, 'ES256')) as CryptoKey;
    });

    it('accepts the control token signed with the real private key', async () => {
      const control = await new SignJWT(claims())
        .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
        .sign(privateKey);
      expect((await me(es, control)).status).toBe(200);
    });

    it('refuses HS256 keyed with the public key, and alg none', async () => {
      for (const secret of [
        new TextEncoder().encode(JSON.stringify(publicJwk)),
        Buffer.from(publicJwk.x!, 'base64url'),
      ]) {
        const hs = await new SignJWT(claims({ role: 'admin' }))
          .setProtectedHeader({ alg: 'HS256', kid, typ: 'at+jwt' })
          .sign(secret);
        expect((await me(es, hs)).status).toBe(401);
      }
      const none = `${b64({ alg: 'none', kid, typ: 'at+jwt' })}.${b64(claims())}.`;
      expect((await me(es, none)).status).toBe(401);
    });

    it('refuses ES256 over a foreign P-256 key naming our kid, and ES384 naming our kid', async () => {
      const foreign = await generateKeyPair('ES256');
      const forged = await new SignJWT(claims())
        .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
        .sign(foreign.privateKey);
      expect((await me(es, forged)).status).toBe(401);
      const p384 = await generateKeyPair('ES384');
      const es384 = await new SignJWT(claims())
        .setProtectedHeader({ alg: 'ES384', kid, typ: 'at+jwt' })
        .sign(p384.privateKey);
      expect((await me(es, es384)).status).toBe(401);
    });
  });
});

describe('switching EdDSA -> ES256 on one database (replicas restarted one by one)', () => {
  it("publishes both keys, each side accepts the other side's tokens, and a kid is bound to its algorithm", async () => {
    const db = await freshDb();
    const ed = await app({}, db);
    const edUser = await createTestUser(ed, { role: 'viewer' });
    const es = await app({ JWT_ALGORITHM: 'ES256' }, db);
    const esUser = await createTestUser(es, { role: 'viewer' });
    expect(decodeProtectedHeader(edUser.token).alg).toBe('EdDSA');
    expect(decodeProtectedHeader(esUser.token).alg).toBe('ES256');

    const current = await db.select().from(signingKeys).where(isNull(signingKeys.retiredAt));
    expect(current.map((k) => k.alg).sort()).toEqual(['ES256', 'EdDSA']);
    const published = await jwks(es);
    expect(published.keys.map((k) => k.alg).sort()).toEqual(['ES256', 'EdDSA']);
    for (const token of [edUser.token, esUser.token]) {
      expect((await me(ed, token)).status).toBe(200); // ed has not seen the ES256 kid: it reloads at once
      expect((await me(es, token)).status).toBe(200);
      await verifyOutside(token, published);
    }

    // The verifier takes the algorithm from the key the kid names: an ES256 signature under the
    // EdDSA key's kid is refused although the ES256 key itself is trusted.
    const esRow = current.find((k) => k.alg === 'ES256')!;
    const edKid = current.find((k) => k.alg === 'EdDSA')!.kid;
    const esPrivate = (await importJWK({ ...(esRow.privateJwk as JWK), alg: 'ES256' }, 'ES256')) as CryptoKey;
    const payload = {
      iss: testConfig.JWT_ISSUER,
      aud: testConfig.JWT_AUDIENCE,
      sub: edUser.id,
      role: 'viewer',
      jti: randomUUID(),
    };
    const crossed = await new SignJWT(payload)
      .setProtectedHeader({ alg: 'ES256', kid: edKid, typ: 'at+jwt' })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(esPrivate);
    expect((await me(es, crossed)).status).toBe(401);
    const straight = await new SignJWT(payload)
      .setProtectedHeader({ alg: 'ES256', kid: esRow.kid, typ: 'at+jwt' })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(esPrivate);
    expect((await me(es, straight)).status).toBe(200);
  });

  it('keys:rotate retires both and keeps the configured algorithm; a replica on the other one makes its own key again', async () => {
    const db = await freshDb();
    const ed = await app({}, db);
    const es = await app({ JWT_ALGORITHM: 'ES256' }, db);
    const edUser = await createTestUser(ed, { role: 'viewer' });
    const before = await db.select().from(signingKeys);
    const rotated = await es.auth.keys.rotate();
    expect(rotated.retired.sort()).toEqual(before.map((k) => k.kid).sort());
    const current = await db.select().from(signingKeys).where(isNull(signingKeys.retiredAt));
    expect(current.map((k) => [k.kid, k.alg])).toEqual([[rotated.kid, 'ES256']]);
    // Retired keys still verify their live tokens.
    expect((await me(es, edUser.token)).status).toBe(200);

    // The EdDSA replica notices on its next reload and generates a new EdDSA key rather than fail.
    (ed.auth.keys as unknown as { loadedAt: number }).loadedAt = 0;
    const { token } = await ed.auth.tokens.sign({ kind: 'user', id: edUser.id, role: 'viewer', organizationId: null });
    const header = decodeProtectedHeader(token);
    expect(header.alg).toBe('EdDSA');
    const [fresh] = await db.select().from(signingKeys).where(eq(signingKeys.kid, header.kid!));
    expect(fresh).toMatchObject({ alg: 'EdDSA', retiredAt: null });
    expect((await me(es, token)).status).toBe(200);
  });
});

describe('JWT_ALGORITHM with JWT_PRIVATE_KEY', () => {
  it('must match the key: the configuration names the variable, and the app refuses to start', async () => {
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const pem = (await exportPKCS8(privateKey)).replace(/\n/g, '\\n');
    expect(() => loadConfig({ JWT_PRIVATE_KEY: pem, JWT_ALGORITHM: 'ES256' })).toThrow(
      /JWT_ALGORITHM: JWT_ALGORITHM is ES256 but JWT_PRIVATE_KEY is a EdDSA key/,
    );
    expect(loadConfig({ JWT_PRIVATE_KEY: pem, JWT_ALGORITHM: 'EdDSA' }).JWT_ALGORITHM).toBe('EdDSA');
    expect(loadConfig({ JWT_PRIVATE_KEY: pem }).JWT_ALGORITHM).toBeUndefined();
    const p256 = JSON.stringify(await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey));
    expect(loadConfig({ JWT_PRIVATE_KEY: p256, JWT_ALGORITHM: 'ES256' }).JWT_PRIVATE_KEY).toBe(p256);
    expect(() => loadConfig({ JWT_PRIVATE_KEY: 'not a key' })).toThrow(
      /JWT_PRIVATE_KEY: JWT_PRIVATE_KEY is not a usable private key/,
    );
    for (const bad of ['HS256', 'RS256', 'none', 'eddsa'])
      expect(() => loadConfig({ JWT_ALGORITHM: bad })).toThrow(/JWT_ALGORITHM/);

    const db = await freshDb();
    const broken = await buildApp({
      db,
      config: { ...testConfig, JWT_PRIVATE_KEY: pem, JWT_ALGORITHM: 'ES256' },
      logger: false,
    });
    await expect(broken.ready()).rejects.toThrow(/JWT_ALGORITHM is ES256/);
    await broken.close().catch(() => undefined);
  });
});

describe('GET /.well-known/oauth-authorization-server', () => {
  let db: TestDatabase['database']['db'];
  beforeAll(async () => {
    db = await freshDb();
  });

  it('answers RFC 8414 metadata on the issuer URL, and a client discovers, gets and verifies a token from it alone', async () => {
    const issuer = 'https://kpi.example.kz';
    const instance = await app({ JWT_ISSUER: issuer, JWT_ALGORITHM: 'ES256' }, db);
    const res = await call(instance, 'GET', '/.well-known/oauth-authorization-server', undefined, NO_AUTH);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('public, max-age=3600');
    expect(res.body).toEqual({
      issuer,
      token_endpoint: `${issuer}/api/v1/auth/token`,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      response_types_supported: [],
      service_documentation: `${issuer}/docs`,
    });

    // Follow the document as an OAuth client would: only its URLs, paths taken off this host.
    const client = await call(
      instance,
      'POST',
      '/api/v1/clients',
      { name: 'BI gateway', role: 'viewer' },
      bearer((await createTestUser(instance, { role: 'admin' })).token),
    );
    expect(client.status).toBe(201);
    const tokenPath = new URL(res.body.token_endpoint).pathname;
    const basic = Buffer.from(`${client.body.clientId}:${client.body.clientSecret}`).toString('base64');
    const issued = await instance.inject({
      method: 'POST',
      url: tokenPath,
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'grant_type=client_credentials',
    });
    expect(issued.statusCode, issued.body).toBe(200);
    const keys = (await call(instance, 'GET', new URL(res.body.jwks_uri).pathname, undefined, NO_AUTH)).body;
    const { payload, protectedHeader } = await verifyOutside(issued.json().access_token, keys, res.body.issuer);
    expect(payload).toMatchObject({ iss: issuer, client_id: client.body.clientId });
    expect(protectedHeader.alg).toBe('ES256');
  });

  it('keeps a non-URL issuer as it is and builds the endpoints on the URL the request reached, uncached', async () => {
    const instance = await app({}, db);
    const res = await instance.inject({
      method: 'GET',
      url: '/.well-known/oauth-authorization-server',
      headers: { host: 'api.example.kz:8443' },
    });
    expect(res.statusCode).toBe(200);
    const body: Json = res.json();
    expect(body.issuer).toBe(testConfig.JWT_ISSUER);
    expect(body.token_endpoint).toBe('http://api.example.kz:8443/api/v1/auth/token');
    expect(body.jwks_uri).toBe('http://api.example.kz:8443/.well-known/jwks.json');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(String(res.headers.vary)).toMatch(/host/);
  });

  it('needs no token even with a bad one, and the issuer trailing slash is kept in issuer only', async () => {
    const instance = await app({ JWT_ISSUER: 'https://kpi.example.kz/nysana/' }, db);
    const res = await call(instance, 'GET', '/.well-known/oauth-authorization-server', undefined, bearer('garbage'));
    expect(res.status).toBe(200);
    expect(res.body.issuer).toBe('https://kpi.example.kz/nysana/');
    expect(res.body.token_endpoint).toBe('https://kpi.example.kz/nysana/api/v1/auth/token');
  });
});
