/**
 * GET /plans/{id}/reports/{year}: the annual implementation report in JSON, DOCX, XLSX, CSV
 * (section 2) or printable HTML, in Kazakh, Russian or English. Every format is rendered from the
 * same model (model.ts), so they cannot disagree.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { access } from '../http/access.js';
import { ifNoneMatchHits } from '../http/conditional.js';
import { badRequest, notFound } from '../http/problem.js';
import { errorResponses } from '../http/responses.js';
import { requestedLang } from '../shared/lang.js';
import { Problem } from '../shared/schemas.js';
import { reportJson } from './json.js';
import { buildReportModel } from './model.js';
import { chooseFormat } from './negotiate.js';
import { findPlanWithOrganization, loadReportData } from './queries.js';
import { renderCsv } from './render-csv.js';
import { renderHtml } from './render-html.js';
import type { ReportFormat } from './schemas.js';
import { MEDIA_TYPES, Report, ReportParams, ReportQuery } from './schemas.js';
import { reportYearProblem } from './years.js';

const TAG = 'Reports';
// Part of the ETag: a deploy that changes how documents look must not be answered 304.
const RENDERER_VERSION = '2';

const binary = (description: string) => z.string().meta({ format: 'binary', description });

// The page has no scripts and loads nothing: forbid everything but its inline style.
const HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** An ASCII filename, plus RFC 6266/5987 filename* keeping a plan code in any script ("СП-1"). */
function contentDisposition(disposition: 'attachment' | 'inline', planCode: string, year: number, lang: string, format: ReportFormat) {
  const name = (code: string) => `nysana-report-${code}-${year}-${lang}.${format}`;
  const ascii = name(planCode.replace(/[^A-Za-z0-9._-]+/g, '_'));
  const unicode = name(planCode.replace(/[^\p{L}\p{N}._-]+/gu, '_'));
  const extended = unicode === ascii ? '' : `; filename*=UTF-8''${encodeURIComponent(unicode)}`;
  return `${disposition}; filename="${ascii}"${extended}`;
}

export function reportRoutes(app: FastifyInstance, db: Db) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get('/plans/:id/reports/:year', {
    config: { access: access.viewer },
    schema: {
      tags: [TAG],
      operationId: 'getPlanReport',
      summary: 'The annual implementation report of a plan (JSON, DOCX, XLSX, CSV or HTML)',
      description:
        'The report every state body produces each year: 1. risk management (the year\'s risks per goal), 2. achievement ' +
        'of goals and target indicators (plan, fact and the derived verdict with the analyst\'s note), 3. the analytical note. ' +
        'The format is chosen by ?format, else by Accept: application/json (default), .docx and .xlsx laid out like the ' +
        'official tables (heading rows for directions and goals, the numbered column row, a running header, page N of M ' +
        'and the signature block), text/csv (section 2 as data for BI tools, not the report: one row per indicator; ' +
        '?sep=; gives a decimal comma) or printable text/html. ?lang (else Accept-Language, else kk) picks the language of text, labels and ' +
        'verdict words; text missing in it falls back (kk, ru, en) and is marked: JSON lists it in `fallbacks` (JSON ' +
        'Pointers) with `fallback: true`, documents prefix it with the language used, e.g. "[ru] ", and explain the mark ' +
        'in a closing line. The year must be one of the plan years. The weak ETag changes when the content does.',
      params: ReportParams,
      querystring: ReportQuery,
      response: {
        200: {
          description: 'The report in the negotiated format.',
          content: {
            [MEDIA_TYPES.json]: { schema: Report },
            [MEDIA_TYPES.docx]: { schema: binary('Word document (A4 landscape).') },
            [MEDIA_TYPES.xlsx]: { schema: binary('Excel workbook, one sheet per section.') },
            [MEDIA_TYPES.csv]: { schema: z.string().describe('Section 2 as data (not the report), UTF-8 with BOM, RFC 4180.') },
            [MEDIA_TYPES.html]: { schema: z.string().describe('Self-contained printable page.') },
          },
        },
        304: z.null().describe('Not modified (If-None-Match names the current ETag).'),
        ...errorResponses(400, 401, 403, 404),
        406: Problem.describe('Accept names no format the report comes in; see the list in detail.'),
      },
    },
    handler: async (request, reply) => {
      const { id, year } = request.params;
      const format = chooseFormat(request.query.format, request.headers.accept);
      const lang = requestedLang(request.query.lang, request.headers['accept-language']) ?? 'kk';
      const found = await findPlanWithOrganization(db, id);
      if (!found) throw notFound('plan', id);
      const problem = reportYearProblem(found.plan, year, 'params.year');
      if (problem) throw badRequest('The plan has no report for that year.', [problem]);

      const model = buildReportModel(found, await loadReportData(db, id, year), year, lang, { compare: request.query.compare ?? null });
      const json = reportJson(model);
      const etag = `W/"${createHash('sha256').update(`${RENDERER_VERSION}/${format}/${request.query.compare ?? ''}/${format === 'csv' ? (request.query.sep ?? ',') : ''}/`).update(JSON.stringify(json)).digest('base64url').slice(0, 27)}"`;
      reply.header('etag', etag).header('vary', 'Accept, Accept-Language').header('content-language', lang);
      if (ifNoneMatchHits(request, etag)) return reply.code(304).send(null);

      const attachment = (disposition: 'attachment' | 'inline') =>
        reply.header('content-disposition', contentDisposition(disposition, found.plan.code, year, lang, format));
      switch (format) {
        case 'json':
          return reply.type('application/json; charset=utf-8').send(json);
        case 'docx':
          return attachment('attachment').type(MEDIA_TYPES.docx).send((await (await import('./render-docx.js')).renderDocx(model)) as unknown as string); // a Buffer: sent as is, never serialized
        case 'xlsx':
          return attachment('attachment').type(MEDIA_TYPES.xlsx).send((await (await import('./render-xlsx.js')).renderXlsx(model)) as unknown as string);
        case 'csv':
          return attachment('attachment')
            .type('text/csv; charset=utf-8')
            .serializer((s: unknown) => s as string)
            .send(renderCsv(model, request.query.sep));
        case 'html':
          return attachment('inline')
            .header('content-security-policy', HTML_CSP)
            .header('x-content-type-options', 'nosniff')
            .type('text/html; charset=utf-8')
            .serializer((s: unknown) => s as string)
            .send(renderHtml(model));
      }
    },
  });
}
