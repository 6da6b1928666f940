/**
 * Bad dates and values are 400 naming the field, never 500, never silently changed (issue 16,
 * item 5): dates PostgreSQL cannot hold, PostgreSQL data exceptions, lone surrogates in text,
 * numbers a double cannot hold as written; and a new database does not answer 410 to a sync.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { databaseProblem } from '../../src/db/errors.js';
import { pruneTombstones } from '../../src/sync/retention.js';
import { adminToken, call, setupApp } from '../helpers/app.js';
import type { Json } from '../helpers/app.js';
import {
  API,
  createIndicator,
  createOrganization,
  createTree,
  errorPaths,
  expectProblem,
  expectStatus,
  queryRows,
} from '../helpers/fixtures.js';

const ctx = setupApp();

/** A raw JSON text body (numbers written exactly as given, which a JS literal could not keep). */
async function sendRaw(method: 'PUT' | 'POST' | 'PATCH', url: string, text: string, contentType = 'application/json') {
  const res = await ctx.app.inject({
    method,
    url,
    payload: text,
    headers: { 'content-type': contentType, authorization: `Bearer ${await adminToken(ctx.app)}` },
  });
  return { status: res.statusCode, body: res.json() as Json, raw: res };
}

describe('a brand-new database', () => {
  // First in the file: nothing was ever deleted here, let alone pruned.
  it('answers a sync from any instant with 200, also after the pruner ran and found nothing to prune', async () => {
    const org = await createOrganization(ctx.app);
    const since = encodeURIComponent('2020-01-01T00:00:00Z');
    expectStatus(await call(ctx.app, 'GET', `${API}/plans?organizationId=${org.id}&updatedSince=${since}`), 200);
    // The server's timer prunes 5 s after start: with nothing older than the retention, nothing moves.
    expect((await pruneTombstones(ctx.db.database.db, 90)).deleted).toBe(0);
    for (const url of [
      `${API}/plans?updatedSince=${since}`,
      `${API}/organizations?updatedSince=${since}`,
      `${API}/status?updatedSince=${since}`,
    ]) {
      expectStatus(await call(ctx.app, 'GET', url), 200);
    }
  });
});

describe('dates the database cannot hold', () => {
  const DATE_PARAMS = ['updatedSince', 'from', 'to'];

  /** Every GET operation with a date query parameter, from the served OpenAPI document. */
  function dateRoutes(): { url: string; param: string }[] {
    const doc = ctx.app.swagger() as Json;
    const out: { url: string; param: string }[] = [];
    for (const [path, ops] of Object.entries<Json>(doc.paths)) {
      const params: Json[] = ops.get?.parameters ?? [];
      for (const p of params) {
        if (p.in !== 'query' || !DATE_PARAMS.includes(p.name)) continue;
        const url = path.replace(/\{year\}/g, '2016').replace(/\{[^}]+\}/g, () => randomUUID());
        out.push({ url, param: p.name });
      }
    }
    return out;
  }

  it('answers 400 naming the parameter for year 0000 (and an offset that lands in it) on every route, never 500', async () => {
    const routes = dateRoutes();
    // The review counted 16 (route, parameter) pairs answering 500; each of them is in this list.
    expect(routes.length).toBeGreaterThanOrEqual(16);
    for (const { url, param } of routes) {
      for (const value of ['0000-01-01T00:00:00Z', '0001-01-01T00:30:00+01:00', '9999-12-31T23:00:00-02:00']) {
        const res = await call(
          ctx.app,
          'GET',
          `${url}${url.includes('?') ? '&' : '?'}${param}=${encodeURIComponent(value)}`,
        );
        expect(res.status, `${url} ${param}=${value}: ${res.raw.body}`).toBe(400);
        expect(errorPaths(res), url).toEqual([`query.${param}`]);
      }
      // The smallest and largest instants accepted are ones the database holds.
      for (const value of ['0001-01-01T00:00:00Z', '9999-12-31T23:59:59Z']) {
        const res = await call(
          ctx.app,
          'GET',
          `${url}${url.includes('?') ? '&' : '?'}${param}=${encodeURIComponent(value)}`,
        );
        expect(res.status, `${url} ${param}=${value}: ${res.raw.body}`).toBeLessThan(500);
        expect(res.status).not.toBe(400);
      }
    }
  });

  it('refuses an approval date in year 0000', async () => {
    const tree = await createTree(ctx.app);
    const res = await call(ctx.app, 'POST', `${API}/plans/${tree.plan.id}/years/2016/approve`, {
      document: { en: 'Order' },
      date: '0000-02-01',
    });
    expectProblem(res, 400, ['body.date']);
  });

  it('maps every PostgreSQL data exception (SQLSTATE class 22) to 400, with the real errors of both databases', async () => {
    const failures = [
      sql`select '0000-01-01T00:00:00Z'::timestamptz`, // 22008 datetime_field_overflow
      sql`select 1 / 0`, // 22012 division_by_zero
      sql`select '"\\ud800"'::jsonb`, // 22P02 / 22P05: a lone surrogate in JSON
      sql`select sqrt(-1::float8)`, // 2201F invalid_argument_for_power_function
    ];
    for (const query of failures) {
      const error = await ctx.db.database.db.execute(query).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeDefined();
      const problem = databaseProblem(error);
      expect(problem?.status, String((error as Error).message)).toBe(400);
    }
    expect(databaseProblem({ code: '22007' })?.status).toBe(400);
    expect(databaseProblem({ code: '22023' })?.status).toBe(400);
    expect(databaseProblem({ code: '42P01' })).toBeUndefined(); // not input: stays a 500
  });
});

