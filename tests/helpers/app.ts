/**
 * One `build()` for API tests: a fresh database, the real app over it, closed after the file.
 *
 * Every route needs a bearer token, so `call()` sends an admin's by default: the first call on an
 * app creates an admin user in that app's database and signs a token with the app's own key store
 * (no login, so no argon2 cost and no rate limit). Pass `{ authorization: '' }` (or `NO_AUTH`) to
 * send none, or `bearer(await tokenFor(ctx, { role: 'viewer' }))` to act as someone else.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildApp } from '../../src/app.js';
import { hashPassword } from '../../src/auth/passwords.js';
import type { Config } from '../../src/config.js';
import { ConfigSchema } from '../../src/config.js';
import { users } from '../../src/db/schema.js';
import type { Role } from '../../src/http/access.js';
import type { TestDatabase } from './database.js';
import { createTestDatabase } from './database.js';

export interface TestContext {
  app: FastifyInstance;
  db: TestDatabase;
}

/**
 * The defaults of the real configuration, quiet, and with the per-IP /auth limit out of the way
 * (every injected request comes from 127.0.0.1); the rate-limit tests build apps of their own.
 */
export const testConfig: Config = {
  ...ConfigSchema.parse({}),
  LOG_LEVEL: 'silent',
  BODY_LIMIT_BYTES: 1_048_576,
  REQUEST_TIMEOUT_MS: 30_000,
  AUTH_RATE_LIMIT_PER_MINUTE: 100_000,
  // Load shedding and the write budget are tested by files that turn them on; elsewhere a busy
  // 2-core CI machine must not turn into 503s and 429s.
  MAX_EVENT_LOOP_DELAY_MS: 0,
  WRITE_RATE_LIMIT_PER_MINUTE: 0,
  // No webhook relay or dispatcher polling beside every test file; the webhook tests turn them on.
  WEBHOOKS: 'off',
};

/** Call at the top of a test file; the returned object is filled in beforeAll. */
export function setupApp(overrides: Partial<Config> = {}): TestContext {
  const ctx = {} as TestContext;
  beforeAll(async () => {
    ctx.db = await createTestDatabase();
    // With the status cache's listener, as the server runs (CACHE=off in overrides turns it off).
    ctx.app = await buildApp({
      db: ctx.db.database.db,
      config: { ...testConfig, ...overrides },
      logger: false,
      listen: ctx.db.database.listen,
    });
    await ctx.app.ready();
  });
  afterAll(async () => {
    await ctx.app?.close();
    await ctx.db?.dispose();
  });
  return ctx;
}

export type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any -- response bodies in tests

/** Headers that make `call()` send no Authorization header at all. */
export const NO_AUTH: Readonly<Record<string, string>> = { authorization: '' };

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/** The password of every user the helpers create (so tests may also log in as them). */
export const TEST_PASSWORD = 'correct horse battery staple';
let testPasswordHash: Promise<string> | undefined;

export interface TestUser {
  id: string;
  email: string;
  password: string;
  role: Role;
  organizationId: string | null;
  token: string;
}

/** A fresh user of `role` in the app's database, with a signed access token. */
export async function createTestUser(
  app: FastifyInstance,
  { role, organizationId = null, active = true }: { role: Role; organizationId?: string | null; active?: boolean },
): Promise<TestUser> {
  await app.ready();
  testPasswordHash ??= hashPassword(TEST_PASSWORD);
  const email = `${role}-${randomUUID()}@nysana.test`;
  const [row] = await app.auth.db
    .insert(users)
    .values({ email, displayName: `Test ${role}`, role, organizationId, active, passwordHash: await testPasswordHash })
    .returning({ id: users.id });
  const { token } = await app.auth.tokens.sign({ kind: 'user', id: row!.id, role, organizationId });
  return { id: row!.id, email, password: TEST_PASSWORD, role, organizationId, token };
}

/** A bearer token (without "Bearer ") for a fresh user of that role. */
export async function tokenFor(
  ctx: TestContext | FastifyInstance,
  options: { role: Role; organizationId?: string | null },
): Promise<string> {
  const app = 'app' in ctx ? ctx.app : ctx;
  return (await createTestUser(app, options)).token;
}

const adminTokens = new WeakMap<FastifyInstance, Promise<string>>();

/** The token `call()` sends by default: one admin per app, created on first use. */
export function adminToken(app: FastifyInstance): Promise<string> {
  let token = adminTokens.get(app);
  if (!token) {
    token = createTestUser(app, { role: 'admin' }).then((u) => u.token);
    token.catch(() => adminTokens.delete(app));
    adminTokens.set(app, token);
  }
  return token;
}

/** inject() with JSON in and out; an admin bearer token unless `headers.authorization` says otherwise. */
export async function call(
  app: FastifyInstance,
  method: InjectOptions['method'],
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const merged: Record<string, string> = { ...headers };
  const given = Object.keys(merged).find((k) => k.toLowerCase() === 'authorization');
  if (given === undefined) merged.authorization = `Bearer ${await adminToken(app)}`;
  else if (merged[given] === '') delete merged[given];
  const res = await app.inject({ method, url, payload: body as InjectOptions['payload'], headers: merged });
  let json: Json;
  try {
    json = res.body ? JSON.parse(res.body) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, body: json as Json, headers: res.headers, raw: res };
}
