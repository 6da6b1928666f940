/**
 * Function-level authorization (OWASP API5) as a matrix of every registered route x role. The
 * routes come from the app's own route table (recorded by the auth plugin's onRoute hook), so a
 * route added tomorrow is covered without touching this file.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import type { RouteAccess } from '../../src/auth/service.js';
import { NO_AUTH, bearer, call, setupApp, testConfig, tokenFor } from '../helpers/app.js';
import { createOrganization } from '../helpers/fixtures.js';

const ctx = setupApp();

/** A concrete URL for a route pattern: every parameter gets a well-formed value. */
function concrete(url: string): string {
  return url
    .replace(/:year\b/g, '2016')
    .replace(/:[A-Za-z]+/g, () => randomUUID())
    .replace(/\*$/, 'index.html');
}

let routes: RouteAccess[];
let viewer: Record<string, string>;
let editor: Record<string, string>;

beforeAll(async () => {
  routes = ctx.app.auth.routes;
  const org = await createOrganization(ctx.app);
  viewer = bearer(await tokenFor(ctx, { role: 'viewer' }));
  editor = bearer(await tokenFor(ctx, { role: 'editor', organizationId: org.id }));
});

async function failures(
  check: (route: RouteAccess) => Promise<string | undefined>,
  filter: (route: RouteAccess) => boolean,
) {
  const out: string[] = [];
  for (const route of routes.filter(filter)) {
    const problem = await check(route);
    if (problem) out.push(`${route.method} ${route.url}: ${problem}`);
  }
  return out;
}

const protectedRoute = (r: RouteAccess) => r.access !== undefined && r.access.level !== 'public';

describe('route table', () => {
  it('covers the whole API and gives every non-docs route a rule', () => {
    expect(routes.length).toBeGreaterThan(40);
    const urls = new Set(routes.map((r) => r.url));
    for (const url of [
      '/api/v1/plans',
      '/api/v1/users',
      '/api/v1/clients',
      '/api/v1/auth/login',
      '/.well-known/jwks.json',
      '/api/v1/me',
    ]) {
      expect(urls).toContain(url);
    }
    const preflight = (r: RouteAccess) => r.method === 'OPTIONS' && r.url === '*';
    const withoutRule = routes.filter((r) => !r.access && !r.url.startsWith('/docs') && !preflight(r));
    expect(withoutRule).toEqual([]);
  });

  it('leaves public exactly the routes the contract names', () => {
    const open = routes
      .filter((r) => r.access?.level === 'public' && r.method !== 'HEAD')
      .map((r) => `${r.method} ${r.url}`)
      .sort();
    expect(open).toEqual(
      [
        'GET /.well-known/jwks.json',
        // RFC 8414 metadata (issue 15): URLs and method names only, like the JWKS.
        'GET /.well-known/oauth-authorization-server',
        'GET /health/live',
        'GET /health/ready',
        // Prometheus scrape endpoint (route templates and counts, no data); restrict it at the proxy.
        'GET /metrics',
        'GET /openapi.json',
        'POST /api/v1/auth/login',
        'POST /api/v1/auth/refresh',
        'POST /api/v1/auth/token',
      ].sort(),
    );
  });

  it('protects every /api/v1 route except login, refresh and token', () => {
    const exempt = new Set(['/api/v1/auth/login', '/api/v1/auth/refresh', '/api/v1/auth/token']);
    const apiRoutes = routes.filter((r) => r.url.startsWith('/api/v1') && !exempt.has(r.url));
    expect(apiRoutes.length).toBeGreaterThan(30);
    expect(apiRoutes.filter((r) => !protectedRoute(r)).map((r) => `${r.method} ${r.url}`)).toEqual([]);
  });
});

