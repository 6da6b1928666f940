import { exportBusyResponses } from '../http/export-guard.js';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { organizationOf } from '../db/ownership.js';
import { measurements } from '../db/schema.js';
import { and, eq } from 'drizzle-orm';
import { access } from '../http/access.js';
import { assertIfMatch, notModified, setEtag } from '../http/etag.js';
import { decodeCursor, encodeCursor, page } from '../http/pagination.js';
import { exportFormatOf, sendListExport } from '../exports/tabular.js';
import { HttpProblem, badRequest, notFound, preconditionFailed } from '../http/problem.js';
import { errorResponses } from '../http/responses.js';
import { IdParams } from '../shared/schemas.js';
import { findMeasurement, indicatorContext, listMeasurements, toMeasurementDto, upsertMeasurement } from './repository.js';
import { allowedYears, measurementProblems } from './rules.js';
import { assertYearOpen } from '../approvals/repository.js';
import { recordAudit } from '../audit/record.js';
import { Measurement, MeasurementListQuery, MeasurementParams, MeasurementPut, MeasurementTombstone } from './schemas.js';
import { isSyncCursor, syncListDescription, syncListOf } from '../sync/cursor.js';
import { syncList } from '../sync/lists.js';
import { syncDeletions } from '../db/schema.js';
import { gte, lte } from 'drizzle-orm';
import { iso } from '../shared/decimal.js';
import { bulkMeasurementRoutes } from './bulk.js';

const TAG = 'Measurements';

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
      if (q.updatedSince !== undefined || isSyncCursor(q.cursor)) {
        if (exportFormatOf(request, q.format)) {
          throw badRequest('Incremental sync answers JSON only.', [{ path: 'query.format', message: 'incremental sync is JSON only' }]);
        }
        const years = (yearColumn: typeof measurements.year | typeof syncDeletions.year) => [
          q.yearFrom !== undefined ? gte(yearColumn, q.yearFrom) : undefined,
          q.yearTo !== undefined ? lte(yearColumn, q.yearTo) : undefined,
        ];
        const [context, result] = await Promise.all([
          indicatorContext(db, id),
          syncList(db, {
            table: measurements,
            entityType: 'measurement',
            liveConditions: [eq(measurements.indicatorId, id), ...years(measurements.year)],
            deadConditions: [eq(syncDeletions.parentId, id), ...years(syncDeletions.year)],
            since: q.updatedSince,
            cursor: q.cursor,
            limit: q.limit,
            toDto: (row) => toMeasurementDto(row as unknown as typeof measurements.$inferSelect),
            toTombstone: (d) => ({ id: d.entityId, deleted: true as const, updatedAt: iso(d.deletedAt), indicatorId: d.parentId!, year: d.year! }),
          }),
        ]);
        if (!context) throw notFound('indicator', id);
        return result as { items: (Measurement | MeasurementTombstone)[]; nextCursor: string | null; syncCursor: string };
      }
      const exportFormat = exportFormatOf(request, q.format);
      if (exportFormat) {
        if (!(await indicatorContext(db, id))) throw notFound('indicator', id);
        return sendListExport(request, reply, exportFormat, {
          name: 'measurements',
          entity: Measurement,
          db,
          limit: q.limit,
          start: q.cursor ? decodeCursor(q.cursor, 1) : undefined,
          // listMeasurements fetches limit + 1 rows.
          fetch: (d, after, size) => listMeasurements(d, id, { ...q, limit: size - 1, cursor: after }),
          keyOf: (row) => [row.year],
          toDto: toMeasurementDto,
          encode: encodeCursor,
          sep: q.sep ?? q.delimiter,
        });
      }
      const cursor = q.cursor ? decodeCursor(q.cursor, 1) : undefined;
      const [context, rows] = await Promise.all([indicatorContext(db, id), listMeasurements(db, id, { ...q, cursor })]);
      if (!context) throw notFound('indicator', id);
      const result = page(rows, q.limit, (row) => [row.year]);
      return { items: result.items.map(toMeasurementDto), nextCursor: result.nextCursor };
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

  r.put('/indicators/:id/measurements/:year', {
    config: { access: byIndicator },
    schema: {
      tags: [TAG],
      operationId: 'putMeasurement',
      summary: "Create or replace an indicator's measurement for a year",
      description:
        'The year must lie in plan.startYear - 10 .. plan.endYear. Ranks are whole numbers >= 1 and ratingSize, when given, ' +
        'is >= the rank; ratingSize and score apply to ranks only. 201 when created, 200 when replaced. If-Match guards replacement.',
      params: MeasurementParams,
      body: MeasurementPut,
      response: { 200: Measurement, 201: Measurement, ...errorResponses(400, 401, 403, 404, 409, 412, 413, 415) },
    },
    handler: async (request, reply) => {
      const { id, year } = request.params;
      const body = request.body;
      const stored = await db.transaction(async (tx) => {
        const context = await indicatorContext(tx, id, true);
        if (!context) throw notFound('indicator', id);
        const years = allowedYears(context);
        const problems = measurementProblems(context.valueType, body);
        if (year < years.from || year > years.to) {
          problems.unshift({ path: 'params.year', message: `the year must lie in ${years.from}..${years.to} for this plan` });
        }
        if (problems.length > 0) throw badRequest('The measurement is not valid for this indicator; see errors.', problems);
        await assertYearOpen(tx, context.planId, year);
        const current = await findMeasurement(tx, id, year, true);
        if (request.headers['if-match']) {
          if (!current) throw preconditionFailed(0);
          assertIfMatch(request, current.version);
        }
        const row = await upsertMeasurement(tx, id, year, body);
        await recordAudit(tx, request, {
          entityType: 'measurement',
          entityId: row.id,
          entityKey: `${id}/${year}`,
          action: current ? 'update' : 'create',
          before: current ? toMeasurementDto(current) : null,
          after: toMeasurementDto(row),
        });
        return row;
      });
      setEtag(reply, stored.version);
      return reply.code(stored.created ? 201 : 200).send(toMeasurementDto(stored));
    },
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
