/**
 * The document as tools read it (issue 15, item 6): a typed client generated from it reads JSON
 * answers without narrowing, errors are problem+json with an example of their own status, every
 * media type the server sends is declared, rate-limited operations declare the headers the server
 * really sends, and no pattern needs a Unicode-aware regex engine.
 *
 * The client is openapi-fetch over the committed openapi/nysana-api.d.ts, its requests answered by
 * the app through inject(): a real consumer nobody here wrote, with no network in between.
 */
import createClient from 'openapi-fetch';
import { beforeAll, describe, expect, it } from 'vitest';
import type { paths } from '../../openapi/nysana-api.js';
import { adminToken, call, setupApp } from '../helpers/app.js';
import { API, createTree, expectProblem, putMeasurement, type Tree } from '../helpers/fixtures.js';

const ctx = setupApp({ WRITE_RATE_LIMIT_PER_MINUTE: 1000 });
let tree: Tree;

type Doc = {
  paths: Record<
    string,
    Record<
      string,
      { parameters?: { in: string; name: string; schema: { enum?: string[] } }[]; responses: Record<string, Resp> }
    >
  >;
};
type Resp = {
  description: string;
  content?: Record<string, { schema?: unknown; example?: { status?: number } }>;
  headers?: Record<string, unknown>;
};
let doc: Doc;

/** fetch() answered by the app: openapi-fetch builds the Request, inject() serves it. */
async function injectFetch(input: Request): Promise<Response> {
  const res = await ctx.app.inject({
    method: input.method as 'GET',
    url: new URL(input.url).pathname + new URL(input.url).search,
    headers: Object.fromEntries(input.headers.entries()),
    payload: input.body ? Buffer.from(await input.arrayBuffer()) : undefined,
  });
  return new Response(res.rawPayload.length > 0 ? new Uint8Array(res.rawPayload) : null, {
    status: res.statusCode,
    headers: Object.entries(res.headers).map(([k, v]) => [k, String(v)] as [string, string]),
  });
}

beforeAll(async () => {
  tree = await createTree(ctx.app);
  await putMeasurement(ctx.app, tree.indicator.id, 2016, { plan: 10, fact: 12 });
  doc = ctx.app.swagger() as unknown as Doc;
});

const operations = () =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ path, method, op })),
  );