describe('every protected route', () => {
  it('answers 401 problem+json with WWW-Authenticate: Bearer without a token', async () => {
    const bad = await failures(async (route) => {
      const res = await call(ctx.app, route.method as never, concrete(route.url), undefined, NO_AUTH);
      if (res.status !== 401) return `status ${res.status}`;
      if (!String(res.headers['www-authenticate']).startsWith('Bearer')) return 'no WWW-Authenticate: Bearer';
      // The OData feed answers in the OData error format, which its clients read (src/odata/errors.ts).
      const format = route.url.startsWith('/odata/') ? 'application/json' : 'application/problem+json';
      if (route.method !== 'HEAD' && !String(res.headers['content-type']).startsWith(format)) return `not ${format}`;
      return undefined;
    }, protectedRoute);
    expect(bad).toEqual([]);
  });

  it('answers 401 to a malformed or garbage token', async () => {
    const bad = await failures(async (route) => {
      for (const authorization of ['Bearer not-a-jwt', 'Bearer a.b.c', 'Basic YWRtaW46YWRtaW4=', 'Bearer']) {
        const res = await call(ctx.app, route.method as never, concrete(route.url), undefined, { authorization });
        if (res.status !== 401) return `${authorization}: status ${res.status}`;
      }
      return undefined;
    }, protectedRoute);
    expect(bad).toEqual([]);
  });

  it('answers 403 to a viewer on editor and admin routes', async () => {
    const bad = await failures(
      async (route) => {
        const res = await call(ctx.app, route.method as never, concrete(route.url), {}, viewer);
        if (res.status !== 403) return `status ${res.status}`;
        // RFC 6750: a token too weak for the operation is "insufficient_scope".
        const challenge = res.headers['www-authenticate'];
        return challenge === 'Bearer realm="nysana", error="insufficient_scope"' ? undefined : `challenge ${challenge}`;
      },
      (r) => r.access?.level === 'editor' || r.access?.level === 'admin',
    );
    expect(bad).toEqual([]);
  });

  it('answers 403 to an editor on admin routes', async () => {
    const bad = await failures(
      async (route) => {
        const res = await call(ctx.app, route.method as never, concrete(route.url), {}, editor);
        return res.status === 403 ? undefined : `status ${res.status}`;
      },
      (r) => r.access?.level === 'admin',
    );
    expect(bad).toEqual([]);
  });

  it("lets a viewer through on viewer routes (the answer is the handler's, never 401/403)", async () => {
    const bad = await failures(
      async (route) => {
        const res = await call(
          ctx.app,
          route.method as never,
          concrete(route.url),
          route.method === 'POST' ? {} : undefined,
          viewer,
        );
        return res.status === 401 || res.status === 403 ? `status ${res.status}` : undefined;
      },
      // POST /me/password answers 403 to non-users only; the viewer here is a user.
      (r) => r.access?.level === 'viewer',
    );
    expect(bad).toEqual([]);
  });

  it('answers 404, not 401, to an unknown URL without a token; the docs need no token', async () => {
    const unknown = await call(ctx.app, 'GET', `/api/v1/no-such-thing/${randomUUID()}`, undefined, NO_AUTH);
    expect(unknown.status).toBe(404);
    expect(unknown.headers['www-authenticate']).toBeUndefined();
    for (const url of ['/docs', '/docs/static/index.html']) {
      const docs = await call(ctx.app, 'GET', url, undefined, NO_AUTH);
      expect(docs.status, url).toBeLessThan(400);
    }
  });

  it('checks the token before the body: an anonymous invalid body is 401, not 400', async () => {
    const res = await call(ctx.app, 'POST', '/api/v1/plans', { nonsense: true }, NO_AUTH);
    expect(res.status).toBe(401);
    const asViewer = await call(ctx.app, 'POST', '/api/v1/plans', { nonsense: true }, viewer);
    expect(asViewer.status).toBe(403);
  });

  it('documents each rule in the OpenAPI operation and marks public operations security: []', async () => {
    const doc = (await call(ctx.app, 'GET', '/openapi.json')).body;
    expect(doc.paths['/api/v1/users'].get.description).toMatch(/Access: admins only/);
    expect(doc.paths['/api/v1/plans'].post.description).toMatch(/editors .* own|organization that owns/);
    expect(doc.paths['/api/v1/auth/login'].post.security).toEqual([]);
    expect(doc.paths['/.well-known/jwks.json'].get.security).toEqual([]);
    expect(doc.paths['/api/v1/users'].get.security).toBeUndefined();
  });
});

describe('a route without an access rule', () => {
  it('stops the app from starting', async () => {
    const app = await buildApp({ db: ctx.db.database.db, config: testConfig, logger: false });
    app.get('/api/v1/forgotten', async () => ({ secret: true }));
    app.post('/api/v1/forgotten-too', async () => ({ secret: true }));
    await expect(app.ready()).rejects.toThrow(
      'Routes without an access rule: GET /api/v1/forgotten, HEAD /api/v1/forgotten, POST /api/v1/forgotten-too',
    );
    await app.close().catch(() => undefined);
  });
});

describe('with CORS enabled', () => {
  it('answers preflights without a token, and 401s carry the CORS headers a browser needs to read them', async () => {
    const app = await buildApp({
      db: ctx.db.database.db,
      config: { ...testConfig, CORS_ORIGINS: ['https://kpi.gov.kz'] },
      logger: false,
    });
    try {
      const preflight = await app.inject({
        method: 'OPTIONS',
        url: '/api/v1/plans',
        headers: {
          origin: 'https://kpi.gov.kz',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization',
        },
      });
      expect(preflight.statusCode).toBe(204);
      expect(preflight.headers['access-control-allow-origin']).toBe('https://kpi.gov.kz');
      const denied = await app.inject({
        method: 'GET',
        url: '/api/v1/plans',
        headers: { origin: 'https://kpi.gov.kz' },
      });
      expect(denied.statusCode).toBe(401);
      expect(denied.headers['access-control-allow-origin']).toBe('https://kpi.gov.kz');
      expect(String(denied.headers['access-control-expose-headers'])).toMatch(/www-authenticate/);
    } finally {
      await app.close();
    }
  });
});
