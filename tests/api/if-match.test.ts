/**
 * If-Match on every route that takes one (the routes whose OpenAPI answers list 412): a stale and
 * a malformed tag each answer 412 and change nothing; the current tag then goes through. The list
 * of routes is checked against the served document, so a route that starts taking If-Match
 * without a row here fails the first test.
 */
import { describe, expect, it } from 'vitest';
import type { Json } from '../helpers/app.js';
import { call, setupApp } from '../helpers/app.js';
import {
  API,
  createDirection,
  createGoal,
  createIndicator,
  createOrganization,
  createPlan,
  createTree,
  expectProblem,
  expectStatus,
  putMeasurement,
  uniqueCode,
} from '../helpers/fixtures.js';

const ctx = setupApp();

/** One fresh target: the request to send, and how to read what is stored. */
interface Prepared {
  url: string;
  body?: unknown;
  /** The stored state, as the API reads it back (a DELETE that went through makes this 404). */
  read: () => Promise<{ status: number; body: Json }>;
}

interface Route {
  method: 'PUT' | 'PATCH' | 'DELETE' | 'POST';
  /** The OpenAPI path, e.g. /api/v1/users/{id}. */
  path: string;
  /** Creates a fresh target at version 1. */
  prepare: () => Promise<Prepared>;
  ok: number;
}

const readBack = (url: string) => async () => {
  const res = await call(ctx.app, 'GET', url);
  return { status: res.status, body: res.body };
};

async function fresh(url: string, body?: unknown): Promise<Prepared> {
  return { url, body, read: readBack(url) };
}

const title = { en: 'Changed by a stale writer' };
const blocks = [{ type: 'paragraph', text: { en: 'The note.' } }];
const signature = { position: { en: 'Chairman' }, name: { en: 'K. Kozhamzharov' } };

const newUser = async () =>
  expectStatus(
    await call(ctx.app, 'POST', `${API}/users`, {
      email: `${uniqueCode('if-match').toLowerCase()}@nysana.test`,
      displayName: 'If-Match',
      role: 'viewer',
      password: 'a long enough password here',
    }),
    201,
  );
const newClient = async () =>
  expectStatus(await call(ctx.app, 'POST', `${API}/clients`, { name: uniqueCode('client'), role: 'viewer' }), 201);
const newMethod = async () =>
  expectStatus(
    await call(ctx.app, 'POST', `${API}/evaluation-methods`, {
      code: uniqueCode('method'),
      name: { en: 'Capped' },
      rules: { rankDegree: 'places', cap: 1, bands: [], rollUp: 'mean', pending: { treatment: 'excluded' } },
    }),
    201,
  );
/** A webhook subscription's URL (a public address literal: no DNS lookup). */
const newSubscription = async () =>
  `${API}/webhooks/subscriptions/${
    expectStatus(
      await call(ctx.app, 'POST', `${API}/webhooks/subscriptions`, {
        url: 'https://93.184.215.14/hook',
        eventTypes: ['kz.nysana.year.approved'],
      }),
      201,
    ).id
  }`;
const newRisk = async () => {
  const tree = await createTree(ctx.app);
  return expectStatus(
    await call(ctx.app, 'POST', `${API}/goals/${tree.goal.id}/risks`, {
      year: 2016,
      risk: { en: 'Staff shortage' },
      plannedMeasures: { en: 'Hire' },
    }),
    201,
  );
};

