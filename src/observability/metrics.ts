/**
 * Prometheus metrics at GET /metrics: request counts and latency by route template (never the
 * raw URL, which would explode label cardinality), pool usage and the process defaults
 * (event-loop delay, heap, GC). One registry per app, so tests can build many apps.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { access } from '../http/access.js';
import { sendProblem } from '../http/errors.js';
import { HttpProblem, problemOf } from '../http/problem.js';
import type { StatusCacheStats } from '../status-cache/cache.js';

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

export interface MetricsOptions {
  /** Connection pool usage (PostgreSQL only). */
  poolStats?: () => PoolStats;
  /** METRICS_TOKEN: the bearer token a scraper must send; unset: loopback callers only. */
  token?: string;
  /** The status cache's counters (absent when CACHE=off). */
  statusCache?: () => StatusCacheStats;
}

/** Set on a request when the metrics' onRequest hook saw it. */
const COUNTED = Symbol('metricsCounted');

declare module 'fastify' {
  interface FastifyRequest {
    [COUNTED]: boolean;
  }
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/**
 * Who may read /metrics (per-route counts, pool state, heap, the Node version): with a token, whoever
 * sends it; without one, a caller on this host only. "On this host" is the socket's peer, never
 * request.ip (X-Forwarded-For is the caller's to write under TRUST_PROXY), and a request that a proxy
 * relayed (it carries Forwarded / X-Forwarded-For) is not local even when the proxy is.
 */
function assertMayReadMetrics(request: FastifyRequest, token: string | undefined) {
  if (token) {
    const given = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1]?.trim() ?? '';
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    if (a.length !== b.length || !timingSafeEqual(a, b)) {
      throw new HttpProblem(401, 'GET /metrics needs the METRICS_TOKEN as a bearer token.', undefined, {
        'www-authenticate': 'Bearer realm="metrics"',
      });
    }
    return;
  }
  const relayed = request.headers['x-forwarded-for'] !== undefined || request.headers.forwarded !== undefined;
  if (relayed || !LOOPBACK.test(request.socket.remoteAddress ?? '')) {
    throw new HttpProblem(
      403,
      'GET /metrics answers only this host unless METRICS_TOKEN is set (then send it as a bearer token).',
    );
  }
}

export function registerMetrics(app: FastifyInstance, { poolStats, token, statusCache }: MetricsOptions = {}) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by method, route template and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by method, route template and status code',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  if (poolStats) {
    const pool = new Gauge({
      name: 'db_pool_connections',
      help: 'PostgreSQL pool connections by state',
      labelNames: ['state'] as const,
      registers: [registry],
      collect() {
        const s = poolStats();
        this.set({ state: 'total' }, s.total);
        this.set({ state: 'idle' }, s.idle);
        this.set({ state: 'waiting' }, s.waiting);
      },
    });
    void pool;
  }
  if (statusCache) registerStatusCacheMetrics(registry, statusCache);

  // Callback-style hooks: they run on every request, and an async hook costs a promise each.
  // onRequest only marks the request as counted (a request answered by an earlier hook, such as
  // shed load or a CORS preflight, is not); the duration is fastify's own clock (reply.elapsedTime,
  // from the request's arrival), not a bigint per request kept in a WeakMap (about 1.5 us a request).
  app.decorateRequest(COUNTED, false);
  app.addHook('onRequest', (request, _reply, done) => {
    request[COUNTED] = true;
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    if (request[COUNTED]) {
      const route = request.routeOptions.url ?? 'unmatched';
      const labels = { method: request.method, route, status: String(reply.statusCode) };
      requests.inc(labels);
      duration.observe(labels, reply.elapsedTime / 1e3);
    }
    done();
  });

  // Public to the bearer-token auth plugin (a scraper holds no user token); guarded here instead.
  app.get('/metrics', { config: { access: access.public }, schema: { hide: true } }, async (request, reply) => {
    // Answered here: this route is registered before the app's error handler exists.
    try {
      assertMayReadMetrics(request, token);
    } catch (error) {
      const problem = problemOf(error);
      if (!problem) throw error;
      reply.headers(problem.headers);
      return sendProblem(request, reply, problem.status, problem.detail);
    }
    reply.type(registry.contentType);
    return registry.metrics();
  });
}

/** The cache's own counters, read at scrape time (a counter is set to the cache's running total). */
function registerStatusCacheMetrics(registry: Registry, stats: () => StatusCacheStats) {
  const counters: [keyof StatusCacheStats, string, string][] = [
    ['hits', 'status_cache_hits_total', 'Status answers served from the cache'],
    ['misses', 'status_cache_misses_total', 'Status answers computed while the cache was live'],
    ['evictions', 'status_cache_evictions_total', 'Status answers dropped to stay within STATUS_CACHE_MAX_BYTES (LRU)'],
    [
      'invalidations',
      'status_cache_invalidations_total',
      'Status answers dropped because their plans changed or the listener was lost',
    ],
    [
      'bypasses',
      'status_cache_bypasses_total',
      'Status answers computed uncached because the change listener was not connected',
    ],
    [
      'notifications',
      'status_cache_notifications_total',
      'Change notifications received (one per plan per committed transaction)',
    ],
  ];
  for (const [field, name, help] of counters) {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(Number(stats()[field]));
      },
    });
  }
  const gauges: [keyof StatusCacheStats, string, string][] = [
    ['bytes', 'status_cache_bytes', 'Estimated memory held by cached status answers'],
    ['maxBytes', 'status_cache_max_bytes', 'STATUS_CACHE_MAX_BYTES'],
    ['entries', 'status_cache_entries', 'Cached status answers'],
    ['live', 'status_cache_live', '1 while the change listener is connected and the cache serves'],
  ];
  for (const [field, name, help] of gauges) {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(Number(stats()[field]));
      },
    });
  }
}
