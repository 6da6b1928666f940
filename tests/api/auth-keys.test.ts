/** Signing keys: generated once and shared through the database, rotated, configured, encrypted at rest. */
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { calculateJwkThumbprint, decodeProtectedHeader, exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import type { Config } from '../../src/config.js';
import { signingKeys } from '../../src/db/schema.js';
import type { Json } from '../helpers/app.js';
import { NO_AUTH, bearer, call, createTestUser, setupApp, testConfig } from '../helpers/app.js';
import type { TestDatabase } from '../helpers/database.js';
import { createTestDatabase } from '../helpers/database.js';

const ctx = setupApp();
const opened: FastifyInstance[] = [];
const databases: TestDatabase[] = [];

async function app(config: Partial<Config> = {}, db = ctx.db.database.db) {
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

const jwks = async (instance: FastifyInstance): Promise<Json> =>
  (await call(instance, 'GET', '/.well-known/jwks.json', undefined, NO_AUTH)).body;
const me = (instance: FastifyInstance, token: string) => call(instance, 'GET', '/api/v1/me', undefined, bearer(token));

describe('database keys', () => {
  let user: Awaited<ReturnType<typeof createTestUser>>;
  beforeAll(async () => {
    user = await createTestUser(ctx.app, { role: 'viewer' });
  });

  it("are generated once and shared: a second replica publishes the same key and accepts the first one's tokens", async () => {
    const rows = await ctx.db.database.db.select().from(signingKeys);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ alg: 'EdDSA', retiredAt: null });
    const replica = await app();
    expect(await ctx.db.database.db.select().from(signingKeys)).toHaveLength(1);
    expect(await jwks(replica)).toEqual(await jwks(ctx.app));
    expect((await me(replica, user.token)).status).toBe(200);
  });

  it('rotate: new tokens use the new kid, old tokens stay valid, both keys are published, other replicas follow at once', async () => {
    const replica = await app();
    const before = user.token;
    const oldKid = decodeProtectedHeader(before).kid;
    const result = await ctx.app.auth.keys.rotate();
    expect(result.retired).toEqual([oldKid]);
    expect(result.kid).not.toBe(oldKid);

    const { token: after } = await ctx.app.auth.tokens.sign({
      kind: 'user',
      id: user.id,
      role: 'viewer',
      organizationId: null,
    });
    expect(decodeProtectedHeader(after).kid).toBe(result.kid);
    const published = (await jwks(ctx.app)).keys.map((k: Json) => k.kid);
    expect(published).toEqual(expect.arrayContaining([oldKid, result.kid]));

    for (const instance of [ctx.app, replica]) {
      expect((await me(instance, before)).status).toBe(200);
      // The replica has not reloaded yet; the unknown kid makes it look at once.
      expect((await me(instance, after)).status).toBe(200);
    }
    const rows = await ctx.db.database.db.select().from(signingKeys);
    expect(rows.filter((r) => r.retiredAt === null)).toHaveLength(1);
  });

  it('drops a key retired longer ago than the longest token lifetime', async () => {
    const oldKid = decodeProtectedHeader(user.token).kid!;
    // This replica verifies the token while its key is trusted, so it holds it as verified.
    const earlier = await app();
    expect((await me(earlier, user.token)).status).toBe(200);
    await ctx.db.database.db
      .update(signingKeys)
      .set({ retiredAt: new Date(Date.now() - 2 * 3_600_000) })
      .where(eq(signingKeys.kid, oldKid));
    const replica = await app();
    expect((await jwks(replica)).keys.map((k: Json) => k.kid)).not.toContain(oldKid);
    expect((await me(replica, user.token)).status).toBe(401);
    // Once it reloads the keys, the remembered verification no longer counts either.
    await earlier.auth.keys.init();
    expect((await me(earlier, user.token)).status).toBe(401);
  });

  it('are encrypted at rest with JWT_KEY_ENCRYPTION_SECRET, and refuse to start without it', async () => {
    const db = await freshDb();
    const secret = 'a-very-long-key-encryption-secret-0123456789';
    const encrypted = await app({ JWT_KEY_ENCRYPTION_SECRET: secret }, db);
    const [row] = await db.select().from(signingKeys);
    expect(row!.privateJwk).toMatchObject({ enc: 'A256GCM' });
    expect(JSON.stringify(row!.privateJwk)).not.toMatch(/"d"/);
    const viewer = await createTestUser(encrypted, { role: 'viewer' });
    expect((await me(encrypted, viewer.token)).status).toBe(200);

    const without = await buildApp({ db, config: testConfig, logger: false });
    await expect(without.ready()).rejects.toThrow(/JWT_KEY_ENCRYPTION_SECRET/);
    await without.close().catch(() => undefined);
    const wrong = await buildApp({
      db,
      config: { ...testConfig, JWT_KEY_ENCRYPTION_SECRET: 'x'.repeat(40) },
      logger: false,
    });
    await expect(wrong.ready()).rejects.toThrow(/does not decrypt/);
    await wrong.close().catch(() => undefined);
  });
});

