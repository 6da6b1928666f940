/**
 * HTTP for evaluation methods (/evaluation-methods): admins write, everyone reads. The rules
 * live in service.ts; this file maps requests to it and back (ETag, If-Match, Location).
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { access } from '../http/access.js';
import { ifMatchVersion, setEtag } from '../http/etag.js';
import { errorResponses } from '../http/responses.js';
import { IdParams, ListQuery, listOf } from '../shared/schemas.js';
import { EvaluationMethod, EvaluationMethodCreate, EvaluationMethodPatch, EvaluationMethodVersion } from './schemas.js';
import { actorOf } from '../http/actor.js';
import { answerList } from '../http/list-pipeline.js';
import { methodList } from './repository.js';
import { EvaluationMethodService } from './service.js';

const TAG = 'Evaluation methods';

const ABOUT =
  "A plan with evaluationMethodId null is scored by the built-in default (today's rule). Every change makes a new version " +
  '(GET .../versions); a year approved under a version keeps answering with it. docs/evaluation-methods.md has a worked example.';

export function evaluationMethodRoutes(app: FastifyInstance, db: Db) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const methods = new EvaluationMethodService(db);

  r.get('/evaluation-methods', {
    config: { access: access.viewer },
    schema: {
      tags: [TAG],
      operationId: 'listEvaluationMethods',
      summary: 'List evaluation methods',
      description: `Ordered by code, cursor-paginated. ${ABOUT}`,
      querystring: ListQuery,
      response: { 200: listOf(EvaluationMethod), ...errorResponses(400, 401, 403) },
    },
    handler: async (request, reply) => answerList(request, reply, { db, list: methodList }, request.query),
  });

  r.post('/evaluation-methods', {
    config: { access: access.admin },
    schema: {
      tags: [TAG],
      operationId: 'createEvaluationMethod',
      summary: 'Create an evaluation method (admin)',
      description: `Bands must be ordered by min, highest first, without overlaps, the last at 0; cap >= 0. ${ABOUT}`,
      body: EvaluationMethodCreate,
      response: { 201: EvaluationMethod, ...errorResponses(400, 401, 403, 409, 413, 415) },
    },
    handler: async (request, reply) => {
      const dto = await methods.create(actorOf(request), request.body);
      setEtag(reply, dto.version);
      reply.header('location', `${request.routeOptions.url!}/${dto.id}`);
      return reply.code(201).send(dto);
    },
  });

  r.get('/evaluation-methods/:id', {
    config: { access: access.viewer },
    schema: {
      tags: [TAG],
      operationId: 'getEvaluationMethod',
      summary: 'One evaluation method (its current version)',
      params: IdParams,
      response: { 200: EvaluationMethod, ...errorResponses(400, 401, 403, 404) },
    },
    handler: async (request, reply) => {
      const dto = await methods.get(request.params.id);
      setEtag(reply, dto.version);
      return dto;
    },
  });

  r.get('/evaluation-methods/:id/versions', {
    config: { access: access.viewer },
    schema: {
      tags: [TAG],
      operationId: 'listEvaluationMethodVersions',
      summary: 'Every version of an evaluation method, oldest first',
      params: IdParams,
      response: { 200: z.object({ items: z.array(EvaluationMethodVersion) }), ...errorResponses(400, 401, 403, 404) },
    },
    handler: async (request) => ({ items: await methods.versions(request.params.id) }),
  });

  r.patch('/evaluation-methods/:id', {
    config: { access: access.admin },
    schema: {
      tags: [TAG],
      operationId: 'updateEvaluationMethod',
      summary: 'Change an evaluation method (admin): a new version',
      description: `Send If-Match with the ETag to refuse a stale change (412). ${ABOUT}`,
      params: IdParams,
      body: EvaluationMethodPatch,
      response: { 200: EvaluationMethod, ...errorResponses(400, 401, 403, 404, 409, 412, 413, 415) },
    },
    handler: async (request, reply) => {
      const dto = await methods.update(actorOf(request), request.params.id, request.body, ifMatchVersion(request));
      setEtag(reply, dto.version);
      return dto;
    },
  });

  r.delete('/evaluation-methods/:id', {
    config: { access: access.admin },
    schema: {
      tags: [TAG],
      operationId: 'deleteEvaluationMethod',
      summary: 'Delete an evaluation method (admin)',
      description:
        '409 while a plan names it or an approved year was scored with one of its versions. If-Match as for PATCH.',
      params: IdParams,
      response: { 204: z.null().describe('Deleted.'), ...errorResponses(400, 401, 403, 404, 409, 412) },
    },
    handler: async (request, reply) => {
      await methods.delete(actorOf(request), request.params.id, ifMatchVersion(request));
      return reply.code(204).send(null);
    },
  });
}
