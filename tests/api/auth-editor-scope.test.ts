/**
 * Object-level authorization (OWASP API1): editors write only their own organization's plans and
 * measurements. Policy: an editor gets through only to targets that provably belong to its own
 * organization; another organization's target and a nonexistent one answer the same 403 (ids
 * cannot be probed), while admins get 404 for nonexistent ones. Reads are open to every role.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Json, TestUser } from '../helpers/app.js';
import { bearer, call, createTestUser, setupApp } from '../helpers/app.js';
import type { Tree } from '../helpers/fixtures.js';
import { API, createTree, indicatorBody, planBody, putMeasurement, uniqueCode } from '../helpers/fixtures.js';

const ctx = setupApp();

let mine: Tree;
let theirs: Tree;
let editor: TestUser;
let asEditor: Record<string, string>;
let asViewer: Record<string, string>;

/** Each tree's risk (a goal's child that names its goal, so its owner is found through the goal). */
const riskOf = new Map<string, string>();
const riskBody = () => ({ year: 2016, risk: { en: 'Staff shortage' }, plannedMeasures: { en: 'Hire' } });
async function withRisk(tree: Tree): Promise<Tree> {
  const res = await call(ctx.app, 'POST', `${API}/goals/${tree.goal.id}/risks`, riskBody());
  expect(res.status, res.raw.body).toBe(201);
  riskOf.set(tree.goal.id, res.body.id as string);
  return tree;
}

beforeAll(async () => {
  mine = await withRisk(await createTree(ctx.app));
  theirs = await withRisk(await createTree(ctx.app));
  await putMeasurement(ctx.app, theirs.indicator.id, 2016, { plan: 5, fact: 6 });
  editor = await createTestUser(ctx.app, { role: 'editor', organizationId: mine.organization.id });
  asEditor = bearer(editor.token);
  asViewer = bearer((await createTestUser(ctx.app, { role: 'viewer' })).token);
});

const section = () => ({ code: uniqueCode('S'), title: { en: 'Section' } });

/** Every write an editor might attempt on a tree: [label, method, url, body]. */
function writes(tree: Tree): [string, string, string, unknown][] {
  return [
    ['create plan', 'POST', `${API}/plans`, planBody(tree.organization.id)],
    ['update plan', 'PATCH', `${API}/plans/${tree.plan.id}`, { title: { en: 'Changed' } }],
    ['create direction', 'POST', `${API}/plans/${tree.plan.id}/directions`, section()],
    ['update direction', 'PATCH', `${API}/directions/${tree.direction.id}`, { title: { en: 'Changed' } }],
    ['create goal', 'POST', `${API}/directions/${tree.direction.id}/goals`, section()],
    ['update goal', 'PATCH', `${API}/goals/${tree.goal.id}`, { title: { en: 'Changed' } }],
    ['create indicator', 'POST', `${API}/goals/${tree.goal.id}/indicators`, indicatorBody()],
    ['update indicator', 'PATCH', `${API}/indicators/${tree.indicator.id}`, { name: { en: 'Changed' } }],
    ['create risk', 'POST', `${API}/goals/${tree.goal.id}/risks`, riskBody()],
    ['update risk', 'PATCH', `${API}/risks/${riskOf.get(tree.goal.id)}`, { risk: { en: 'Changed' } }],
    ['delete risk', 'DELETE', `${API}/risks/${riskOf.get(tree.goal.id)}`, undefined],
    ['put measurement', 'PUT', `${API}/indicators/${tree.indicator.id}/measurements/2016`, { plan: 10, fact: 11 }],
    ['delete measurement', 'DELETE', `${API}/indicators/${tree.indicator.id}/measurements/2016`, undefined],
    ['delete indicator', 'DELETE', `${API}/indicators/${tree.indicator.id}?cascade=true`, undefined],
    ['delete goal', 'DELETE', `${API}/goals/${tree.goal.id}?cascade=true`, undefined],
    ['delete direction', 'DELETE', `${API}/directions/${tree.direction.id}?cascade=true`, undefined],
    ['delete plan', 'DELETE', `${API}/plans/${tree.plan.id}?cascade=true`, undefined],
  ];
}