describe('a typed client (openapi-fetch over the generated types)', () => {
  it('reads /status items as JSON without narrowing, though the same answer may be CSV or XLSX', async () => {
    const api = createClient<paths, 'application/json'>({
      baseUrl: 'http://nysana.test',
      fetch: injectFetch,
      headers: { authorization: `Bearer ${await adminToken(ctx.app)}` },
    });
    const { data, error, response } = await api.GET('/api/v1/status', {
      params: { query: { year: 2016, planId: tree.plan.id } },
    });
    expect(response.status).toBe(200);
    expect(error).toBeUndefined();
    // Compiles only because the JSON answer is addressable on its own: no string | object union here.
    const rows = data?.items ?? [];
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect('code' in row ? row.code : undefined).toBe(tree.indicator.code);
  });

  it('reads a problem as the declared error type, and a list with ?format=csv as text', async () => {
    const api = createClient<paths>({
      baseUrl: 'http://nysana.test',
      fetch: injectFetch,
      headers: { authorization: `Bearer ${await adminToken(ctx.app)}` },
    });
    const bad = await api.GET('/api/v1/plans/{id}', {
      params: { path: { id: '0190a3b2-7c1e-7d4a-9f00-2b8e5c6d7e8f' } },
    });
    expect(bad.response.status).toBe(404);
    expect(bad.error).toMatchObject({ status: 404, title: 'Not Found' });
    const csv = await api.GET('/api/v1/organizations', { params: { query: { format: 'csv' } }, parseAs: 'text' });
    expect(csv.response.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(typeof csv.data).toBe('string');
  });
});

describe('the OpenAPI document', () => {
  it('declares errors as application/problem+json with an example of their own status, and no "Default Response"', () => {
    let problems = 0;
    for (const { path, method, op } of operations()) {
      for (const [code, response] of Object.entries(op.responses)) {
        expect(response.description, `${method} ${path} ${code}`).not.toBe('Default Response');
        expect(response.description.length, `${method} ${path} ${code}`).toBeGreaterThan(0);
        if (Number(code) < 400 || path === '/api/v1/auth/token') continue;
        const media = response.content ?? {};
        expect(Object.keys(media), `${method} ${path} ${code}`).toEqual(['application/problem+json']);
        expect(media['application/problem+json']!.example?.status, `${method} ${path} ${code}`).toBe(Number(code));
        problems++;
      }
    }
    expect(problems).toBeGreaterThan(100);
  });

  it('declares text/csv and the XLSX type beside JSON on every operation that takes ?format=csv|xlsx', () => {
    const exporting = operations().filter(({ op }) =>
      op.parameters?.some((p) => p.in === 'query' && p.name === 'format' && p.schema.enum?.includes('csv')),
    );
    expect(exporting.length).toBeGreaterThanOrEqual(12);
    for (const { path, method, op } of exporting) {
      const types = Object.keys(op.responses['200']!.content ?? {});
      expect(types, `${method} ${path}`).toEqual(expect.arrayContaining(['text/csv']));
      if (op.parameters!.find((p) => p.name === 'format')!.schema.enum!.includes('xlsx')) {
        expect(types, `${method} ${path}`).toEqual(
          expect.arrayContaining(['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet']),
        );
      }
    }
  });

  it('has no \\p{...} pattern, and integers carry int32 or int64', () => {
    const text = JSON.stringify(doc);
    expect(text).not.toMatch(/\\\\p\{/);
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(walk);
      if (typeof node !== 'object' || node === null) return;
      const schema = node as Record<string, unknown>;
      if (schema.type === 'integer') expect(['int32', 'int64']).toContain(schema.format);
      Object.values(schema).forEach(walk);
    };
    walk(doc);
  });

  it('declares the import year as an integer and e-mail addresses as format: email', () => {
    const year = doc.paths['/api/v1/plans/{id}/import']!.post!.parameters!.find((p) => p.name === 'year')!;
    expect(year.schema).toMatchObject({ type: 'integer', minimum: 1900, maximum: 2200 });
    const text = JSON.stringify(ctx.app.swagger());
    expect(text).toContain('"format":"email"');
  });
});

describe('rate limits as declared', () => {
  it('a write sends the RateLimit headers its operation declares; a read declares and sends none', async () => {
    const op = doc.paths['/api/v1/organizations']!;
    expect(Object.keys(op.post!.responses['201']!.headers ?? {})).toEqual(
      expect.arrayContaining(['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset']),
    );
    expect(op.post!.responses['429']!.headers).toHaveProperty('Retry-After');
    expect(op.get!.responses['200']!.headers ?? {}).not.toHaveProperty('RateLimit-Limit');

    const created = await call(ctx.app, 'POST', `${API}/organizations`, { code: 'RL-1', name: { en: 'Rate limited' } });
    expect(created.status).toBe(201);
    expect(created.headers['ratelimit-limit']).toBe('1000');
    expect(Number(created.headers['ratelimit-remaining'])).toBeLessThan(1000);
    expect(Number(created.headers['ratelimit-reset'])).toBeGreaterThan(0);
    // A refused write (here 400: unknown field) is counted and says so too.
    const refused = await call(ctx.app, 'POST', `${API}/organizations`, { code: 'RL-2', name: { en: 'x' }, extra: 1 });
    expectProblem(refused, 400);
    expect(refused.headers['ratelimit-limit']).toBe('1000');
    const read = await call(ctx.app, 'GET', `${API}/organizations`);
    expect(read.headers['ratelimit-limit']).toBeUndefined();
  });

  it('/auth sends them on every answer, 401 included', async () => {
    const res = await call(
      ctx.app,
      'POST',
      `${API}/auth/login`,
      { email: 'nobody@nysana.test', password: 'wrong password!' },
      { authorization: '' },
    );
    expectProblem(res, 401);
    expect(res.headers['ratelimit-limit']).toBeDefined();
    expect(res.headers['ratelimit-remaining']).toBeDefined();
  });
});

describe('codes: the portable pattern and the Unicode check in code answer as before', () => {
  it.each([
    ['Ә.1', 201],
    ['١٢', 201],
    ['A-b_c/d.e', 201],
    ['.1', 400],
    ['1 2', 400],
    ['1§', 400],
    ['١٫٢', 400],
    ['€1', 400],
  ])('%s answers %i', async (code, status) => {
    const res = await call(ctx.app, 'POST', `${API}/organizations`, { code, name: { en: `Org ${code}` } });
    expect(res.status, res.raw.body).toBe(status);
    if (status === 400)
      expect(res.body.errors).toEqual([{ path: 'body.code', message: expect.stringContaining('letters, digits') }]);
  });
});