describe('text with a lone surrogate', () => {
  const LONE = '\ud800'; // JSON.stringify sends it as the escape \ud800

  it('is refused with 400 naming the field wherever text is stored, and nothing is stored', async () => {
    const org = await createOrganization(ctx.app);
    const tree = await createTree(ctx.app);
    const user = expectStatus(
      await call(ctx.app, 'POST', `${API}/users`, {
        email: `${randomUUID()}@nysana.test`,
        displayName: 'Aida',
        role: 'viewer',
        password: 'a long enough password',
      }),
      201,
    );
    const client = expectStatus(
      await call(ctx.app, 'POST', `${API}/clients`, { name: 'Dashboard', role: 'viewer' }),
      201,
    );
    const cases: [string, string, unknown, string][] = [
      [
        'POST',
        `${API}/users`,
        {
          email: `${randomUUID()}@nysana.test`,
          displayName: `A${LONE}`,
          role: 'viewer',
          password: 'a long enough password',
        },
        'body.displayName',
      ],
      ['PATCH', `${API}/users/${user.id}`, { displayName: `B${LONE}` }, 'body.displayName'],
      ['POST', `${API}/clients`, { name: `C${LONE}`, role: 'viewer' }, 'body.name'],
      ['PATCH', `${API}/clients/${client.id}`, { name: LONE }, 'body.name'],
      ['PATCH', `${API}/organizations/${org.id}`, { name: { ru: `Орг${LONE}` } }, 'body.name.ru'],
      ['POST', `${API}/organizations`, { code: `X${LONE}`, name: { en: 'x' } }, 'body.code'],
      [
        'PUT',
        `${API}/indicators/${tree.indicator.id}/measurements/2016`,
        { plan: 1, note: { kk: `${LONE}x` } },
        'body.note.kk',
      ],
      ['PATCH', `${API}/indicators/${tree.indicator.id}`, { name: { en: `${LONE}` } }, 'body.name.en'],
      [
        'POST',
        `${API}/users`,
        { email: `${randomUUID()}@nysana.test`, displayName: 'D', role: 'viewer', password: `pass${LONE}word long` },
        'body.password',
      ],
    ];
    for (const [method, url, body, path] of cases) {
      const res = await call(ctx.app, method as 'POST', url, body);
      expect(res.status, `${method} ${url}: ${res.raw.body}`).toBe(400);
      expect(errorPaths(res), `${method} ${url}`).toContain(path);
    }
    // Nothing was changed: no U+FFFD anywhere.
    const replaced = await queryRows(
      ctx,
      sql`select 1 from users where display_name like ${'%\ufffd%'} union all select 1 from service_clients where name like ${'%\ufffd%'}`,
    );
    expect(replaced).toEqual([]);
    expect(expectStatus(await call(ctx.app, 'GET', `${API}/users/${user.id}`), 200).displayName).toBe('Aida');
    // A well-formed pair (an emoji) is fine.
    expect(
      expectStatus(await call(ctx.app, 'PATCH', `${API}/users/${user.id}`, { displayName: 'Aida 🌿' }), 200)
        .displayName,
    ).toBe('Aida 🌿');
  });
});