async function snapshot(tree: Tree) {
  const urls = [
    `plans/${tree.plan.id}`,
    `directions/${tree.direction.id}`,
    `goals/${tree.goal.id}`,
    `indicators/${tree.indicator.id}`,
    `risks/${riskOf.get(tree.goal.id)}`,
  ];
  const out: Json[] = [];
  for (const url of urls) out.push((await call(ctx.app, 'GET', `${API}/${url}`)).body);
  out.push((await call(ctx.app, 'GET', `${API}/indicators/${tree.indicator.id}/measurements`)).body);
  return out;
}

describe('an editor', () => {
  it("is refused (403) every write on another organization's plan, direction, goal, indicator, risk and measurement, and nothing changes", async () => {
    const before = await snapshot(theirs);
    const results: string[] = [];
    for (const [label, method, url, body] of writes(theirs)) {
      const res = await call(ctx.app, method as never, url, body, asEditor);
      if (res.status !== 403) results.push(`${label}: ${res.status}`);
      else expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    expect(results).toEqual([]);
    expect(await snapshot(theirs)).toEqual(before);
  });

  it("may do every one of those writes on its own organization's data", async () => {
    const results: string[] = [];
    for (const [label, method, url, body] of writes(mine)) {
      const res = await call(ctx.app, method as never, url, body, asEditor);
      if (res.status >= 300) results.push(`${label}: ${res.status} ${res.raw.body.slice(0, 200)}`);
    }
    expect(results).toEqual([]);
    mine = await withRisk(await createTree(ctx.app, { organizationId: mine.organization.id }));
  });

  it('reads everything, other organizations included', async () => {
    for (const url of [
      `plans/${theirs.plan.id}`,
      `directions/${theirs.direction.id}`,
      `goals/${theirs.goal.id}`,
      `indicators/${theirs.indicator.id}`,
      `indicators/${theirs.indicator.id}/measurements`,
      `indicators/${theirs.indicator.id}/measurements/2016`,
      `plans?organizationId=${theirs.organization.id}`,
      `organizations/${theirs.organization.id}`,
    ]) {
      expect((await call(ctx.app, 'GET', `${API}/${url}`, undefined, asEditor)).status, url).toBe(200);
    }
  });

  it('gets the same 403 for a nonexistent target as for a foreign one; an admin gets 404', async () => {
    const ghost = randomUUID();
    const pairs: [string, string, string, unknown][] = [
      ['PATCH', `${API}/plans/${ghost}`, `${API}/plans/${theirs.plan.id}`, { title: { en: 'x' } }],
      ['POST', `${API}/plans/${ghost}/directions`, `${API}/plans/${theirs.plan.id}/directions`, section()],
      ['DELETE', `${API}/goals/${ghost}`, `${API}/goals/${theirs.goal.id}`, undefined],
      [
        'PUT',
        `${API}/indicators/${ghost}/measurements/2016`,
        `${API}/indicators/${theirs.indicator.id}/measurements/2016`,
        { plan: 1, fact: 1 },
      ],
    ];
    for (const [method, ghostUrl, foreignUrl, body] of pairs) {
      const missing = await call(ctx.app, method as never, ghostUrl, body, asEditor);
      const foreign = await call(ctx.app, method as never, foreignUrl, body, asEditor);
      expect(missing.status, ghostUrl).toBe(403);
      expect({ ...missing.body, instance: undefined }).toEqual({ ...foreign.body, instance: undefined });
      expect((await call(ctx.app, method as never, ghostUrl, body)).status, `admin ${ghostUrl}`).toBe(404);
    }
    // A plan for a nonexistent organization: 403 to the editor, 400 (unknown organization) to an admin.
    expect((await call(ctx.app, 'POST', `${API}/plans`, planBody(randomUUID()), asEditor)).status).toBe(403);
    expect((await call(ctx.app, 'POST', `${API}/plans`, planBody(randomUUID()))).status).toBe(400);
  });

  it('still gets 400 for an invalid body on its own data (scoping runs after validation)', async () => {
    const res = await call(
      ctx.app,
      'POST',
      `${API}/plans`,
      { ...planBody(mine.organization.id), startYear: 'soon' },
      asEditor,
    );
    expect(res.status).toBe(400);
    const foreign = await call(
      ctx.app,
      'POST',
      `${API}/plans`,
      { ...planBody(theirs.organization.id), startYear: 'soon' },
      asEditor,
    );
    expect(foreign.status).toBe(400);
  });

  it('may not write organizations, users or clients (admin only)', async () => {
    expect(
      (await call(ctx.app, 'PATCH', `${API}/organizations/${mine.organization.id}`, { name: { en: 'x' } }, asEditor))
        .status,
    ).toBe(403);
    expect(
      (await call(ctx.app, 'POST', `${API}/organizations`, { code: uniqueCode('O'), name: { en: 'x' } }, asEditor))
        .status,
    ).toBe(403);
    expect((await call(ctx.app, 'GET', `${API}/users`, undefined, asEditor)).status).toBe(403);
    expect((await call(ctx.app, 'POST', `${API}/clients`, { name: 'x', role: 'viewer' }, asEditor)).status).toBe(403);
  });

  it('follows changes to its user record at once: moved to another organization, then demoted', async () => {
    const moving = await createTestUser(ctx.app, { role: 'editor', organizationId: mine.organization.id });
    const headers = bearer(moving.token);
    const title = { title: { en: 'Moved' } };
    expect((await call(ctx.app, 'PATCH', `${API}/plans/${mine.plan.id}`, title, headers)).status).toBe(200);
    expect(
      (await call(ctx.app, 'PATCH', `${API}/users/${moving.id}`, { organizationId: theirs.organization.id })).status,
    ).toBe(200);
    // Same token, whose claim still names the old organization.
    expect((await call(ctx.app, 'PATCH', `${API}/plans/${mine.plan.id}`, title, headers)).status).toBe(403);
    expect((await call(ctx.app, 'PATCH', `${API}/plans/${theirs.plan.id}`, title, headers)).status).toBe(200);
    expect((await call(ctx.app, 'PATCH', `${API}/users/${moving.id}`, { role: 'viewer' })).status).toBe(200);
    expect((await call(ctx.app, 'PATCH', `${API}/plans/${theirs.plan.id}`, title, headers)).status).toBe(403);
    expect((await call(ctx.app, 'GET', `${API}/plans/${theirs.plan.id}`, undefined, headers)).status).toBe(200);
  });
});

describe('a viewer', () => {
  it('reads but cannot write anything, not even in a tree it could read', async () => {
    expect((await call(ctx.app, 'GET', `${API}/plans/${mine.plan.id}`, undefined, asViewer)).status).toBe(200);
    const results: string[] = [];
    for (const [label, method, url, body] of writes(mine)) {
      const res = await call(ctx.app, method as never, url, body, asViewer);
      if (res.status !== 403) results.push(`${label}: ${res.status}`);
    }
    expect(results).toEqual([]);
  });
});

describe('an admin', () => {
  it('writes any organization, and what it writes is stored', async () => {
    expect((await call(ctx.app, 'PATCH', `${API}/plans/${theirs.plan.id}`, { title: { en: 'By admin' } })).status).toBe(
      200,
    );
    expect((await call(ctx.app, 'GET', `${API}/plans/${theirs.plan.id}`)).body.title).toEqual({ en: 'By admin' });
    expect(
      (await call(ctx.app, 'PUT', `${API}/indicators/${mine.indicator.id}/measurements/2017`, { plan: 1, fact: 2 }))
        .status,
    ).toBe(201);
    expect((await call(ctx.app, 'GET', `${API}/indicators/${mine.indicator.id}/measurements/2017`)).body).toMatchObject(
      { plan: 1, fact: 2, version: 1 },
    );
  });
});
