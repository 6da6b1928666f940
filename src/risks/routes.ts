/**
 * Risks (section 1 of the annual report): CRUD under a goal through the shared CRUD factory, and
 * the plan-wide register GET /plans/{id}/risks in report order.
 */
import { exportBusyResponses } from '../http/export-guard.js';
import { columnsOf } from '../exports/tabular.js';
import { answerList } from '../http/list-pipeline.js';
import { and, eq, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { assertYearOpen, findApproval } from '../approvals/repository.js';
import { organizationOf } from '../db/ownership.js';
import { goals, risks } from '../db/schema.js';
import { access } from '../http/access.js';
import { registerCrud } from '../http/crud.js';
import { badRequest, notFound } from '../http/problem.js';
import { errorResponses } from '../http/responses.js';
import { reportYearProblem } from '../reports/years.js';
import { findPlan } from '../status/queries.js';
import { NOT_MODIFIED } from '../http/conditional.js';
import { exportEtagDescription } from '../http/export-etag.js';
import { changeWatermark } from '../lists/watermark.js';
import { syncListDescription, syncListOf } from '../sync/cursor.js';
import { PlanRiskTombstone, planRiskSync } from '../sync/plan-risks.js';
import { directions } from '../db/schema.js';
import { joinUpSql } from '../db/plan-tree.js';
import { requestedLang, resolveText } from '../shared/lang.js';
import { IdParams } from '../shared/schemas.js';
import type { PlanRiskRow, RiskRow } from './repository.js';
import { planOfGoal, planRiskList, toRiskDto } from './repository.js';
import { PlanRisk, PlanRiskQuery, Risk, RiskCreate, RiskFilters, RiskPatch } from './schemas.js';

const TAG = 'Risks';

// The plan-wide cursor carries the 7-part report-order key of the last row.
const PlanRiskCursor = z.tuple([
  z.number().int(),
  z.string().max(256),
  z.number().int(),
  z.string().max(256),
  z.number().int(),
  z.number().int(),
  z.uuid(),
]);

function decodePlanRiskCursor(cursor: string): unknown[] {
  try {
    return PlanRiskCursor.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw badRequest('The cursor is not valid for this list; start again without it.', [
      { path: 'query.cursor', message: 'invalid cursor' },
    ]);
  }
}

export function riskRoutes(app: FastifyInstance, db: Db) {
  registerCrud(app, db, {
    name: 'risk',
    plural: 'risks',
    tag: TAG,
    table: risks,
    entity: Risk,
    createBody: RiskCreate,
    patchBody: RiskPatch,
    collectionPath: '/goals/:goalId/risks',
    itemPath: '/risks/:id',
    parent: { param: 'goalId', table: goals, column: risks.goalId, name: 'goal' },
    filters: RiskFilters,
    filterConditions: (q) => [
      q.year !== undefined ? eq(risks.year, q.year) : undefined,
      q.executionStatus ? eq(risks.executionStatus, q.executionStatus) : undefined,
    ],
    orderBy: [risks.year, risks.position, risks.id],
    hasPosition: true,
    listDescription: "The goal's risks, cursor-paginated, ordered by year, then position; filters are exact matches.",
    toDto: toRiskDto,
    toInsert: (body, goalId) => ({ ...body, goalId }),
    toUpdate: (patch) => ({ ...patch }),
    validate: async (tx, candidate, previous) => {
      const row = candidate as unknown as RiskRow;
      const plan = await planOfGoal(tx, row.goalId, true);
      if (!plan) throw notFound('goal', row.goalId);
      const problem = reportYearProblem(plan, row.year, 'body.year');
      if (problem) throw badRequest('The risk year is outside the plan.', [problem]);
      // An approved year's report is evidence: its risks change only after an admin reopens it (409).
      await assertYearOpen(tx, plan.planId, row.year);
      const before = previous as unknown as RiskRow | undefined;
      if (before && before.year !== row.year) await assertYearOpen(tx, plan.planId, before.year);
    },
    // The factory refuses deletes while planOf names a plan with approved years: name it only when the
    // risk's own year is approved, so risks of open years stay deletable.
    planOf: async (tx, row) => {
      const risk = row as unknown as RiskRow;
      const plan = await planOfGoal(tx, risk.goalId, true);
      return plan && (await findApproval(tx, plan.planId, risk.year)) ? plan.planId : undefined;
    },
    organizationOfNew: (database, request) =>
      organizationOf.goal(database, (request.params as { goalId: string }).goalId),
    organizationOfRow: organizationOf.risk,
  });

  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get('/plans/:id/risks', {
    config: { access: access.viewer },
    schema: {
      tags: [TAG],
      operationId: 'listPlanRisks',
      summary: "List a plan's risks (the risk register)",
      description:
        'Every risk of every goal of the plan in report order (direction, goal, year, position), cursor-paginated. ' +
        'Filter by ?year and ?executionStatus; ?lang (or Accept-Language) adds plain-text fields resolved to that language.' +
        syncListDescription +
        ' In sync mode items come in commit order; a risk is re-served when it, its goal or its direction changes (codes are ' +
        'part of the row); a deleted risk comes as a PlanRiskTombstone with its goalId, planId and year. ?year and ' +
        '?executionStatus are refused in sync mode (400): both can change, and a risk leaving the filter would go unnoticed.' +
        exportEtagDescription,
      params: IdParams,
      querystring: PlanRiskQuery,
      response: {
        200: syncListOf(PlanRisk, PlanRiskTombstone),
        304: NOT_MODIFIED,
        ...errorResponses(400, 401, 403, 404, 410),
        ...exportBusyResponses,
      },
    },
    handler: async (request, reply) => {
      const { id } = request.params;
      const q = request.query;
      const lang = requestedLang(q.lang, request.headers['accept-language']);
      const toDto = (row: Pick<PlanRiskRow, 'risk' | 'goalCode' | 'directionId' | 'directionCode'>) => ({
        ...toRiskDto(row.risk),
        goalCode: row.goalCode,
        directionId: row.directionId,
        directionCode: row.directionCode,
        ...(lang
          ? {
              riskText: resolveText(row.risk.risk, lang),
              plannedMeasuresText: resolveText(row.risk.plannedMeasures, lang),
              actualMeasuresText: resolveText(row.risk.actualMeasures, lang),
              noteText: resolveText(row.risk.note, lang),
            }
          : {}),
      });
      const filters = { year: q.year, executionStatus: q.executionStatus };
      const watermark = (d: Db) =>
        changeWatermark(
          d,
          [sql`${risks.changeXid}`, sql`${goals.changeXid}`, sql`${directions.changeXid}`],
          sql`from ${risks} inner join ${goals} on ${eq(goals.id, risks.goalId)} ${joinUpSql(goals, directions)}
            where ${and(eq(directions.planId, id), q.year !== undefined ? eq(risks.year, q.year) : undefined, q.executionStatus ? eq(risks.executionStatus, q.executionStatus) : undefined)}`,
        );
      return answerList(
        request,
        reply,
        {
          db,
          list: planRiskList(id, filters, { toDto, decodeCursor: decodePlanRiskCursor }),
          parent: async () => {
            if (!(await findPlan(db, id))) throw notFound('plan', id);
          },
          export: { name: 'risks', columns: columnsOf<z.output<typeof PlanRisk>>(PlanRisk), watermark },
          sync: {
            refused: [
              q.year !== undefined
                ? { path: 'query.year', message: 'not allowed with updatedSince: a risk can change year' }
                : undefined,
              q.executionStatus
                ? { path: 'query.executionStatus', message: 'not allowed with updatedSince: a risk can change status' }
                : undefined,
            ],
            read: async (s) => {
              const page = await planRiskSync(db, id, s);
              const items = page.items.map((i) =>
                i.live ? { ...toDto(i.live), deleted: false as const } : i.tombstone!,
              );
              return { items, nextCursor: page.nextCursor, syncCursor: page.syncCursor };
            },
          },
        },
        q,
      );
    },
  });
}