describe('numbers that cannot be stored exactly', () => {
  it('answers 400 naming the field (PUT, PATCH, bulk) and stores nothing; exact numbers pass as written', async () => {
    const tree = await createTree(ctx.app, { plan: { startYear: 2014, endYear: 2018 } });
    const ind = await createIndicator(ctx.app, tree.goal.id);
    const m = `${API}/indicators/${ind.id}/measurements/2016`;
    for (const [text, path] of [
      ['{"plan": 0.1000000000000000000001}', 'body.plan'],
      ['{"plan": 1, "fact": 1e-400}', 'body.fact'],
      ['{"fact": -1E400}', 'body.fact'],
      ['{"plan": 12345678.123456789}', 'body.plan'],
      ['{"note": {"en": "1e-400 in a string is text"}, "score": 9007199254740993}', 'body.score'],
    ]) {
      const res = await sendRaw('PUT', m, text!);
      expect(res.status, `${text}: ${res.raw.body}`).toBe(400);
      expect(
        res.body.errors.map((e: Json) => e.path),
        text,
      ).toEqual([path]);
      expect(res.body.errors[0].message).toMatch(/cannot be stored exactly/);
    }
    expect(await queryRows(ctx, sql`select 1 from measurements where indicator_id = ${ind.id}`)).toEqual([]);

    // Exact ones pass and come back as written (trailing zeros and exponents are the same value).
    const ok = await sendRaw(
      'PUT',
      m,
      '{"plan": 1.30, "fact": 123456789012.345, "note": {"en": "0.1000000000000000000001"}}',
    );
    expect(ok.status, ok.raw.body).toBe(201);
    expect(ok.body).toMatchObject({ plan: 1.3, fact: 123456789012.345, note: { en: '0.1000000000000000000001' } });
    expect(
      await queryRows(
        ctx,
        sql`select plan::text as plan, fact::text as fact from measurements where indicator_id = ${ind.id}`,
      ),
    ).toEqual([{ plan: '1.3', fact: '123456789012.345' }]);
    expect((await sendRaw('PUT', m, '{"plan": 2.5e-7, "fact": -0.0}')).status).toBe(200);

    // PATCH (merge patch) and the bulk rows: the same rule, with the field's full path.
    const patched = await sendRaw('PATCH', m, '{"fact": 0.30000000000000000001}', 'application/merge-patch+json');
    expect(patched.status).toBe(400);
    expect(patched.body.errors.map((e: Json) => e.path)).toEqual(['body.fact']);
    const bulk = await sendRaw(
      'POST',
      `${API}/measurements/bulk`,
      `{"rows": [{"indicatorId": "${ind.id}", "year": 2017, "plan": 1, "fact": 2}, {"indicatorId": "${ind.id}", "year": 2018, "plan": 1e-400, "fact": null}]}`,
    );
    expect(bulk.status).toBe(400);
    expect(bulk.body.errors.map((e: Json) => e.path)).toEqual(['body.rows.1.plan']);
    expect(
      await queryRows(ctx, sql`select year from measurements where indicator_id = ${ind.id} order by year`),
    ).toEqual([{ year: 2016 }]);
    // Still malformed JSON is still the parser's 400.
    expect((await sendRaw('PUT', m, '{"plan": 0.1000000000000000000001')).status).toBe(400);
  });
});
