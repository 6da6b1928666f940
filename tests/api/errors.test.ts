/**
 * The error envelope across the API: RFC 9457 problem+json for every error, 4xx (never 500) for
 * any bad input, transport-level errors (413, 415, bad JSON, unknown route), and a 5xx that
 * shows nothing of the internals.
 */
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { call, setupApp } from '../helpers/app.js';
import type { Json } from '../helpers/app.js';
import { API, createTree, expectProblem, putMeasurement, queryRows, unknownId } from '../helpers/fixtures.js';
import type { Tree } from '../helpers/fixtures.js';

const ctx = setupApp();
const JSON_TYPE = { 'content-type': 'application/json' };

describe('errors', () => {
  let tree: Tree;
  beforeAll(async () => {
    tree = await createTree(ctx.app);
    await putMeasurement(ctx.app, tree.indicator.id, 2016, { plan: 1, fact: 1 });
  });

  /** Every write route with a valid body, to break in different ways. */
  const writes = (): [string, 'POST' | 'PATCH' | 'PUT', string, Record<string, unknown>][] => [
    ['create organization', 'POST', `${API}/organizations`, { code: 'E-ORG', name: { en: 'x' } }],
    ['update organization', 'PATCH', `${API}/organizations/${tree.organization.id}`, { name: { en: 'x' } }],
    [
      'create plan',
      'POST',
      `${API}/plans`,
      { organizationId: tree.organization.id, code: 'E-P', title: { en: 'x' }, startYear: 2014, endYear: 2018 },
    ],
    ['update plan', 'PATCH', `${API}/plans/${tree.plan.id}`, { title: { en: 'x' } }],
    ['create direction', 'POST', `${API}/plans/${tree.plan.id}/directions`, { code: 'E-D', title: { en: 'x' } }],
    ['update direction', 'PATCH', `${API}/directions/${tree.direction.id}`, { title: { en: 'x' } }],
    ['create goal', 'POST', `${API}/directions/${tree.direction.id}/goals`, { code: 'E-G', title: { en: 'x' } }],
    ['update goal', 'PATCH', `${API}/goals/${tree.goal.id}`, { title: { en: 'x' } }],
    [
      'create indicator',
      'POST',
      `${API}/goals/${tree.goal.id}/indicators`,
      {
        code: 'E-I',
        name: { en: 'x' },
        unit: { en: '%' },
        source: { en: 's' },
        valueType: 'percent',
        betterWhen: 'higher',
      },
    ],
    ['update indicator', 'PATCH', `${API}/indicators/${tree.indicator.id}`, { name: { en: 'x' } }],
    ['put measurement', 'PUT', `${API}/indicators/${tree.indicator.id}/measurements/2015`, { plan: 1 }],
  ];

  describe('transport', () => {
    it.each([
      ['GET', '/api/v1/nothing-here'],
      ['GET', '/nothing-here'],
      ['POST', `/api/v1/plans/${'0'.repeat(8)}/chapters`],
      ['PUT', '/api/v1/organizations'],
    ] as const)('answers an unknown route (%s %s) with a 404 problem', async (method, url) => {
      const res = await call(ctx.app, method, url);
      expectProblem(res, 404);
      expect(res.body.detail).toContain(url.split('?')[0]);
    });

    it('answers a method the resource does not have with a problem, not an HTML page', async () => {
      const res = await call(ctx.app, 'PUT', `${API}/plans/${tree.plan.id}`, { title: { en: 'x' } });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expectProblem(res, res.status);
    });

    it('answers a malformed URL (400) and an over-long path parameter (414) with problems too', async () => {
      const bad = await call(ctx.app, 'GET', `${API}/plans/%E0%A4%A`, undefined, { 'x-request-id': 'bad-url-1' });
      expectProblem(bad, 400);
      expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expectProblem(await call(ctx.app, 'GET', '/nothing/%E0%A4%A'), 400);
      expectProblem(
        await call(ctx.app, 'GET', `${API}/indicators/${tree.indicator.id}/measurements/${'9'.repeat(400)}`),
        414,
      );
    });

    it('answers 413 to a body over 1 MiB on every write route, and stores nothing', async () => {
      const huge = 'x'.repeat(1_100_000);
      for (const [label, method, url, body] of writes()) {
        const res = await call(ctx.app, method, url, { ...body, padding: huge });
        expect(res.status, label).toBe(413);
        expectProblem(res, 413);
      }
      const list = await call(ctx.app, 'GET', `${API}/organizations?code=E-ORG`);
      expect(list.body.items).toEqual([]);
    });

    it('accepts a body just under the limit as far as size goes (then validates it)', async () => {
      const res = await call(ctx.app, 'POST', `${API}/organizations`, {
        code: 'BIG',
        name: { en: 'x'.repeat(4000) },
        padding: 'x'.repeat(900_000),
      });
      expectProblem(res, 400, ['body.padding']);
    });

    it.each(['text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'])(
      'answers 415 to content type %s on every write route',
      async (contentType) => {
        for (const [label, method, url, body] of writes()) {
          const res = await call(ctx.app, method, url, JSON.stringify(body), { 'content-type': contentType });
          expect(res.status, label).toBe(415);
          expectProblem(res, 415);
        }
      },
    );

    it('answers 415 to a body without a content type', async () => {
      const res = await call(ctx.app, 'POST', `${API}/organizations`, '{"code":"NOCT","name":{"en":"x"}}', {
        'content-type': '',
      });
      expectProblem(res, 415);
    });

    it('accepts application/json with a charset parameter', async () => {
      const res = await call(ctx.app, 'POST', `${API}/organizations`, '{"code":"CHARSET","name":{"kk":"Қазақстан"}}', {
        'content-type': 'application/json; charset=utf-8',
      });
      expect(res.status).toBe(201);
      expect(res.body.name).toEqual({ kk: 'Қазақстан' });
    });

    it.each([
      ['truncated JSON', '{"code":"X","name":'],
      ['single quotes', "{'code':'X'}"],
      ['a trailing comma', '{"code":"X",}'],
      ['NaN literal', '{"plan":NaN}'],
      ['Infinity literal', '{"plan":Infinity}'],
      ['a prototype-poisoning key', '{"__proto__":{"admin":true},"code":"X","name":{"en":"x"}}'],
      ['a constructor.prototype key', '{"constructor":{"prototype":{"admin":true}},"code":"X","name":{"en":"x"}}'],
    ])('answers 400 to malformed JSON: %s', async (_label, payload) => {
      const res = await call(ctx.app, 'POST', `${API}/organizations`, payload, JSON_TYPE);
      expectProblem(res, 400);
    });

    it('answers 400 to an empty body declared as JSON', async () => {
      expectProblem(await call(ctx.app, 'POST', `${API}/organizations`, '', JSON_TYPE), 400);
      expectProblem(await call(ctx.app, 'PATCH', `${API}/plans/${tree.plan.id}`, '', JSON_TYPE), 400);
    });

    it.each([
      ['an array', '[]'],
      ['null', 'null'],
      ['a string', '"plan"'],
      ['a number', '42'],
    ])('answers 400 on body when the JSON is %s', async (_label, payload) => {
      for (const [label, method, url] of writes()) {
        const res = await call(ctx.app, method, url, payload, JSON_TYPE);
        expect(res.status, label).toBe(400);
        expectProblem(res, 400, ['body']);
      }
    });

    it('answers its own request id, and echoes a sane caller x-request-id as x-correlation-id only', async () => {
      const given = await call(ctx.app, 'GET', `${API}/plans/${unknownId()}`, undefined, {
        'x-request-id': 'gw-123.abc',
      });
      expect(given.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(given.headers['x-correlation-id']).toBe('gw-123.abc');
      const insane = await call(ctx.app, 'GET', `${API}/plans/${unknownId()}`, undefined, {
        'x-request-id': 'a b<script>',
      });
      expect(insane.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(insane.headers['x-correlation-id']).toBeUndefined();
    });
  });

  describe('never a 500 for bad input', () => {
    const nasty: [string, unknown][] = [
      ['null', null],
      ['an empty string', ''],
      ['a huge number', 1e308],
      ['a negative number', -1],
      ['a boolean', true],
      ['an array', [1, 'a']],
      ['a deep object', { a: { b: { c: { d: { e: {} } } } } }],
      ['a NUL character', 'a\u0000b'],
      ['a lone surrogate', '\ud800'],
      ['a long string', 'x'.repeat(70_000)],
      ['SQL', "'); drop table plans; --"],
      ['a uuid-looking string', '00000000-0000-0000-0000-000000000000'],
    ];

    it.each(nasty)('puts %s into every field of every write route and gets a 4xx', async (_label, value) => {
      for (const [label, method, url, body] of writes()) {
        for (const field of Object.keys(body)) {
          const res = await call(ctx.app, method, url, { ...body, [field]: value });
          expect(res.status, `${label}, ${field}: ${res.raw.body}`).toBeLessThan(500);
          if (res.status >= 400) expectProblem(res, res.status);
        }
        // And into the localized texts' languages.
        for (const field of ['name', 'title', 'note'].filter((f) => f in body || method === 'PUT')) {
          const res = await call(ctx.app, method, url, { ...body, [field]: { kk: value } });
          expect(res.status, `${label}, ${field}.kk: ${res.raw.body}`).toBeLessThan(500);
        }
      }
      // Whatever was accepted is a well-formed code: nothing with a NUL, a quote or a space got stored.
      const rows = await queryRows(
        ctx,
        sql`select count(*)::int as n from (select code from organizations union all select code from plans union all select code from directions
            union all select code from goals union all select code from indicators) c where c.code ~ '[^A-Za-z0-9._/-]'`,
      );
      expect(rows[0]!.n).toBe(0);
    });

    it('stays below 500 for nasty query strings', async () => {
      const urls = [
        `${API}/plans?organizationId=%00`,
        `${API}/plans?code=%27%3B--`,
        `${API}/plans?limit=1&limit=2`,
        `${API}/plans?cursor=%00%01`,
        `${API}/plans/${tree.plan.id}/directions?code=${'x'.repeat(5000)}`,
        `${API}/indicators/${tree.indicator.id}/measurements?yearFrom=-99999999999`,
        `${API}/indicators/${tree.indicator.id}/measurements/${'9'.repeat(400)}`,
        `${API}/goals/${tree.goal.id}/indicators?valueType[]=rank`,
        `${API}/plans/${tree.plan.id}?cascade=true`,
        `${API}/plans/%E0%A4%A`,
      ];
      for (const url of urls) {
        const res = await call(ctx.app, 'GET', url);
        expect(res.status, `${url}: ${res.raw.body}`).toBeLessThan(500);
        if (res.status >= 400) expectProblem(res, res.status);
      }
    });
  });

  describe('the problem envelope', () => {
    it('is the same for 400, 404, 409 and 412 from the handlers', async () => {
      const bad = expectProblem(await call(ctx.app, 'POST', `${API}/plans`, {}), 400);
      expect(bad).toMatchObject({
        title: 'Bad Request',
        type: expect.stringMatching(/400$/),
        instance: `${API}/plans`,
      });
      expect(bad.errors.every((e: Json) => typeof e.path === 'string' && typeof e.message === 'string')).toBe(true);

      const missing = expectProblem(await call(ctx.app, 'GET', `${API}/goals/${unknownId()}`), 404);
      expect(missing).toMatchObject({ title: 'Not Found' });
      expect(missing.errors).toBeUndefined();

      const conflict = expectProblem(await call(ctx.app, 'DELETE', `${API}/plans/${tree.plan.id}`), 409);
      expect(conflict).toMatchObject({ title: 'Conflict' });

      const stale = expectProblem(
        await call(ctx.app, 'PATCH', `${API}/plans/${tree.plan.id}`, { title: { en: 'x' } }, { 'if-match': '"999"' }),
        412,
      );
      expect(stale).toMatchObject({ title: 'Precondition Failed' });
    });
  });

  describe('a 5xx', () => {
    it('hides the internals: generic detail, no stack, no SQL, and a request id to quote', async () => {
      // Break the database under the app: a missing table is a genuine server-side failure.
      await queryRows(ctx, sql`alter table measurements rename to measurements_gone`);
      try {
        const res = await call(ctx.app, 'GET', `${API}/indicators/${tree.indicator.id}/measurements`, undefined, {
          'x-request-id': 'trace-500',
        });
        expectProblem(res, 500);
        expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
        expect(res.headers['x-correlation-id']).toBe('trace-500');
        expect(res.body).toMatchObject({ type: 'about:blank', title: 'Internal Server Error' });
        expect(Object.keys(res.body).sort()).toEqual(['detail', 'instance', 'status', 'title', 'type']);
        for (const leak of [
          '"measurements"',
          'measurements_gone',
          'relation',
          'select',
          'stack',
          ' at ',
          '.ts',
          'node_modules',
          'drizzle',
          'error:',
        ]) {
          expect(res.raw.body.toLowerCase()).not.toContain(leak.toLowerCase());
        }
      } finally {
        await queryRows(ctx, sql`alter table measurements_gone rename to measurements`);
      }
      // And the app recovers once the database does.
      expect((await call(ctx.app, 'GET', `${API}/indicators/${tree.indicator.id}/measurements`)).status).toBe(200);
    });
  });
});
