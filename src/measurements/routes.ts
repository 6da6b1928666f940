import { actorOf } from '../http/actor.js';
import { exportBusyResponses } from '../http/export-guard.js';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { organizationOf } from '../db/ownership.js';
import { measurements } from '../db/schema.js';
import { eq } from 'drizzle-orm';
import { access } from '../http/access.js';
import { answerVersioned, ifMatchOf, setEtag } from '../http/etag.js';
import { columnsOf } from '../exports/tabular.js';
import { notFound } from '../http/problem.js';
import { errorResponses } from '../http/responses.js';
import { IdParams } from '../shared/schemas.js';
import { indicatorContext, toMeasurementDto, measurementList } from './repository.js';
import { answerList } from '../http/list-pipeline.js';
import {
  Measurement,
  MeasurementListQuery,
  MeasurementParams,
  MeasurementPatch,
  MeasurementPut,
  MeasurementTombstone,
} from './schemas.js';
import { exactJsonParser } from '../http/json-body.js';
import { syncListDescription, syncListOf } from '../sync/cursor.js';
import { syncList } from '../sync/lists.js';
import { syncDeletions } from '../db/schema.js';
import { gte, lte } from 'drizzle-orm';
import { iso } from '../shared/decimal.js';
import { BulkMeasurementBody, BulkMeasurementQuery, BulkMeasurementResult } from './bulk.js';
import type { MeasurementKey, MeasurementService } from './service.js';
import { measurementService } from './service.js';

const TAG = 'Measurements';
const MERGE_PATCH_TYPE = 'application/merge-patch+json';

export function measurementRoutes(app: FastifyInstance, db: Db) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const service = measurementService({ db });
  bulkMeasurementRoute(app, service);
  const byIndicator = access.editor((req) => organizationOf.indicator(db, (req.params as { id: string }).id));

  r.get('/indicators/:id/measurements', {
    config: { access: access.viewer },
    schema: {
      tags: [TAG],
      operationId: 'listMeasurements',
      summary: "List an indicator's measurements",
      description:
        'Ordered by year, cursor-paginated. ?format=csv|xlsx answers a file (without ?limit every year, streamed).' +
        syncListDescription,
      params: IdParams,
      querystring: MeasurementListQuery,
      response: {
        200: syncListOf(Measurement, MeasurementTombstone),
        ...errorResponses(400, 401, 403, 404),
        ...exportBusyResponses,
      },
    },
    handler: async (request, reply) => {
      const { id } = request.params;
      const q = request.query;
      const { where, list } = measurementList(id, q);
      return answerList(
        request,
        reply,
        {
          db,
          list,
          parent: async () => {
            if (!(await indicatorContext(db, id))) throw notFound('indicator', id);
          },
          export: { name: 'measurements', columns: columnsOf<Measurement>(Measurement) },
          sync: {
            read: (s) =>
              syncList(db, {
                table: measurements,
                entityType: 'measurement',
                liveConditions: where,
                deadConditions: [
                  eq(syncDeletions.parentId, id),
                  q.yearFrom !== undefined ? gte(syncDeletions.year, q.yearFrom) : undefined,
                  q.yearTo !== undefined ? lte(syncDeletions.year, q.yearTo) : undefined,
                ],
                ...s,
                toDto: toMeasurementDto,
                toTombstone: (d) => ({
                  id: d.entityId,
                  deleted: true as const,
                  updatedAt: iso(d.deletedAt),
                  indicatorId: d.parentId!,
                  year: d.year!,
                }),
              }),
          },
        },
        q,
      );
    },
  });

  r.get('/indicators/:id/measurements/:year', {
    config: { access: access.viewer },
    schema: {
      tags: [TAG],
      operationId: 'getMeasurement',
      summary: "Get an indicator's measurement for a year",
      params: MeasurementParams,
      response: { 200: Measurement, 304: z.null().describe('Not modified'), ...errorResponses(400, 401, 403, 404) },
    },
    handler: async (request, reply) => {
      const row = await service.get(keyOf(request.params));
      return answerVersioned(request, reply, row, toMeasurementDto);
    },
  });

  /** PUT and PATCH answer the same way: the ETag, 201 when the write created the measurement. */
  const answer = (reply: FastifyReply, stored: Awaited<ReturnType<MeasurementService['put']>>) => {
    setEtag(reply, stored.version);
    return reply.code(stored.created ? 201 : 200).send(toMeasurementDto(stored));
  };
  const keyOf = (params: { id: string; year: number }): MeasurementKey => ({
    indicatorId: params.id,
    year: params.year,
  });

  const valueRules =
    'The year must lie in plan.startYear - 10 .. plan.endYear. Ranks are whole numbers >= 1 and ratingSize, when given, ' +
    'is >= the rank; ratingSize and score apply to ranks only. A year of an approved plan year answers 409.';

  r.put('/indicators/:id/measurements/:year', {
    config: { access: byIndicator },
    schema: {
      tags: [TAG],
      operationId: 'putMeasurement',
      summary: "Create or replace an indicator's measurement for a year",
      description:
        'Replaces the whole measurement: every field omitted from the body is cleared (set to null), an existing note or ' +
        'score included. To change some fields and keep the others, use PATCH. ' +
        valueRules +
        ' 201 when created, 200 when replaced. If-Match guards replacement (412 when stale, or when nothing exists yet).',
      params: MeasurementParams,
      body: MeasurementPut,
      response: { 200: Measurement, 201: Measurement, ...errorResponses(400, 401, 403, 404, 409, 412, 413, 415) },
    },
    handler: async (request, reply) =>
      answer(reply, await service.put(actorOf(request), keyOf(request.params), request.body, ifMatchOf(request))),
  });

  // Its own scope: application/merge-patch+json is parsed (as JSON) for this route only.
  app.register(async (scope) => {
    scope.addContentTypeParser(MERGE_PATCH_TYPE, { parseAs: 'string' }, exactJsonParser(scope));
    scope.withTypeProvider<ZodTypeProvider>().patch('/indicators/:id/measurements/:year', {
      config: { access: byIndicator },
      schema: {
        tags: [TAG],
        operationId: 'patchMeasurement',
        summary: "Change some fields of an indicator's measurement for a year (JSON merge patch)",
        description:
          'A JSON merge patch (RFC 7396), sent as application/merge-patch+json or application/json: fields sent replace ' +
          'the stored ones, null clears a field, omitted fields keep their value (note merges per language). The merged ' +
          'measurement is checked exactly as PUT checks a body, and audited the same way. ' +
          valueRules +
          ' Without a stored measurement the patch creates one (201; the other fields null). If-Match guards the ' +
          'change (412 when stale, or when nothing exists yet).',
        consumes: [MERGE_PATCH_TYPE, 'application/json'],
        params: MeasurementParams,
        body: MeasurementPatch,
        response: { 200: Measurement, 201: Measurement, ...errorResponses(400, 401, 403, 404, 409, 412, 413, 415) },
      },
      handler: async (request, reply) =>
        answer(reply, await service.patch(actorOf(request), keyOf(request.params), request.body, ifMatchOf(request))),
    });
  });

  r.delete('/indicators/:id/measurements/:year', {
    config: { access: byIndicator },
    schema: {
      tags: [TAG],
      operationId: 'deleteMeasurement',
      summary: "Delete an indicator's measurement for a year",
      params: MeasurementParams,
      response: { 204: z.null().describe('Deleted'), ...errorResponses(400, 401, 403, 404, 409, 412) },
    },
    handler: async (request, reply) => {
      await service.remove(actorOf(request), keyOf(request.params), ifMatchOf(request));
      return reply.code(204).send(null);
    },
  });
}

