import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { access } from '../http/access.js';
import { encodeCursor } from '../http/pagination.js';
import { badRequest, notFound } from '../http/problem.js';
import { errorResponses } from '../http/responses.js';
import { trustedJson } from '../http/serialize.js';
import { NOT_MODIFIED } from '../http/conditional.js';
import { exportEtagDescription } from '../http/export-etag.js';
import { exportBusyResponses } from '../http/export-guard.js';
import { allowedYears } from '../measurements/rules.js';
import { requestedLang } from '../shared/lang.js';
import { IdParams } from '../shared/schemas.js';
import { listApprovals } from '../approvals/repository.js';
import { buildPlanStatus, toFlatIndicatorStatus, toIndicatorStatus } from './assemble.js';
import { exportFormatOf, limitGiven, sendExport, XLSX_TYPE } from '../exports/tabular.js';
import { onePage, sendStatusExport, statusColumns } from '../exports/status.js';
import { indicatorYears, readPlanStatus, statusFeed } from './queries.js';
import type { StatusFilter } from './read-model.js';
import { isNaturalPosition, statusFilterOf } from './read-model.js';
import { FlatIndicatorStatus, IndicatorStatus, IndicatorStatusQuery, PlanStatus, PlanStatusQuery, StatusFeedQuery } from './schemas.js';
import { isSyncCursor, syncListOf } from '../sync/cursor.js';
import { StatusTombstone, statusSync } from '../sync/status.js';

const TAG = 'Status';

/** The feed's filter from its query, refusing year ranges that cannot mean anything (issue 15). */
function feedFilterOf(q: StatusFilter): StatusFilter {
  if (q.year !== undefined && (q.yearFrom !== undefined || q.yearTo !== undefined)) {
    const path = q.yearFrom !== undefined ? 'query.yearFrom' : 'query.yearTo';
    throw badRequest('Give either year or yearFrom/yearTo, not both.', [{ path, message: 'not allowed with year' }]);
  }
  if (q.yearFrom !== undefined && q.yearTo !== undefined && q.yearFrom > q.yearTo) {
    throw badRequest(`yearFrom (${q.yearFrom}) is after yearTo (${q.yearTo}).`, [{ path: 'query.yearTo', message: 'must be at least yearFrom' }]);
  }
  return statusFilterOf(q);
}

/** A feed cursor: the natural position of the previous page's last row (read-model.ts). */
function feedCursorOf(cursor: string | undefined): unknown[] | undefined {
  if (cursor === undefined) return undefined;
  // Nine values (pagination.ts's decodeCursor takes at most four), checked one by one: a cursor is client input.
  let position: unknown;
  try {
    position = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    position = undefined;
  }
  if (Array.isArray(position) && isNaturalPosition(position)) return position;
  throw badRequest('The cursor is not valid for this list; start again without it.', [{ path: 'query.cursor', message: 'invalid cursor' }]);
}

