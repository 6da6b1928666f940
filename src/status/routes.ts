import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { access } from '../http/access.js';
import { answerList } from '../http/list-pipeline.js';
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
import { XLSX_TYPE } from '../exports/tabular.js';
import { sendStatusExport, statusColumns } from '../exports/status.js';
import { indicatorYears, readPlanStatus, statusFeedList } from './queries.js';
import type { StatusFilter } from './read-model.js';
import { statusFilterOf } from './read-model.js';
import { planScoring, rowScorer } from './scoring.js';
import {
  FlatIndicatorStatus,
  IndicatorStatus,
  IndicatorStatusQuery,
  PlanStatus,
  PlanStatusQuery,
  StatusFeedQuery,
} from './schemas.js';
import { syncListOf } from '../sync/cursor.js';
import { StatusTombstone, statusSync } from '../sync/status.js';
import type { StatusCache } from '../status-cache/cache.js';
import { feedPageKey, indicatorStatusKey, planStatusKey } from '../status-cache/key.js';
import { answerCached } from '../status-cache/respond.js';

const TAG = 'Status';

/** The feed's filter from its query, refusing year ranges that cannot mean anything (issue 15). */
function feedFilterOf(q: StatusFilter): StatusFilter {
  if (q.year !== undefined && (q.yearFrom !== undefined || q.yearTo !== undefined)) {
    const path = q.yearFrom !== undefined ? 'query.yearFrom' : 'query.yearTo';
    throw badRequest('Give either year or yearFrom/yearTo, not both.', [{ path, message: 'not allowed with year' }]);
  }
  if (q.yearFrom !== undefined && q.yearTo !== undefined && q.yearFrom > q.yearTo) {
    throw badRequest(`yearFrom (${q.yearFrom}) is after yearTo (${q.yearTo}).`, [
      { path: 'query.yearTo', message: 'must be at least yearFrom' },
    ]);
  }
  return statusFilterOf(q);
}

