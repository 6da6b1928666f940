/**
 * /plans/{id}/reports/{year}/signature: who signs the year's report (position and name, localized)
 * and an optional closing remark. Data of the year's report like the analytical note: PUT creates or
 * replaces, every change is audited, and an approved year refuses changes (409) until an admin reopens it.
 */
import { actorOf } from '../http/actor.js';
import { signatureService } from './signature-service.js';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { organizationOf } from '../db/ownership.js';
import { access } from '../http/access.js';
import { answerVersioned, ifMatchOf, setEtag } from '../http/etag.js';
import { errorResponses } from '../http/responses.js';
import { NoteParams } from '../notes/schemas.js';
import { toSignatureDto } from './signature.js';
import { ReportSignature, ReportSignaturePut } from './signature-schemas.js';

const TAG = 'Reports';
const PATH = '/plans/:id/reports/:year/signature';

export function reportSignatureRoutes(app: FastifyInstance, db: Db) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const service = signatureService({ db });
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
    handler: async (request, reply) =>
      answerVersioned(request, reply, await service.get(request.params.id, request.params.year), toSignatureDto),
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
      const stored = await service.put(actorOf(request), request.params.id, request.params.year, request.body, ifMatchOf(request));
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
      await service.remove(actorOf(request), request.params.id, request.params.year, ifMatchOf(request));
      return reply.code(204).send(null);
    },
  });
}
