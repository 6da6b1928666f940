/**
 * buildApp wires one Fastify instance over a database handle. It does no I/O of its own at
 * build time, so tests build as many apps as they like over fresh databases.
 */
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import type { FastifyServerOptions } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Config } from './config.js';
import type { Db } from './db/client.js';
import { directionRoutes } from './directions/routes.js';
import { goalRoutes } from './goals/routes.js';
import { healthRoutes } from './health/routes.js';
import { assertEveryRouteHasAccessRule } from './http/access.js';
import { registerErrorHandling } from './http/errors.js';
import { indicatorRoutes } from './indicators/routes.js';
import { measurementRoutes } from './measurements/routes.js';
import { registerOpenApi } from './openapi/plugin.js';
import { organizationRoutes } from './organizations/routes.js';
import { planRoutes } from './plans/routes.js';
import { statusRoutes } from './status/routes.js';

export interface AppOptions {
  db: Db;
  config: Pick<Config, 'LOG_LEVEL' | 'BODY_LIMIT_BYTES' | 'REQUEST_TIMEOUT_MS'>;
  logger?: FastifyServerOptions['logger'];
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

export const API_PREFIX = '/api/v1';

export function loggerOptions(level: string) {
  return {
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.body.password',
        'req.body.refreshToken',
        'req.body.client_secret',
        '*.password',
        '*.refreshToken',
        '*.client_secret',
      ],
      censor: '[redacted]',
    },
  };
}

export async function buildApp({ db, config, logger }: AppOptions) {
  const app = Fastify({
    logger: logger ?? loggerOptions(config.LOG_LEVEL),
    bodyLimit: config.BODY_LIMIT_BYTES,
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    // Honour a caller's request id (gateways set one) when it is sane; otherwise make one.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    ajv: { customOptions: { coerceTypes: false } },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  assertEveryRouteHasAccessRule(app);
  registerErrorHandling(app);
  await registerOpenApi(app);

  healthRoutes(app, db);
  await app.register(
    async (api) => {
      organizationRoutes(api, db);
      planRoutes(api, db);
      directionRoutes(api, db);
      goalRoutes(api, db);
      indicatorRoutes(api, db);
      measurementRoutes(api, db);
      statusRoutes(api, db);
    },
    { prefix: API_PREFIX },
  );
  return app;
}
