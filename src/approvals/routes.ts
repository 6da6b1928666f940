import { versionInForce } from '../evaluation-methods/service.js';
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { recordAudit } from '../audit/record.js';
import type { Db } from '../db/client.js';
import { organizationOf } from '../db/ownership.js';
import { plans, syncDeletions, yearApprovals } from '../db/schema.js';
import { access } from '../http/access.js';
import { setEtag } from '../http/etag.js';
import { badRequest, conflict, HttpProblem, notFound } from '../http/problem.js';
import { errorResponses } from '../http/responses.js';
import { IdParams, ListQuery, Uuid } from '../shared/schemas.js';
import { decodeCursor, page } from '../http/pagination.js';
import { UpdatedSince, isSyncCursor, syncListDescription, syncListOf, tombstoneOf } from '../sync/cursor.js';
import { syncList } from '../sync/lists.js';
import { findApproval, listApprovals, toApprovalDto } from './repository.js';
import type { YearApproval as YearApprovalDto } from './schemas.js';
import { ApproveBody, PlanYearParams, ReopenBody, YearApproval } from './schemas.js';

const TAG = 'Approvals';

const ApprovalTombstone = tombstoneOf('YearApproval', { planId: Uuid, year: z.number().int().nullable() });

const Reopened = z
  .object({ planId: Uuid, year: z.number().int(), reason: z.string(), reopenedBy: z.string().nullable() })
  .meta({ id: 'YearReopened' });

export function approvalRoutes(app: FastifyInstance, db: Db) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  async function lockPlan(tx: Parameters<Parameters<Db['transaction']>[0]>[0], planId: string) {
    const rows = await tx.select().from(plans).where(eq(plans.id, planId)).for('update');
    if (!rows[0]) throw notFound('plan', planId);
    return rows[0];
  }

  r.get('/plans/:id/years', {
    config: { access: access.viewer },
    schema: {
      tags: [TAG],
      operationId: 'listYearApprovals',
      summary: "A plan's approved years",
      description:
        'Ordered by year, cursor-paginated.' +
        syncListDescription +
        ' An approval is never edited: approving inserts it, reopening deletes it. So in sync mode a reopened year comes as a ' +
        'YearApprovalTombstone `{ id, planId, year, deleted: true, updatedAt }` (updatedAt: when it was reopened; the reason is ' +
        'in the audit trail), and approving the year again comes later, in commit order, as a new approval with a new id. ' +
        'Apply items in order, keyed by id (or by planId and year): a year is approved when its last item is a live approval.',
      params: IdParams,
      querystring: ListQuery.extend({ updatedSince: UpdatedSince.optional() }),
      response: { 200: syncListOf(YearApproval, ApprovalTombstone), ...errorResponses(400, 401, 403, 404, 410) },
    },
    handler: async (request) => {
      const { id } = request.params;
      const q = request.query;
      const plan = db.select({ id: plans.id }).from(plans).where(eq(plans.id, id));
      if (q.updatedSince !== undefined || isSyncCursor(q.cursor)) {
        if (!(await plan)[0]) throw notFound('plan', id);
        const synced = await syncList(db, {
          table: yearApprovals,
          entityType: 'year_approval',
          liveConditions: [eq(yearApprovals.planId, id)],
          deadConditions: [eq(syncDeletions.parentId, id)],
          since: q.updatedSince,
          cursor: q.cursor,
          limit: q.limit,
          toDto: toApprovalDto as (row: Record<string, unknown>) => unknown,
          toTombstone: (d) => ({ id: d.entityId, deleted: true, updatedAt: d.deletedAt.toISOString(), planId: d.parentId, year: d.year }),
        });
        return synced as { items: (YearApprovalDto | z.output<typeof ApprovalTombstone>)[]; nextCursor: string | null; syncCursor: string };
      }
      const cursor = q.cursor ? Number(decodeCursor(q.cursor, 1)[0]) : undefined;
      if (cursor !== undefined && !Number.isSafeInteger(cursor)) {
        throw badRequest('The cursor is not valid for this list; start again without it.', [{ path: 'query.cursor', message: 'invalid cursor' }]);
      }
      const [found, rows] = await Promise.all([plan, listApprovals(db, id, { after: cursor, limit: q.limit + 1 })]);
      if (!found[0]) throw notFound('plan', id);
      const result = page(rows, q.limit, (row) => [row.year]);
      return { items: result.items.map(toApprovalDto), nextCursor: result.nextCursor };
    },
  });

  r.post('/plans/:id/years/:year/approve', {
    config: { access: access.editor((req) => organizationOf.plan(db, (req.params as { id: string }).id)) },
    schema: {
      tags: [TAG],
      operationId: 'approveYear',
      summary: 'Approve a plan year by an order, locking its values and risks',
      description:
        "While approved, the year's measurements and risks answer 409 to every change, and the plan's directions, goals " +
        'and indicators cannot be deleted nor an indicator\'s valueType/betterWhen changed. Audited.',
      params: PlanYearParams,
      body: ApproveBody,
      response: { 201: YearApproval, ...errorResponses(400, 401, 403, 404, 409, 415) },
    },
    handler: async (request, reply) => {
      const { id, year } = request.params;
      const created = await db.transaction(async (tx) => {
        const plan = await lockPlan(tx, id);
        if (year < plan.startYear || year > plan.endYear) {
          throw badRequest(`Only the plan's own years ${plan.startYear}..${plan.endYear} are approved.`, [
            { path: 'params.year', message: `must lie in ${plan.startYear}..${plan.endYear}` },
          ]);
        }
        if (await findApproval(tx, id, year)) throw conflict(`Year ${year} of this plan is already approved.`);
        const [row] = await tx
          .insert(yearApprovals)
          .values({
            planId: id,
            year,
            ...request.body,
            approvedBy: request.principal?.id ?? null,
            // The method version in force now: this year keeps answering with it whatever changes later.
            evaluationMethodVersionId: await versionInForce(tx, plan.evaluationMethodId ?? null),
          })
          .returning();
        const dto = toApprovalDto(row!);
        await recordAudit(tx, request, { entityType: 'yearApproval', entityId: dto.id, entityKey: `${id}/${year}`, action: 'approve', after: dto });
        return dto;
      });
      setEtag(reply, created.version);
      return reply.code(201).send(created);
    },
  });

  r.post('/plans/:id/years/:year/reopen', {
    config: { access: access.admin },
    schema: {
      tags: [TAG],
      operationId: 'reopenYear',
      summary: 'Reopen an approved plan year (admin, with a reason)',
      params: PlanYearParams,
      body: ReopenBody,
      response: { 200: Reopened, ...errorResponses(400, 401, 403, 404, 415) },
    },
    handler: async (request) => {
      const { id, year } = request.params;
      return db.transaction(async (tx) => {
        await lockPlan(tx, id);
        const approval = await findApproval(tx, id, year);
        if (!approval) throw new HttpProblem(404, `Year ${year} of plan ${id} is not approved.`);
        await tx.delete(yearApprovals).where(eq(yearApprovals.id, approval.id));
        const result = { planId: id, year, reason: request.body.reason, reopenedBy: request.principal?.id ?? null };
        await recordAudit(tx, request, {
          entityType: 'yearApproval',
          entityId: approval.id,
          entityKey: `${id}/${year}`,
          action: 'reopen',
          before: toApprovalDto(approval),
          after: result,
        });
        return result;
      });
    },
  });
}