const ROUTES: Route[] = [
  {
    method: 'PATCH',
    path: '/organizations/{id}',
    ok: 200,
    prepare: async () => fresh(`${API}/organizations/${(await createOrganization(ctx.app)).id}`, { name: title }),
  },
  {
    method: 'DELETE',
    path: '/organizations/{id}',
    ok: 204,
    prepare: async () => fresh(`${API}/organizations/${(await createOrganization(ctx.app)).id}`),
  },
  {
    method: 'PATCH',
    path: '/plans/{id}',
    ok: 200,
    prepare: async () =>
      fresh(`${API}/plans/${(await createPlan(ctx.app, (await createOrganization(ctx.app)).id)).id}`, { title }),
  },
  {
    method: 'DELETE',
    path: '/plans/{id}',
    ok: 204,
    prepare: async () =>
      fresh(`${API}/plans/${(await createPlan(ctx.app, (await createOrganization(ctx.app)).id)).id}`),
  },
  {
    method: 'PATCH',
    path: '/directions/{id}',
    ok: 200,
    prepare: async () =>
      fresh(`${API}/directions/${(await createDirection(ctx.app, (await createTree(ctx.app)).plan.id)).id}`, { title }),
  },
  {
    method: 'DELETE',
    path: '/directions/{id}',
    ok: 204,
    prepare: async () =>
      fresh(`${API}/directions/${(await createDirection(ctx.app, (await createTree(ctx.app)).plan.id)).id}`),
  },
  {
    method: 'PATCH',
    path: '/goals/{id}',
    ok: 200,
    prepare: async () =>
      fresh(`${API}/goals/${(await createGoal(ctx.app, (await createTree(ctx.app)).direction.id)).id}`, { title }),
  },
  {
    method: 'DELETE',
    path: '/goals/{id}',
    ok: 204,
    prepare: async () =>
      fresh(`${API}/goals/${(await createGoal(ctx.app, (await createTree(ctx.app)).direction.id)).id}`),
  },
  {
    method: 'PATCH',
    path: '/indicators/{id}',
    ok: 200,
    prepare: async () =>
      fresh(`${API}/indicators/${(await createIndicator(ctx.app, (await createTree(ctx.app)).goal.id)).id}`, {
        name: title,
      }),
  },
  {
    method: 'DELETE',
    path: '/indicators/{id}',
    ok: 204,
    prepare: async () =>
      fresh(`${API}/indicators/${(await createIndicator(ctx.app, (await createTree(ctx.app)).goal.id)).id}`),
  },
  {
    method: 'PATCH',
    path: '/risks/{id}',
    ok: 200,
    prepare: async () => fresh(`${API}/risks/${(await newRisk()).id}`, { risk: title }),
  },
  {
    method: 'DELETE',
    path: '/risks/{id}',
    ok: 204,
    prepare: async () => fresh(`${API}/risks/${(await newRisk()).id}`),
  },
  {
    method: 'PUT',
    path: '/indicators/{id}/measurements/{year}',
    ok: 200,
    prepare: async () => {
      const { indicator } = await createTree(ctx.app);
      await putMeasurement(ctx.app, indicator.id, 2016, { plan: 1, fact: 2 });
      return fresh(`${API}/indicators/${indicator.id}/measurements/2016`, { plan: 3, fact: 4 });
    },
  },
  {
    method: 'DELETE',
    path: '/indicators/{id}/measurements/{year}',
    ok: 204,
    prepare: async () => {
      const { indicator } = await createTree(ctx.app);
      await putMeasurement(ctx.app, indicator.id, 2016, { plan: 1, fact: 2 });
      return fresh(`${API}/indicators/${indicator.id}/measurements/2016`);
    },
  },
  {
    method: 'PUT',
    path: '/plans/{id}/notes/{year}',
    ok: 200,
    prepare: async () => {
      const { plan } = await createTree(ctx.app);
      expectStatus(await call(ctx.app, 'PUT', `${API}/plans/${plan.id}/notes/2016`, { blocks }), 201);
      return fresh(`${API}/plans/${plan.id}/notes/2016`, { blocks: [{ type: 'paragraph', text: title }] });
    },
  },
  {
    method: 'DELETE',
    path: '/plans/{id}/notes/{year}',
    ok: 204,
    prepare: async () => {
      const { plan } = await createTree(ctx.app);
      expectStatus(await call(ctx.app, 'PUT', `${API}/plans/${plan.id}/notes/2016`, { blocks }), 201);
      return fresh(`${API}/plans/${plan.id}/notes/2016`);
    },
  },
  {
    method: 'PATCH',
    path: '/users/{id}',
    ok: 200,
    prepare: async () => fresh(`${API}/users/${(await newUser()).id}`, { displayName: 'Stale' }),
  },
  {
    method: 'DELETE',
    path: '/users/{id}',
    ok: 204,
    prepare: async () => fresh(`${API}/users/${(await newUser()).id}`),
  },
  {
    method: 'PATCH',
    path: '/clients/{id}',
    ok: 200,
    prepare: async () => fresh(`${API}/clients/${(await newClient()).id}`, { name: 'Stale' }),
  },
  {
    method: 'POST',
    path: '/clients/{id}/secret',
    ok: 200,
    prepare: async () => {
      const client = await newClient();
      return { url: `${API}/clients/${client.id}/secret`, read: readBack(`${API}/clients/${client.id}`) };
    },
  },
  {
    method: 'DELETE',
    path: '/clients/{id}',
    ok: 204,
    prepare: async () => fresh(`${API}/clients/${(await newClient()).id}`),
  },
  {
    method: 'PATCH',
    path: '/evaluation-methods/{id}',
    ok: 200,
    prepare: async () => fresh(`${API}/evaluation-methods/${(await newMethod()).id}`, { name: title }),
  },
  {
    method: 'DELETE',
    path: '/evaluation-methods/{id}',
    ok: 204,
    prepare: async () => fresh(`${API}/evaluation-methods/${(await newMethod()).id}`),
  },
  {
    method: 'PATCH',
    path: '/indicators/{id}/measurements/{year}',
    ok: 200,
    prepare: async () => {
      const { indicator } = await createTree(ctx.app);
      await putMeasurement(ctx.app, indicator.id, 2016, { plan: 1, fact: 2 });
      return fresh(`${API}/indicators/${indicator.id}/measurements/2016`, { fact: 4 });
    },
  },
  {
    method: 'DELETE',
    path: '/me/tokens/{id}',
    ok: 204,
    prepare: async () =>
      fresh(
        `${API}/me/tokens/${expectStatus(await call(ctx.app, 'POST', `${API}/me/tokens`, { name: uniqueCode('pat') }), 201).id}`,
      ),
  },
  {
    method: 'DELETE',
    path: '/clients/{id}/tokens/{tokenId}',
    ok: 204,
    prepare: async () => {
      const client = await newClient();
      const token = expectStatus(
        await call(ctx.app, 'POST', `${API}/clients/${client.id}/tokens`, { name: uniqueCode('pat') }),
        201,
      );
      return fresh(`${API}/clients/${client.id}/tokens/${token.id}`);
    },
  },
  {
    method: 'PUT',
    path: '/plans/{id}/reports/{year}/signature',
    ok: 200,
    prepare: async () => {
      const { plan } = await createTree(ctx.app);
      const url = `${API}/plans/${plan.id}/reports/2016/signature`;
      expectStatus(await call(ctx.app, 'PUT', url, signature), 201);
      return fresh(url, { ...signature, name: { en: 'A. Stale' } });
    },
  },
  {
    method: 'DELETE',
    path: '/plans/{id}/reports/{year}/signature',
    ok: 204,
    prepare: async () => {
      const { plan } = await createTree(ctx.app);
      const url = `${API}/plans/${plan.id}/reports/2016/signature`;
      expectStatus(await call(ctx.app, 'PUT', url, signature), 201);
      return fresh(url);
    },
  },
  {
    method: 'PATCH',
    path: '/webhooks/subscriptions/{id}',
    ok: 200,
    prepare: async () => fresh(await newSubscription(), { description: 'Changed by a stale writer' }),
  },
  {
    method: 'DELETE',
    path: '/webhooks/subscriptions/{id}',
    ok: 204,
    prepare: async () => fresh(await newSubscription()),
  },
  {
    method: 'POST',
    path: '/webhooks/subscriptions/{id}/rotate-secret',
    ok: 200,
    prepare: async () => {
      const url = await newSubscription();
      return { url: `${url}/rotate-secret`, read: readBack(url) };
    },
  },
];