/** `cache`: the status cache (src/status-cache/), undefined when it is off. */
export function statusRoutes(app: FastifyInstance, db: Db, cache?: StatusCache) {
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
    handler: async (request, reply) => {
      const { id } = request.params;
      const { year } = request.query;
      const lang = requestedLang(request.query.lang, request.headers['accept-language']);
      const forecast = request.query.forecast === 'true';
      return answerCached(
        request,
        reply,
        cache,
        () => planStatusKey(id, year, lang, forecast),
        async () => {
          const data = await readPlanStatus(db, id, year);
          if (!data) throw notFound('plan', id);
          const { plan, rows, approval } = data;
          const range = allowedYears(plan);
          if (year < range.from || year > range.to) {
            throw badRequest(`The plan covers ${range.from}..${range.to} (history included).`, [
              { path: 'query.year', message: `must lie in ${range.from}..${range.to}` },
            ]);
          }
          // The plan's evaluation method (no read for plans without one) and, when asked, the forecasts.
          const scoring = await planScoring(db, data, year, new Date(), forecast);
          return { value: buildPlanStatus(rows, plan, year, lang, approval, scoring), scope: { planIds: [plan.id] } };
        },
      );
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
      response: {
        200: z.union([IndicatorStatus, z.object({ items: z.array(IndicatorStatus) })]),
        ...errorResponses(400, 401, 403, 404),
      },
    },
    handler: async (request, reply) => {
      const { id } = request.params;
      const { year } = request.query;
      const lang = requestedLang(request.query.lang, request.headers['accept-language']);
      return answerCached(
        request,
        reply,
        cache,
        () => indicatorStatusKey(id, year, lang),
        async () => {
          const rows = await indicatorYears(db, id, year);
          const first = rows[0];
          if (!first) throw notFound('indicator', id);
          const approvals = await listApprovals(db, first.planId);
          const approvedYears = new Set(approvals.map((a) => a.year));
          const approvalVersion = new Map(approvals.map((a) => [a.year, a.evaluationMethodVersionId ?? null]));
          const now = new Date();
          const sourceOf = (y: number) => ({
            approved: approvedYears.has(y),
            approvalMethodVersionId: approvalVersion.get(y) ?? null,
            planMethodId: first.planMethodId,
          });
          const years =
            year !== undefined
              ? [year]
              : [
                  ...new Set([
                    ...rows.map((row) => row.year),
                    ...Array.from({ length: first.endYear - first.startYear + 1 }, (_, i) => first.startYear + i),
                  ]),
                ];
          const scorer = await rowScorer(db, years.filter((y): y is number => y !== null).map(sourceOf), now);
          const scoringOf = (y: number) => scorer(sourceOf(y));
          const context = (y: number) => ({
            planId: first.planId,
            directionId: first.directionId,
            organizationId: first.organizationId,
            year: y,
            approved: approvedYears.has(y),
          });
          const scope = { planIds: [first.planId] };
          type Answer = IndicatorStatus | { items: IndicatorStatus[] };
          if (year !== undefined)
            return { value: toIndicatorStatus(first, context(year), lang, scoringOf(year)) as Answer, scope };
          // Plan years without a measurement still answer (no_target), so gaps are visible.
          const byYear = new Map(rows.filter((row) => row.year !== null).map((row) => [row.year!, row]));
          for (let y = first.startYear; y <= first.endYear; y++) {
            if (!byYear.has(y))
              byYear.set(y, {
                ...first,
                year: y,
                plan: null,
                fact: null,
                ratingSize: null,
                score: null,
                note: null,
                previousFact: byYear.get(y - 1)?.fact ?? null,
                previousRatingSize: byYear.get(y - 1)?.ratingSize ?? null,
                previousScore: byYear.get(y - 1)?.score ?? null,
              });
          }
          const sorted = [...byYear.keys()].sort((a, b) => a - b);
          return {
            value: { items: sorted.map((y) => toIndicatorStatus(byYear.get(y)!, context(y), lang, scoringOf(y))) },
            scope,
          };
        },
      );
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
        "1.1.9; without ?year an indicator's years together). JSON by default; text/csv (UTF-8 with BOM) with " +
        'Accept: text/csv or ?format=csv; an Excel workbook with ?format=xlsx or its Accept type. CSV separator "," or ";" ' +
        '(?sep= or ?delimiter=). An export without ?limit holds every matching row, streamed from one query (a server-side cursor); with ' +
        '?limit it is one page, the next in the Link header (rel="next") and X-Next-Cursor.\n\n' +
        'Incremental sync (?updatedSince=, or a cursor from a previous sync; JSON only, not with ?status=): the rows of stored ' +
        "measurements whose status may have changed (the measurement, the previous year's measurement, the indicator or the " +
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
      const lang = requestedLang(q.lang, request.headers['accept-language']);
      const filter = feedFilterOf(q);
      return answerList(
        request,
        reply,
        {
          db,
          // A flat status row carries its own context (plan, direction, organization, year, approval).
          list: statusFeedList(filter, new Date(), (row, scoring) => toFlatIndicatorStatus(row, lang, scoring)),
          // A feed page spans plans: any change evicts every cached page (StatusCache.evictPlans).
          cachedPage: (count, read) =>
            answerCached(
              request,
              reply,
              cache,
              () => feedPageKey(filter, q.limit, q.cursor, lang, count),
              async () => ({
                ...(await read()),
                scope: { feed: true },
              }),
            ),
          export: {
            name: 'status',
            columns: statusColumns(lang ?? 'kk'),
            // Without ?limit: every matching row from one server-side cursor, its weak ETag from the rows' change stamps.
            stream: (format, sep, decimal) => sendStatusExport(request, reply, db, format, filter, lang, sep, decimal),
          },
          sync: {
            refused: [
              q.status
                ? {
                    path: 'query.status',
                    message: 'not allowed with updatedSince: a row leaving the derived status would go unnoticed',
                  }
                : undefined,
            ],
            read: async (s) => {
              const result = await statusSync(db, { filter, ...s });
              const scorer = await rowScorer(
                db,
                result.items.flatMap((item) => (item.live ? [item.live] : [])),
                new Date(),
              );
              const items = result.items.map((item) =>
                item.live
                  ? { ...toFlatIndicatorStatus(item.live, lang, scorer(item.live)), deleted: false as const }
                  : item.tombstone!,
              );
              return { items, nextCursor: result.nextCursor, syncCursor: result.syncCursor };
            },
          },
        },
        q,
      );
    },
  });
}
