/**
 * /plans/{id}/reports/{year}/signature: who signs the year's report (position and name, localized)
 * and an optional closing remark. Data of the year's report like the analytical note: PUT creates or
 * replaces, every change is audited, and an approved year refuses changes (409) until an admin reopens it.
 */
import { actorOf } from '../http/actor.js';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { assertYearOpen } from '../approvals/repository.js';
import { recordAudit } from '../audit/record.js';
import type { Db } from '../db/client.js';
import { organizationOf } from '../db/ownership.js';
import { access } from '../http/access.js';
import { assertIfMatch, notModified, setEtag } from '../http/etag.js';
import { HttpProblem, badRequest, notFound, preconditionFailed } from '../http/problem.js';
import { errorResponses } from '../http/responses.js';
import { planYearsOf } from '../notes/repository.js';
import { NoteParams } from '../notes/schemas.js';
import { deleteSignature, findSignature, toSignatureDto, upsertSignature } from './signature.js';
import { ReportSignature, ReportSignaturePut } from './signature-schemas.js';
import { reportYearProblem } from './years.js';

const TAG = 'Reports';
const PATH = '/plans/:id/reports/:year/signature';
const noSignature = (planId: string, year: number) => new HttpProblem(404, `the report of plan ${planId} for ${year} has no signature block`);
const auditOf = (planId: string, year: number) => ({ entityType: 'reportSignature', entityKey: `${planId}/${year}` });

export function reportSignatureRoutes(app: FastifyInstance, db: Db) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const byPlan = access.editor((req) => organizationOf.plan(db, (req.params as { id: string }).id));

  r.get(PATH, {
    config: { access: access.viewer },
    schema: {
      tags: [TAG],
      operationId: 'getReportSignature',
      summary: 'Get the signature block of a plan\'s report for a year',
      params: NoteParams,
      response: { 200: ReportSignature, 304: z.null().describe('Not modified'), ...errorResponses(400, 401, 403, 404) },
    },
    handler: async (request, reply) => {
      const { id, year } = request.params;
      const [plan, row] = await Promise.all([planYearsOf(db, id), findSignature(db, id, year)]);
      if (!plan) throw notFound('plan', id);
      if (!row) throw noSignature(id, year);
      setEtag(reply, row.version);
      if (notModified(request, row.version)) return reply.code(304).send(null);
      return toSignatureDto(row);
    },
  });

  r.put(PATH, {
    config: { access: byPlan },
    schema: {
      tags: [TAG],
      operationId: 'putReportSignature',
      summary: 'Create or replace the signature block of a plan\'s report for a year',
      description:
        'Printed at the end of the report in every format (DOCX, XLSX, HTML): the position on the left, the name on the ' +
        'right, in the report language (falling back, marked, like other text); the remark above it only in the ' +
        'languages it is given in. The year must be one of the plan years. 201 when created, 200 when replaced. Send ' +
        'If-Match with the ETag to refuse replacing a newer version (412). An approved year answers 409 until an admin reopens it.',
      params: NoteParams,
      body: ReportSignaturePut,
      response: { 200: ReportSignature, 201: ReportSignature, ...errorResponses(400, 401, 403, 404, 409, 412, 413, 415) },
    },
    handler: async (request, reply) => {
      const { id, year } = request.params;
      const stored = await db.transaction(async (tx) => {
        const plan = await planYearsOf(tx, id, true);
        if (!plan) throw notFound('plan', id);
        const problem = reportYearProblem(plan, year, 'params.year');
        if (problem) throw badRequest('The year is outside the plan.', [problem]);
        const current = await findSignature(tx, id, year, true);
        if (request.headers['if-match']) {
          if (!current) throw preconditionFailed(0);
          assertIfMatch(request, current.version);
        }
        await assertYearOpen(tx, id, year);
        const row = await upsertSignature(tx, id, year, request.body);
        await recordAudit(tx, actorOf(request), {
          ...auditOf(id, year),
          entityId: row.id,
          action: current ? 'update' : 'create',
          before: current ? toSignatureDto(current) : null,
          after: toSignatureDto(row),
        });
        return row;
      });
      setEtag(reply, stored.version);
      return reply.code(stored.created ? 201 : 200).send(toSignatureDto(stored));
    },
  });

  r.delete(PATH, {
    config: { access: byPlan },
    schema: {
      tags: [TAG],
      operationId: 'deleteReportSignature',
      summary: 'Delete the signature block of a plan\'s report for a year',
      description: 'An approved year answers 409 until an admin reopens it.',
      params: NoteParams,
      response: { 204: z.null().describe('Deleted'), ...errorResponses(400, 401, 403, 404, 409, 412) },
    },
    handler: async (request, reply) => {
      const { id, year } = request.params;
      await db.transaction(async (tx) => {
        if (!(await planYearsOf(tx, id, true))) throw notFound('plan', id);
        const current = await findSignature(tx, id, year, true);
        if (!current) throw noSignature(id, year);
        assertIfMatch(request, current.version);
        await assertYearOpen(tx, id, year);
        await deleteSignature(tx, id, year);
        await recordAudit(tx, actorOf(request), { ...auditOf(id, year), entityId: current.id, action: 'delete', before: toSignatureDto(current), after: null });
      });
      return reply.code(204).send(null);
    },
  });
}