const label = (r: Route) => `${r.method} ${r.path}`;

/** Tags that name no version: a malformed If-Match is stale by definition (never "no check"). */
const MALFORMED = ['not-an-etag', '"one"', '"1.0"', 'W/"x"', '"-1"', 'x"1"', '"1"x'];

describe('If-Match', () => {
  it('is covered here on exactly the routes the OpenAPI document says answer 412', async () => {
    const document = expectStatus(await call(ctx.app, 'GET', '/openapi.json'), 200);
    const documented: string[] = [];
    for (const [path, operations] of Object.entries(document.paths as Record<string, Record<string, Json>>)) {
      for (const [method, operation] of Object.entries(operations)) {
        if (operation?.responses?.['412']) documented.push(`${method.toUpperCase()} ${path.replace(/^\/api\/v1/, '')}`);
      }
    }
    expect(ROUTES.map(label).sort()).toEqual(documented.sort());
  });

  it.each(ROUTES.map((r) => [label(r), r] as const))(
    '%s: a stale and a malformed tag answer 412 and change nothing; the current one passes',
    async (_, route) => {
      const target = await route.prepare();
      const before = await target.read();
      expect(before.status).toBe(200);
      expect(before.body.version).toBe(1);

      for (const tag of ['"2"', '"0"', '"999"', ...MALFORMED]) {
        const res = await call(ctx.app, route.method, target.url, target.body, { 'if-match': tag });
        expectProblem(res, 412);
        expect(res.body.detail, tag).toContain('current version 1');
        expect(await target.read(), `after If-Match ${tag}`).toEqual(before);
      }

      // The tag as the API gave it: the same request goes through (so the 412s above were the tag's doing).
      const ok = await call(ctx.app, route.method, target.url, target.body, { 'if-match': '"1"' });
      expect(ok.status, ok.raw.body).toBe(route.ok);
      const after = await target.read();
      if (route.method === 'DELETE') expect(after.status).toBe(404);
      else expect(after.body.version).toBe(2);

      // Without If-Match the write is unconditional: a second fresh target takes the same request.
      const unconditional = await route.prepare();
      const plain = await call(ctx.app, route.method, unconditional.url, unconditional.body);
      expect(plain.status, plain.raw.body).toBe(route.ok);
    },
  );

  it('accepts "*", a weak tag and surrounding spaces for the current version; a write without If-Match is not checked', async () => {
    const { goal } = await createTree(ctx.app);
    const url = `${API}/goals/${goal.id}`;
    const versions: number[] = [];
    for (const tag of ['*', ' * ', 'W/"3"', ' "4" ']) {
      versions.push(
        expectStatus(await call(ctx.app, 'PATCH', url, { title: { en: `Title ${tag}` } }, { 'if-match': tag }), 200)
          .version,
      );
    }
    versions.push(expectStatus(await call(ctx.app, 'PATCH', url, { title: { en: 'Unconditional' } }), 200).version);
    expect(versions).toEqual([2, 3, 4, 5, 6]);
    // A weak tag of an old version is still stale.
    expectProblem(await call(ctx.app, 'PATCH', url, { title }, { 'if-match': 'W/"5"' }), 412);
    // A version without its quotes (as some clients send it) is read as that version.
    expect(
      expectStatus(await call(ctx.app, 'PATCH', url, { title: { en: 'Unquoted' } }, { 'if-match': '6' }), 200).version,
    ).toBe(7);
    // Versions of several digits: "12" is not "1" or "2".
    for (let v = 7; v < 12; v++) expectStatus(await call(ctx.app, 'PATCH', url, { title: { en: `v${v}` } }), 200);
    expectProblem(await call(ctx.app, 'PATCH', url, { title }, { 'if-match': '"1"' }), 412);
    expectProblem(await call(ctx.app, 'PATCH', url, { title }, { 'if-match': '"2"' }), 412);
    expect(
      expectStatus(await call(ctx.app, 'PATCH', url, { title: { en: 'v12' } }, { 'if-match': '"12"' }), 200).version,
    ).toBe(13);
  });

  it('on PUT of a measurement or note that does not exist yet, any tag is stale (412, nothing created)', async () => {
    const { plan, indicator } = await createTree(ctx.app);
    const measurement = `${API}/indicators/${indicator.id}/measurements/2017`;
    const note = `${API}/plans/${plan.id}/notes/2017`;
    expectProblem(await call(ctx.app, 'PUT', measurement, { plan: 1 }, { 'if-match': '"1"' }), 412);
    expectProblem(await call(ctx.app, 'PUT', note, { blocks }, { 'if-match': 'W/"1"' }), 412);
    // "*" asks for something stored: nothing is, so it is stale too.
    expectProblem(await call(ctx.app, 'PUT', measurement, { plan: 1 }, { 'if-match': '*' }), 412);
    expectProblem(await call(ctx.app, 'PUT', note, { blocks }, { 'if-match': '*' }), 412);
    expectProblem(await call(ctx.app, 'GET', measurement), 404);
    expectProblem(await call(ctx.app, 'GET', note), 404);
  });
});
