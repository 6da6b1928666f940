import { actorOf } from '../http/actor.js';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { organizationOf } from '../db/ownership.js';
import { yearApprovals } from '../db/schema.js';
import { access } from '../http/access.js';
import { setEtag } from '../http/etag.js';
import { errorResponses } from '../http/responses.js';
import { IdParams, ListQuery, Uuid, Year } from '../shared/schemas.js';
import { UpdatedSince, syncListDescription, syncListOf, tombstoneOf } from '../sync/cursor.js';
import { toApprovalDto, approvalList } from './repository.js';
import { approvalService } from './service.js';
import { planYearList } from '../http/plan-year-list.js';
import { ApproveBody, PlanYearParams, ReopenBody, YearApproval } from './schemas.js';

const TAG = 'Approvals';

const ApprovalTombstone = tombstoneOf('YearApproval', { planId: Uuid, year: Year.nullable() });

const Reopened = z
  .object({ planId: Uuid, year: Year, reason: z.string(), reopenedBy: z.string().nullable() })
  .meta({ id: 'YearReopened' });

export function approvalRoutes(app: FastifyInstance, db: Db) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  const service = approvalService({ db });

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
    handler: async (request, reply) => {
      const { id } = request.params;
      return planYearList(
        request,
        reply,
        db,
        {
          planId: id,
          list: approvalList(id),
          table: yearApprovals,
          entityType: 'year_approval',
          planColumn: yearApprovals.planId,
          toDto: toApprovalDto,
        },
        request.query,
      );
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
        "and indicators cannot be deleted nor an indicator's valueType/betterWhen changed. Audited.",
      params: PlanYearParams,
      body: ApproveBody,
      response: { 201: YearApproval, ...errorResponses(400, 401, 403, 404, 409, 415) },
    },
    handler: async (request, reply) => {
      const created = await service.approve(actorOf(request), request.params.id, request.params.year, request.body);
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
    handler: async (request) =>
      service.reopen(actorOf(request), request.params.id, request.params.year, request.body.reason),
  });
}