describe('configured keys', () => {
  it('JWT_PRIVATE_KEY as Ed25519 PKCS8 PEM: signs with its thumbprint kid, stores nothing, refuses rotation', async () => {
    const db = await freshDb();
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const pem = await exportPKCS8(privateKey);
    const configured = await app({ JWT_PRIVATE_KEY: pem.replace(/\n/g, '\\n') }, db);
    const kid = await calculateJwkThumbprint(await exportJWK(publicKey));
    expect((await jwks(configured)).keys).toEqual([{ ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' }]);
    const viewer = await createTestUser(configured, { role: 'viewer' });
    expect(decodeProtectedHeader(viewer.token)).toMatchObject({ alg: 'EdDSA', kid });
    expect((await me(configured, viewer.token)).status).toBe(200);
    expect(await db.select().from(signingKeys)).toHaveLength(0);
    await expect(configured.auth.keys.rotate()).rejects.toThrow(/JWT_PREVIOUS_PUBLIC_KEYS/);
  });

  it('JWT_PRIVATE_KEY as a P-256 JWK (ES256) with JWT_KEY_ID, and the previous key kept verifiable', async () => {
    const db = await freshDb();
    const previous = await generateKeyPair('ES256', { extractable: true });
    const before = await app(
      { JWT_PRIVATE_KEY: JSON.stringify(await exportJWK(previous.privateKey)), JWT_KEY_ID: 'ops-2025-01' },
      db,
    );
    const viewer = await createTestUser(before, { role: 'viewer' });
    expect(decodeProtectedHeader(viewer.token)).toMatchObject({ alg: 'ES256', kid: 'ops-2025-01' });

    const next = await generateKeyPair('ES256', { extractable: true });
    const after = await app(
      {
        JWT_PRIVATE_KEY: JSON.stringify(await exportJWK(next.privateKey)),
        JWT_KEY_ID: 'ops-2025-07',
        JWT_PREVIOUS_PUBLIC_KEYS: { keys: [{ ...(await exportJWK(previous.publicKey)), kid: 'ops-2025-01' }] },
      },
      db,
    );
    expect((await jwks(after)).keys.map((k: Json) => [k.kid, k.alg])).toEqual([
      ['ops-2025-07', 'ES256'],
      ['ops-2025-01', 'ES256'],
    ]);
    expect((await me(after, viewer.token)).status).toBe(200);
    // A key dropped from the configuration stops verifying.
    const later = await app(
      { JWT_PRIVATE_KEY: JSON.stringify(await exportJWK(next.privateKey)), JWT_KEY_ID: 'ops-2025-07' },
      db,
    );
    expect((await me(later, viewer.token)).status).toBe(401);
  });

  it('refuses to start with an unusable key', async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    for (const JWT_PRIVATE_KEY of [
      'not a key',
      JSON.stringify(await exportJWK(privateKey)),
      '{"kty":"OKP","crv":"Ed25519","x":"abc"}',
    ]) {
      const broken = await buildApp({
        db: ctx.db.database.db,
        config: { ...testConfig, JWT_PRIVATE_KEY },
        logger: false,
      });
      await expect(broken.ready()).rejects.toThrow(/JWT_PRIVATE_KEY|Unsupported key type/);
      await broken.close().catch(() => undefined);
    }
  });
});

describe('a key reload that fails', () => {
  it('keeps verifying with the keys already loaded', async () => {
    const instance = await app();
    const viewer = await createTestUser(instance, { role: 'viewer' });
    const keys = instance.auth.keys as unknown as { loadedAt: number; readDatabaseKeys: () => Promise<void> };
    const original = keys.readDatabaseKeys;
    let attempts = 0;
    keys.readDatabaseKeys = async () => {
      attempts++;
      throw new Error('connection terminated');
    };
    try {
      keys.loadedAt = 0; // stale: the next verification tries to reload
      expect((await me(instance, viewer.token)).status).toBe(200);
      expect((await me(instance, viewer.token)).status).toBe(200);
      expect(attempts).toBe(1); // and does not hammer the database meanwhile
    } finally {
      keys.readDatabaseKeys = original;
    }
  });
});