export function statusRoutes(app: FastifyInstance, db: Db) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get('/plans/:id/status', {
    config: { access: access.viewer },
    // Answers built field by field in assemble.ts: no zod encode of the whole document (serialize.ts).
    serializerCompiler: trustedJson,
    schema: {
      tags: [TAG],
      operationId: 'getPlanStatus',
      summary: 'Achievement of a plan in a year, rolled up per goal and direction',
      description: 'Every indicator of the plan with its derived status, and summaries per goal, direction and plan.',
      params: IdParams,
      querystring: PlanStatusQuery,
      response: { 200: PlanStatus, ...errorResponses(400, 401, 403, 404) },
    },
    handler: async (request) => {
      const { id } = request.params;
      const { year } = request.query;
      const data = await readPlanStatus(db, id, year);
      if (!data) throw notFound('plan', id);
      const { plan, rows, approval } = data;
      const range = allowedYears(plan);
      if (year < range.from || year > range.to) {
        throw badRequest(`The plan covers ${range.from}..${range.to} (history included).`, [
          { path: 'query.year', message: `must lie in ${range.from}..${range.to}` },
        ]);
      }
      const lang = requestedLang(request.query.lang, request.headers['accept-language']);
      return buildPlanStatus(rows, plan, year, lang, approval);
    },
  });

  r.get('/indicators/:id/status', {
    config: { access: access.viewer },
    // Answers built field by field in assemble.ts: no zod encode of the whole document (serialize.ts).
    serializerCompiler: trustedJson,
    schema: {
      tags: [TAG],
      operationId: 'getIndicatorStatus',
      summary: 'Achievement of one indicator, for a year or for every year',
      description:
        'With ?year: one IndicatorStatus (no_target when the year has no measurement). Without: { items } for every plan year ' +
        'and every measured year, ascending.',
      params: IdParams,
      querystring: IndicatorStatusQuery,
      response: { 200: z.union([IndicatorStatus, z.object({ items: z.array(IndicatorStatus) })]), ...errorResponses(400, 401, 403, 404) },
    },
    handler: async (request) => {
      const { id } = request.params;
      const { year } = request.query;
      const lang = requestedLang(request.query.lang, request.headers['accept-language']);
      const rows = await indicatorYears(db, id, year);
      const first = rows[0];
      if (!first) throw notFound('indicator', id);
      const approvedYears = new Set((await listApprovals(db, first.planId)).map((a) => a.year));
      const context = (y: number) => ({
        planId: first.planId,
        directionId: first.directionId,
        organizationId: first.organizationId,
        year: y,
        approved: approvedYears.has(y),
      });
      if (year !== undefined) return toIndicatorStatus(first, context(year), lang);
      // Plan years without a measurement still answer (no_target), so gaps are visible.
      const byYear = new Map(rows.filter((row) => row.year !== null).map((row) => [row.year!, row]));
      for (let y = first.startYear; y <= first.endYear; y++) {
        if (!byYear.has(y)) byYear.set(y, { ...first, year: y, plan: null, fact: null, ratingSize: null, score: null, note: null, previousFact: byYear.get(y - 1)?.fact ?? null, previousRatingSize: byYear.get(y - 1)?.ratingSize ?? null });
      }
      const years = [...byYear.keys()].sort((a, b) => a - b);
      return { items: years.map((y) => toIndicatorStatus(byYear.get(y)!, context(y), lang)) };
    },
  });

  r.get('/status', {
    config: { access: access.viewer },
    // Answers built field by field in assemble.ts: no zod encode of the whole document (serialize.ts).
    serializerCompiler: trustedJson,
    schema: {
      tags: [TAG],
      operationId: 'listStatus',
      summary: 'Flat indicator status rows for feeds and BI tools',
      description:
        'Paginated FlatIndicatorStatus rows in the natural order (plan code, direction, goal, indicator code: 1.1.10 after ' +
        '1.1.9; without ?year an indicator\'s years together). JSON by default; text/csv (UTF-8 with BOM) with ' +
        'Accept: text/csv or ?format=csv; an Excel workbook with ?format=xlsx or its Accept type. CSV separator "," or ";" ' +
        '(?sep= or ?delimiter=). An export without ?limit holds every matching row, streamed from one query (a server-side cursor); with ' +
        '?limit it is one page, the next in the Link header (rel="next") and X-Next-Cursor.\n\n' +
        'Incremental sync (?updatedSince=, or a cursor from a previous sync; JSON only, not with ?status=): the rows of stored ' +
        'measurements whose status may have changed (the measurement, the previous year\'s measurement, the indicator or the ' +
        "year's approval changed), in commit order, and `StatusTombstone`s `{ indicatorId, year, deleted: true, updatedAt }` " +
        'for deleted measurements (tombstones of deleted indicators cannot be filtered by plan or organization and always come). Keep `syncCursor` of the last page for the next sync.' +
        exportEtagDescription,
      querystring: StatusFeedQuery,
      response: {
        200: {
          content: {
            'application/json': { schema: syncListOf(FlatIndicatorStatus, StatusTombstone) },
            'text/csv': { schema: z.string() },
            [XLSX_TYPE]: { schema: z.string().describe('binary') },
          },
        },
        304: NOT_MODIFIED,
        ...errorResponses(400, 401, 403, 410),
        ...exportBusyResponses,
      },
    },
    handler: async (request, reply) => {
      const q = request.query;
      const filter = feedFilterOf(q);
      if (q.updatedSince !== undefined || isSyncCursor(q.cursor)) {
        if (exportFormatOf(request, q.format)) {
          throw badRequest('Incremental sync answers JSON only.', [{ path: 'query.format', message: 'incremental sync is JSON only' }]);
        }
        if (q.status) {
          throw badRequest('Incremental sync cannot filter by the derived status (a row leaving the filter would go unnoticed).', [
            { path: 'query.status', message: 'not allowed with updatedSince' },
          ]);
        }
        const lang = requestedLang(q.lang, request.headers['accept-language']);
        const result = await statusSync(db, { filter, since: q.updatedSince, cursor: q.cursor, limit: q.limit });
        // A flat status row carries its own context (plan, direction, organization, year, approval).
        const items = result.items.map((item) => (item.live ? toFlatIndicatorStatus(item.live, lang) : item.tombstone!));
        return reply.type('application/json; charset=utf-8').send({ items, nextCursor: result.nextCursor, syncCursor: result.syncCursor });
      }
      // Exports without ?limit mean everything matching, streamed in keyset pages (src/exports/).
      const exportFormat = exportFormatOf(request, q.format);
      if (exportFormat && !limitGiven(request)) {
        // The weak ETag comes from the rows' change stamps, read where the export reads (src/exports/status.ts).
        return sendStatusExport(request, reply, db, exportFormat, filter, requestedLang(q.lang, request.headers['accept-language']), q.sep ?? q.delimiter);
      }
      const cursor = feedCursorOf(q.cursor);
      const rows = await statusFeed(db, { filter, limit: q.limit, cursor });
      const hasMore = rows.length > q.limit;
      const pageRows = hasMore ? rows.slice(0, q.limit) : rows;
      const lang = requestedLang(q.lang, request.headers['accept-language']);
      const items = pageRows.map((row) => toFlatIndicatorStatus(row, lang));
      const last = pageRows[pageRows.length - 1];
      const nextCursor = hasMore && last ? encodeCursor(last.naturalPosition) : null;
      if (exportFormat) {
        // ?limit given: one page, the next in the Link header (rel="next") and X-Next-Cursor.
        if (nextCursor) {
          const url = new URL(request.url, 'http://x');
          url.searchParams.set('cursor', nextCursor);
          reply.header('link', `<${url.pathname}${url.search}>; rel="next"`).header('x-next-cursor', nextCursor);
        }
        return sendExport(reply, exportFormat, 'status', statusColumns(lang ?? 'kk'), onePage(items), q.sep ?? q.delimiter);
      }
      return reply.type('application/json; charset=utf-8').send({ items, nextCursor });
    },
  });
}
