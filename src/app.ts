/**
 * buildApp wires one Fastify instance over a database handle. It does no I/O of its own at
 * build time, so tests build as many apps as they like over fresh databases.
 */
import type { LoggerOptions } from 'pino';
import Fastify from 'fastify';
import type { FastifyServerOptions } from 'fastify';
import { serializerCompiler } from 'fastify-type-provider-zod';
import { authPlugin, recordRoutes } from './auth/plugin.js';
import { jwksRoute } from './auth/jwks-route.js';
import { metadataRoute } from './auth/metadata-route.js';
import { meRoutes } from './auth/me-routes.js';
import { authRoutes } from './auth/routes.js';
import { AuthService } from './auth/service.js';
import { clientRoutes } from './clients/routes.js';
import type { Config } from './config.js';
import type { Db } from './db/client.js';
import { directionRoutes } from './directions/routes.js';
import { goalRoutes } from './goals/routes.js';
import { healthRoutes } from './health/routes.js';
import { assertEveryRouteHasAccessRule } from './http/access.js';
import { frameworkErrors, registerErrorHandling } from './http/errors.js';
import { registerExactJson } from './http/json-body.js';
import { indicatorRoutes } from './indicators/routes.js';
import { measurementRoutes } from './measurements/routes.js';
import { registerOpenApi } from './openapi/plugin.js';
import { organizationRoutes } from './organizations/routes.js';
import { planRoutes } from './plans/routes.js';
import { statusRoutes } from './status/routes.js';
import { importRoutes } from './imports/routes.js';
import { approvalRoutes } from './approvals/routes.js';
import { auditRoutes } from './audit/routes.js';
import { noteRoutes } from './notes/routes.js';
import { reportRoutes } from './reports/routes.js';
import { reportSignatureRoutes } from './reports/signature-routes.js';
import { riskRoutes } from './risks/routes.js';
import { registerSecurity } from './http/security.js';
import { registerWriteLimit } from './http/write-limit.js';
import { createRateLimits } from './http/rate-limits.js';
import { registerStrictQuery, strictQueryValidatorCompiler } from './http/strict-query.js';
import { generateRequestId, registerRequestIds } from './http/request-id.js';
import { registerConditionalGet } from './http/conditional.js';
import { registerExportGuard } from './http/export-guard.js';
import type { PoolStats } from './observability/metrics.js';
import { registerMetrics } from './observability/metrics.js';
import { userRoutes } from './users/routes.js';
import type { Listen } from './db/listen.js';
import { createStatusCache, registerStatusCache } from './status-cache/plugin.js';
import { personalTokenRoutes } from './personal-tokens/routes.js';
import { evaluationMethodRoutes } from './evaluation-methods/routes.js';
import { ODATA_PREFIX, odataRoutes } from './odata/routes.js';
import { webhookSubscriptionRoutes } from './webhooks/subscriptions/routes.js';
import { registerWebhooks } from './webhooks/plugin.js';

export interface AppOptions {
  db: Db;
  /**
   * Where the read-only status routes (GET /plans/{id}/status, /indicators/{id}/status, /status)
   * read: a streaming replica (DATABASE_READ_URL). Default: `db`. Everything else uses `db`.
   */
  readDb?: Db;
  config: Config;
  logger?: FastifyServerOptions['logger'];
  /** Connection pool usage for /metrics (PostgreSQL only). */
  poolStats?: () => PoolStats;
  /**
   * LISTEN on the primary (Database.listen) for the status cache's invalidation; without it the
   * status cache is off (nothing could tell it what changed).
   */
  listen?: Listen;
}

export const API_PREFIX = '/api/v1';

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.body.password',
        'req.body.refreshToken',
        'req.body.client_secret',
        'req.body.currentPassword',
        'req.body.newPassword',
        '*.password',
        '*.passwordHash',
        '*.clientSecret',
        '*.accessToken',
        '*.access_token',
        '*.refreshToken',
        '*.client_secret',
      ],
      censor: '[redacted]',
    },
  };
}

