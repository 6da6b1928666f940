import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { access } from '../http/access.js';
import { HttpProblem } from '../http/problem.js';
import { errorResponses } from '../http/responses.js';

const Health = z.object({ status: z.literal('ok') }).meta({ id: 'Health' });

export function healthRoutes(app: FastifyInstance, db: Db) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get('/health/live', {
    config: { access: access.public },
    schema: {
      tags: ['Health'],
      operationId: 'live',
      summary: 'Liveness: the process answers',
      security: [],
      response: { 200: Health, ...errorResponses(503) },
    },
    handler: async () => ({ status: 'ok' as const }),
  });
  r.get('/health/ready', {
    config: { access: access.public },
    schema: {
      tags: ['Health'],
      operationId: 'ready',
      summary: 'Readiness: the database answers',
      security: [],
      response: { 200: Health, ...errorResponses(503) },
    },
    handler: async (request) => {
      try {
        await db.execute(sql`select 1`);
      } catch (error) {
        request.log.warn({ err: error }, 'readiness check failed');
        throw new HttpProblem(503, 'The database is unreachable.', undefined, { 'retry-after': '5' });
      }
      return { status: 'ok' as const };
    },
  });
}
