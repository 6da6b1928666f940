/**
 * Fixture builders for the planning hierarchy (organization -> plan -> direction -> goal ->
 * indicator -> measurement) and assertions shared by the API tests. Every request goes through
 * `call()`, so whatever credentials it adds by default apply here too.
 */
import { randomUUID } from 'node:crypto';
import type { SQL } from 'drizzle-orm';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import type { Json, TestContext } from './app.js';
import { call } from './app.js';

export const API = '/api/v1';

type Response = Awaited<ReturnType<typeof call>>;

let counter = 0;
/** A code no other fixture in this process uses, e.g. "ORG-7". */
export const uniqueCode = (prefix: string) => `${prefix}-${++counter}`;

export const unknownId = () => randomUUID();

/** Fails with the response body in the message, so a broken fixture says why. */
export function expectStatus(res: Response, status: number): Json {
  if (res.status !== status) {
    throw new Error(`expected HTTP ${status}, got ${res.status}: ${res.raw.body.slice(0, 2000)}`);
  }
  return res.body;
}

/**
 * An RFC 9457 problem: the content type, the four required members, and (when given) that
 * `errors` names every listed path.
 */
export function expectProblem(res: Response, status: number, paths: string[] = []) {
  expect(res.status, res.raw.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({
    type: expect.any(String),
    title: expect.any(String),
    status,
    detail: expect.any(String),
  });
  expect(res.body.title.length).toBeGreaterThan(0);
  expect(res.body.detail.length).toBeGreaterThan(0);
  if (paths.length > 0) {
    const got = (res.body.errors ?? []).map((e: { path: string }) => e.path);
    expect(got).toEqual(expect.arrayContaining(paths));
  }
  return res.body;
}

export const errorPaths = (res: Response): string[] => (res.body?.errors ?? []).map((e: { path: string }) => e.path);

/** A small pause so a second write lands in a later millisecond than the first (updatedAt has ms precision). */
export const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

export async function createOrganization(app: FastifyInstance, overrides: Record<string, unknown> = {}): Promise<Json> {
  const res = await call(app, 'POST', `${API}/organizations`, {
    code: uniqueCode('ORG'),
    name: { kk: 'Агенттік', ru: 'Агентство', en: 'Agency' },
    ...overrides,
  });
  return expectStatus(res, 201);
}

export function planBody(organizationId: string, overrides: Record<string, unknown> = {}) {
  return {
    organizationId,
    code: uniqueCode('PLAN'),
    title: { ru: 'Стратегический план 2014-2018', en: 'Strategic plan 2014-2018' },
    startYear: 2014,
    endYear: 2018,
    ...overrides,
  };
}

export async function createPlan(
  app: FastifyInstance,
  organizationId: string,
  overrides: Record<string, unknown> = {},
): Promise<Json> {
  return expectStatus(await call(app, 'POST', `${API}/plans`, planBody(organizationId, overrides)), 201);
}

export async function createDirection(
  app: FastifyInstance,
  planId: string,
  overrides: Record<string, unknown> = {},
): Promise<Json> {
  const res = await call(app, 'POST', `${API}/plans/${planId}/directions`, {
    code: uniqueCode('D'),
    title: { kk: 'Бағыт', en: 'Direction' },
    ...overrides,
  });
  return expectStatus(res, 201);
}

export async function createGoal(
  app: FastifyInstance,
  directionId: string,
  overrides: Record<string, unknown> = {},
): Promise<Json> {
  const res = await call(app, 'POST', `${API}/directions/${directionId}/goals`, {
    code: uniqueCode('G'),
    title: { kk: 'Мақсат', en: 'Goal' },
    ...overrides,
  });
  return expectStatus(res, 201);
}

export function indicatorBody(overrides: Record<string, unknown> = {}) {
  return {
    code: uniqueCode('I'),
    name: { ru: 'Доля госслужащих', en: 'Share of civil servants' },
    unit: { ru: '%', en: '%' },
    source: { ru: 'Административные данные', en: 'Administrative data' },
    valueType: 'percent',
    betterWhen: 'higher',
    ...overrides,
  };
}

export async function createIndicator(
  app: FastifyInstance,
  goalId: string,
  overrides: Record<string, unknown> = {},
): Promise<Json> {
  return expectStatus(await call(app, 'POST', `${API}/goals/${goalId}/indicators`, indicatorBody(overrides)), 201);
}

export async function putMeasurement(
  app: FastifyInstance,
  indicatorId: string,
  year: number,
  body: Record<string, unknown> = {},
): Promise<Json> {
  const res = await call(app, 'PUT', `${API}/indicators/${indicatorId}/measurements/${year}`, body);
  if (res.status !== 201 && res.status !== 200) expectStatus(res, 201);
  return res.body;
}

export interface Tree {
  organization: Json;
  plan: Json;
  direction: Json;
  goal: Json;
  indicator: Json;
}

/** One chain organization -> plan -> direction -> goal -> indicator (plan years 2014..2018). */
export async function createTree(
  app: FastifyInstance,
  options: { organizationId?: string; plan?: Record<string, unknown>; indicator?: Record<string, unknown> } = {},
): Promise<Tree> {
  const organization = options.organizationId
    ? expectStatus(await call(app, 'GET', `${API}/organizations/${options.organizationId}`), 200)
    : await createOrganization(app);
  const plan = await createPlan(app, organization.id, options.plan);
  const direction = await createDirection(app, plan.id);
  const goal = await createGoal(app, direction.id);
  const indicator = await createIndicator(app, goal.id, options.indicator);
  return { organization, plan, direction, goal, indicator };
}

/** Raw SQL against the test file's database (to check what was stored, not what was answered). */
export async function queryRows(ctx: TestContext, query: SQL): Promise<Record<string, unknown>[]> {
  const result = (await ctx.db.database.db.execute(query)) as unknown as { rows: Record<string, unknown>[] };
  return result.rows;
}

/** Row counts of the planning tables. */
export async function countRows(ctx: TestContext) {
  const [row] = await queryRows(
    ctx,
    sql`select (select count(*)::int from organizations) as organizations, (select count(*)::int from plans) as plans,
      (select count(*)::int from directions) as directions, (select count(*)::int from goals) as goals,
      (select count(*)::int from indicators) as indicators, (select count(*)::int from measurements) as measurements`,
  );
  return row as Record<'organizations' | 'plans' | 'directions' | 'goals' | 'indicators' | 'measurements', number>;
}

/** Every item of a list, following nextCursor; also returns how many pages it took. */
export async function listAll(app: FastifyInstance, url: string, limit: number) {
  const items: Json[] = [];
  let pages = 0;
  let cursor: string | null = null;
  do {
    const sep = url.includes('?') ? '&' : '?';
    const page: Json = expectStatus(
      await call(app, 'GET', `${url}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`),
      200,
    );
    pages++;
    expect(page.items.length).toBeLessThanOrEqual(limit);
    items.push(...page.items);
    cursor = page.nextCursor;
    if (pages > 100) throw new Error('pagination does not end');
  } while (cursor !== null);
  return { items, pages };
}