export async function buildApp({ db, readDb, config, logger, poolStats, listen }: AppOptions) {
  const app = Fastify({
    logger: logger ?? loggerOptions(config.LOG_LEVEL),
    bodyLimit: config.BODY_LIMIT_BYTES,
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    // Always the server's own id; a caller's x-request-id becomes the correlation id (request-id.ts).
    genReqId: generateRequestId,
    ajv: { customOptions: { coerceTypes: false } },
    // Router errors (malformed URL, over-long parameter) as problem+json like every other error.
    frameworkErrors,
    // Behind a proxy, request.ip must be the client's: the /auth rate limits are per IP.
    trustProxy: config.TRUST_PROXY,
  });
  // Zod validation, and an unknown query parameter answers 400 on every route (strict-query.ts).
  app.setValidatorCompiler(strictQueryValidatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerStrictQuery(app);
  registerRequestIds(app);
  assertEveryRouteHasAccessRule(app);
  const rateLimits = createRateLimits(config);
  const auth = new AuthService(db, config, rateLimits.counters);
  recordRoutes(app, auth);
  await registerSecurity(app, {
    corsOrigins: config.CORS_ORIGINS,
    maxEventLoopDelayMs: config.MAX_EVENT_LOOP_DELAY_MS,
    publicHttps: config.PUBLIC_HTTPS,
  });
  const statusCache = createStatusCache({ config, listen, readsFromReplica: readDb !== undefined && readDb !== db });
  registerMetrics(app, {
    poolStats,
    token: config.METRICS_TOKEN,
    statusCache: statusCache && (() => statusCache.stats()),
  });
  // Before the routes, so its read-your-writes hook covers every write (plugin.ts).
  registerStatusCache(app, statusCache, listen);
  // After CORS and load shedding (preflights and shed load need no token), before the routes.
  await app.register(authPlugin, { auth });
  await rateLimits.register(app);
  registerErrorHandling(app);
  registerExactJson(app);
  await registerOpenApi(app);
  registerExportGuard(app, {
    concurrency: config.EXPORT_CONCURRENCY,
    stallTimeoutSeconds: config.EXPORT_STALL_TIMEOUT_SECONDS,
  });

  healthRoutes(app, db);
  jwksRoute(app, auth);
  metadataRoute(app, auth);
  await app.register(
    async (api) => {
      registerWriteLimit(api, config.WRITE_RATE_LIMIT_PER_MINUTE, rateLimits.counters);
      registerConditionalGet(api);
      organizationRoutes(api, db);
      planRoutes(api, db);
      directionRoutes(api, db);
      goalRoutes(api, db);
      indicatorRoutes(api, db);
      measurementRoutes(api, db);
      // Only GET routes: safe on a replica that lags by its replay delay.
      statusRoutes(api, readDb ?? db, statusCache);
      importRoutes(api, db, {
        maxUncompressedBytes: config.IMPORT_MAX_UNCOMPRESSED_BYTES,
        maxRows: config.IMPORT_MAX_ROWS,
      });
      approvalRoutes(api, db);
      auditRoutes(api, db);
      riskRoutes(api, db);
      noteRoutes(api, db);
      reportRoutes(api, db);
      reportSignatureRoutes(api, db);
      authRoutes(api, db, auth);
      meRoutes(api, db, auth);
      userRoutes(api, db, auth);
      clientRoutes(api, db, auth);
      personalTokenRoutes(api, auth);
      evaluationMethodRoutes(api, db);
      webhookSubscriptionRoutes(api, db, config);
    },
    { prefix: API_PREFIX },
  );
  // The OData feed for BI tools: read-only, so its reads may go to the replica like the status routes.
  await app.register(async (odata) => odataRoutes(odata, readDb ?? db), { prefix: ODATA_PREFIX });
  // The webhook relay and dispatcher run with the app (WEBHOOKS=on) and stop when it closes.
  registerWebhooks(app, { db, listen, config });
  return app;
}
