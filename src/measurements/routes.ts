import { exportBusyResponses } from '../http/export-guard.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { organizationOf } from '../db/ownership.js';
import { measurements } from '../db/schema.js';
import { and, eq } from 'drizzle-orm';
import { access } from '../http/access.js';
import { assertIfMatch, notModified, setEtag } from '../http/etag.js';
import { columnsOf } from '../exports/tabular.js';
import { answerList } from '../http/list-pipeline.js';
import { HttpProblem, badRequest, notFound, preconditionFailed } from '../http/problem.js';
import { errorResponses } from '../http/responses.js';
import { IdParams } from '../shared/schemas.js';
import type { MeasurementValues } from './repository.js';
import { findMeasurement, indicatorContext, measurementList, toMeasurementDto, upsertMeasurement } from './repository.js';
import { allowedYears, measurementProblems } from './rules.js';
import { assertYearOpen } from '../approvals/repository.js';
import { recordAudit } from '../audit/record.js';
import { Measurement, MeasurementListQuery, MeasurementParams, MeasurementPatch, MeasurementPut, MeasurementTombstone } from './schemas.js';
import { applyMergePatch } from '../shared/merge-patch.js';
import { exactJsonParser } from '../http/json-body.js';
import { assertServable } from '../http/serialize.js';
import { syncListDescription, syncListOf } from '../sync/cursor.js';
import { syncList } from '../sync/lists.js';
import { syncDeletions } from '../db/schema.js';
import { gte, lte } from 'drizzle-orm';
import { iso } from '../shared/decimal.js';
import { bulkMeasurementRoutes } from './bulk.js';

const TAG = 'Measurements';
const MERGE_PATCH_TYPE = 'application/merge-patch+json';
type MeasurementRow = typeof measurements.$inferSelect;

export function measurementRoutes(app: FastifyInstance, db: Db) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  bulkMeasurementRoutes(app, db);
  const byIndicator = access.editor((req) => organizationOf.indicator(db, (req.params as { id: string }).id));

  r.get('/indicators/:id/measurements', {
    config: { access: access.viewer },
    schema: {
      tags: [TAG],
      operationId: 'listMeasurements',
      summary: "List an indicator's measurements",
      description:
        'Ordered by year, cursor-paginated. ?format=csv|xlsx answers a file (without ?limit every year, streamed).' + syncListDescription,
      params: IdParams,
      querystring: MeasurementListQuery,
      response: { 200: syncListOf(Measurement, MeasurementTombstone), ...errorResponses(400, 401, 403, 404), ...exportBusyResponses },
    },
    handler: async (request, reply) => {
      const { id } = request.params;
      const q = request.query;
      const { where, list } = measurementList(id, q);
      return answerList(request, reply, {
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
      }, q);
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
      const { id, year } = request.params;
      const row = await findMeasurement(db, id, year);
      if (!row) throw new HttpProblem(404, `indicator ${id} has no measurement for ${year}`);
      setEtag(reply, row.version);
      if (notModified(request, row.version)) return reply.code(304).send(null);
      return toMeasurementDto(row);
    },
  });

  /**
   * PUT and PATCH share one write: the indicator and plan locked, the stored measurement locked,
   * then `valuesFor(current)` (the PUT body, or the PATCH merged onto what is stored) checked by the
   * same rules, the year checked open, If-Match honoured, upserted and audited in one transaction.
   */
  async function writeMeasurement(
    request: FastifyRequest,
    reply: FastifyReply,
    valuesFor: (current: MeasurementRow | undefined) => MeasurementValues,
  ) {
    const { id, year } = request.params as { id: string; year: number };
    const stored = await db.transaction(async (tx) => {
      const context = await indicatorContext(tx, id, true);
      if (!context) throw notFound('indicator', id);
      const current = await findMeasurement(tx, id, year, true);
      const values = valuesFor(current);
      const years = allowedYears(context);
      const problems = measurementProblems(context.valueType, values);
      if (year < years.from || year > years.to) {
        problems.unshift({ path: 'params.year', message: `the year must lie in ${years.from}..${years.to} for this plan` });
      }
      if (problems.length > 0) throw badRequest('The measurement is not valid for this indicator; see errors.', problems);
      await assertYearOpen(tx, context.planId, year);
      if (request.headers['if-match']) {
        if (!current) throw preconditionFailed(0);
        assertIfMatch(request, current.version);
      }
      const row = await upsertMeasurement(tx, id, year, values);
      await recordAudit(tx, request, {
        entityType: 'measurement',
        entityId: row.id,
        entityKey: `${id}/${year}`,
        action: current ? 'update' : 'create',
        before: current ? toMeasurementDto(current) : null,
        after: assertServable(Measurement, toMeasurementDto(row)),
      });
      return row;
    });
    setEtag(reply, stored.version);
    return reply.code(stored.created ? 201 : 200).send(toMeasurementDto(stored));
  }

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
    handler: async (request, reply) => writeMeasurement(request, reply, () => request.body),
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
        writeMeasurement(request, reply, (current) => {
          const dto = current ? toMeasurementDto(current) : undefined;
          const stored: MeasurementValues = {
            plan: dto?.plan ?? null,
            fact: dto?.fact ?? null,
            ratingSize: dto?.ratingSize ?? null,
            score: dto?.score ?? null,
            note: dto?.note ?? null,
          };
          // The PUT's schema decides what a merged measurement may be (an emptied note, for one).
          const merged = MeasurementPut.safeParse(applyMergePatch(stored, request.body));
          if (!merged.success) {
            throw badRequest(
              'The patched measurement is not valid; see errors.',
              merged.error.issues.map((i) => ({ path: ['body', ...i.path.map(String)].join('.'), message: i.message })),
            );
          }
          return merged.data;
        }),
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
      const { id, year } = request.params;
      await db.transaction(async (tx) => {
        const context = await indicatorContext(tx, id, true);
        const current = context ? await findMeasurement(tx, id, year, true) : undefined;
        if (!context || !current) throw new HttpProblem(404, `indicator ${id} has no measurement for ${year}`);
        assertIfMatch(request, current.version);
        await assertYearOpen(tx, context.planId, year);
        await tx.delete(measurements).where(and(eq(measurements.indicatorId, id), eq(measurements.year, year)));
        await recordAudit(tx, request, {
          entityType: 'measurement',
          entityId: current.id,
          entityKey: `${id}/${year}`,
          action: 'delete',
          before: toMeasurementDto(current),
        });
      });
      return reply.code(204).send(null);
    },
  });
}
