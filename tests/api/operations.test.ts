import { describe, expect, it } from 'vitest';
import { NO_AUTH, call, setupApp } from '../helpers/app.js';

const ctx = setupApp({ CORS_ORIGINS: ['https://bi.example.kz'] });

describe('operations surface', () => {
  it('counts requests in /metrics by route template, not raw URL', async () => {
    const id = '00000000-0000-4000-8000-000000000001';
    const sent = performance.now();
    expect((await call(ctx.app, 'GET', `/api/v1/plans/${id}`)).status).toBe(404);
    const seconds = (performance.now() - sent) / 1e3;
    const res = await call(ctx.app, 'GET', '/metrics', undefined, NO_AUTH);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = res.raw.body;
    expect(text).toMatch(/http_requests_total\{method="GET",route="\/api\/v1\/plans\/:id",status="404"\} 1/);
    expect(text).not.toContain(id);
    expect(text).toMatch(/http_request_duration_seconds_bucket\{/);
    // The request's duration is observed once, in seconds: more than nothing, at most what the test waited.
    const route = 'method="GET",route="/api/v1/plans/:id",status="404"';
    expect(text).toContain(`http_request_duration_seconds_count{${route}} 1`);
    const sumLine = text.split('\n').find((line) => line.startsWith(`http_request_duration_seconds_sum{${route}} `));
    const sum = Number(sumLine?.split(' ').at(-1));
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThanOrEqual(seconds);
    expect(text).toMatch(/nodejs_eventloop_lag_seconds/);
  });

  it('sends security headers and a request id', async () => {
    const res = await call(ctx.app, 'GET', '/health/live', undefined, { ...NO_AUTH, 'x-request-id': 'trace-42' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toBeTruthy();
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers['x-correlation-id']).toBe('trace-42');
    const generated = await call(ctx.app, 'GET', '/health/live', undefined, {
      ...NO_AUTH,
      'x-request-id': 'bad id with spaces',
    });
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('sends the same security headers on data, errors and unknown routes', async () => {
    const answers = [
      await call(ctx.app, 'GET', '/api/v1/organizations'),
      await call(ctx.app, 'GET', '/api/v1/organizations', undefined, NO_AUTH),
      await call(ctx.app, 'GET', '/api/v1/no-such-route'),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 401, 404]);
    for (const res of answers) {
      expect(res.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'SAMEORIGIN',
        'referrer-policy': 'no-referrer',
        'cross-origin-opener-policy': 'same-origin',
      });
      expect(res.headers['content-security-policy']).toMatch(/^default-src 'self';.*object-src 'none'/);
      // Plain HTTP by default: upgrading would send /docs' assets to an https nobody answers.
      expect(res.headers['content-security-policy']).not.toMatch(/upgrade-insecure-requests/);
    }
  });

  it('answers CORS only for allow-listed origins', async () => {
    const allowed = await call(ctx.app, 'OPTIONS', '/api/v1/plans', undefined, {
      ...NO_AUTH,
      origin: 'https://bi.example.kz',
      'access-control-request-method': 'GET',
    });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://bi.example.kz');
    const denied = await call(ctx.app, 'GET', '/health/live', undefined, {
      ...NO_AUTH,
      origin: 'https://evil.example.com',
    });
    expect(denied.headers['access-control-allow-origin']).toBeUndefined();
  });
});

const overHttps = setupApp({ PUBLIC_HTTPS: true });

describe('PUBLIC_HTTPS', () => {
  it('asks browsers to upgrade insecure requests only when the service is reached over HTTPS', async () => {
    const res = await call(overHttps.app, 'GET', '/health/live', undefined, NO_AUTH);
    expect(res.headers['content-security-policy']).toMatch(/(^|;)upgrade-insecure-requests(;|$)/);
    const docs = await call(ctx.app, 'GET', '/docs/', undefined, NO_AUTH);
    expect(docs.status).toBe(200);
    expect(docs.headers['content-security-policy']).not.toMatch(/upgrade-insecure-requests/);
  });
});

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
const withToken = setupApp({ METRICS_TOKEN });

describe('GET /metrics protection', () => {
  const metrics = (app: typeof ctx.app, headers: Record<string, string>, remoteAddress = '127.0.0.1') =>
    app.inject({ method: 'GET', url: '/metrics', headers, remoteAddress });

  it('without METRICS_TOKEN answers this host only, never a remote or proxied caller', async () => {
    expect((await metrics(ctx.app, {})).statusCode).toBe(200);
    const remote = await metrics(ctx.app, {}, '10.1.2.3');
    expect(remote.statusCode).toBe(403);
    expect(remote.headers['content-type']).toMatch(/problem\+json/);
    expect(remote.body).not.toMatch(/http_requests_total|nodejs_version/);
    // A local reverse proxy relaying an outside request: the peer is loopback, the caller is not.
    expect((await metrics(ctx.app, { 'x-forwarded-for': '203.0.113.9' })).statusCode).toBe(403);
    expect((await metrics(ctx.app, { forwarded: 'for=203.0.113.9' })).statusCode).toBe(403);
  });

  it('with METRICS_TOKEN needs it as a bearer token, from anywhere', async () => {
    const none = await metrics(withToken.app, {}, '127.0.0.1');
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    expect((await metrics(withToken.app, { authorization: `Bearer ${METRICS_TOKEN}x` }, '10.1.2.3')).statusCode).toBe(
      401,
    );
    expect((await metrics(withToken.app, { authorization: 'Bearer short' }, '10.1.2.3')).statusCode).toBe(401);
    const ok = await metrics(withToken.app, { authorization: `Bearer ${METRICS_TOKEN}` }, '10.1.2.3');
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toMatch(/http_requests_total/);
  });
});

const limited = setupApp({ WRITE_RATE_LIMIT_PER_MINUTE: 3 });

describe('write rate limit', () => {
  it('answers 429 with Retry-After past the per-caller budget, and leaves reads alone', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await call(limited.app, 'POST', '/api/v1/organizations', {
        code: `RL${i}`,
        name: { en: `Org ${i}` },
      });
      statuses.push(res.status);
      if (res.status === 429) {
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
        expect(res.headers['content-type']).toMatch(/problem\+json/);
      }
    }
    expect(statuses).toEqual([201, 201, 201, 429]);
    expect((await call(limited.app, 'GET', '/api/v1/organizations')).body.items).toHaveLength(3);
  });
});
