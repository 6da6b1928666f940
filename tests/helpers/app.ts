/** One `build()` for API tests: a fresh database, the real app over it, closed after the file. */
import { afterAll, beforeAll } from 'vitest';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildApp } from '../../src/app.js';
import type { TestDatabase } from './database.js';
import { createTestDatabase } from './database.js';

export interface TestContext {
  app: FastifyInstance;
  db: TestDatabase;
}

export const testConfig = { LOG_LEVEL: 'silent' as const, BODY_LIMIT_BYTES: 1_048_576, REQUEST_TIMEOUT_MS: 30_000 };

/** Call at the top of a test file; the returned object is filled in beforeAll. */
export function setupApp(): TestContext {
  const ctx = {} as TestContext;
  beforeAll(async () => {
    ctx.db = await createTestDatabase();
    ctx.app = await buildApp({ db: ctx.db.database.db, config: testConfig, logger: false });
    await ctx.app.ready();
  });
  afterAll(async () => {
    await ctx.app?.close();
    await ctx.db?.dispose();
  });
  return ctx;
}

export type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any -- response bodies in tests

/** inject() with JSON in and out. */
export async function call(app: FastifyInstance, method: InjectOptions['method'], url: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await app.inject({ method, url, payload: body as InjectOptions['payload'], headers });
  let json: Json;
  try {
    json = res.body ? JSON.parse(res.body) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, body: json as Json, headers: res.headers, raw: res };
}