function bulkMeasurementRoute(app: FastifyInstance, service: MeasurementService) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.post('/measurements/bulk', {
    // Editors pass the route check here; every row is then checked against the caller's
    // organization in the handler (a batch touching another organization answers 403).
    config: { access: access.editor(async (req) => req.principal?.organizationId ?? undefined) },
    bodyLimit: 8 * 1024 * 1024,
    schema: {
      tags: ['Measurements'],
      operationId: 'bulkPutMeasurements',
      summary: 'Create or replace up to 10,000 measurements in one all-or-nothing batch',
      description:
        'Each row names its indicator by `indicatorId` or by `organizationCode` + `planCode` + `indicatorCode`, and replaces the ' +
        'measurement of that year with the same rules as PUT /indicators/{id}/measurements/{year} (year range, rank rules, ' +
        'approved years locked). Nothing is written unless every row is valid: a 400 lists every bad row (`errors[].path` like ' +
        '`body.rows.17.fact`); unknown or ambiguous codes and ids, duplicates of an earlier row (same indicator and year) and ' +
        'rows of approved years are row errors. An editor may write only indicators of its own organization: a batch with any ' +
        'other row answers 403, listing those rows (indicators are readable by every caller, so this reveals nothing). ' +
        'Rows equal to what is stored are not rewritten (no new version, no audit row), so sending the same batch twice changes ' +
        "nothing the second time. ?dryRun=true validates and counts without writing; ?details=true adds every row's outcome. " +
        'Body limit 8 MiB.',
      querystring: BulkMeasurementQuery,
      body: BulkMeasurementBody,
      response: { 200: BulkMeasurementResult, ...errorResponses(400, 401, 403, 409, 413, 415) },
    },
    handler: async (request) => service.bulk(actorOf(request), request.body.rows, request.query),
  });
}
