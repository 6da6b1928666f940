/**
 * Spreadsheet import for analysts (POST /plans/{id}/import) and the empty layout to fill in
 * (GET /plans/{id}/template.xlsx). See parse.ts for the layout and apply.ts for matching rules.
 */
import multipart from '@fastify/multipart';
import { asc, eq, inArray } from 'drizzle-orm';
import { loadExcel } from '../shared/lazy.js';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { organizationOf } from '../db/ownership.js';
import { directions, goals, indicators, plans } from '../db/schema.js';
import { access } from '../http/access.js';
import { actorOf } from '../http/actor.js';
import { badRequest, notFound } from '../http/problem.js';
import { errorResponses } from '../http/responses.js';
import { allowedYears } from '../measurements/rules.js';
import { Lang } from '../shared/lang.js';
import { resolveText } from '../shared/lang.js';
import { IdParams } from '../shared/schemas.js';
import { applyImport, planImport } from './apply.js';
import { ImportReport } from './schemas.js';
import { assertYearOpen } from '../approvals/repository.js';
import type { ImportLimits } from './parse.js';
import { XLSX_TYPE, parseLayout, readUpload } from './parse.js';
import { IMPORT_FORM_LIMITS, IMPORT_MAX_BYTES, receiveUpload } from './upload.js';

const TAG = 'Import';

const ImportQuery = z.object({
  year: z.coerce
    .number()
    .int()
    .min(1900)
    .max(2200)
    .describe('The reporting year whose plan and fact values the file carries (required).'),
  commit: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe(
      'false (default): preview only. true: apply everything in one transaction, or nothing when the preview has errors.',
    ),
  lang: Lang.default('kk').describe(
    "Language of the file's text: titles of new rows and notes are stored under it (default kk).",
  ),
});

const IMPORT_DESCRIPTION = `Upload a spreadsheet laid out like section 2 of the official annual report:
columns indicator | information source | unit | plan | fact | note (a header row, or the numbered row 1..6),
direction heading rows ("1-стратегиялық бағыт. ...", "Стратегическое направление 1. ...") and goal heading rows
("1.1-мақсат. ...", "Цель 1.1. ..."). Values are read as real reports write them: decimal commas ("6,3"),
"(жоспар)"/"(факт)" suffixes, "-" for a missing value, stray HTML tags; rows carrying only a note continue the
previous indicator's note; a row with text in the first column only is an indicator group sub-heading.

Body: the file itself as ${XLSX_TYPE} or text/csv (separator "," ";" or tab, UTF-8), or multipart/form-data with a
field named "file"; at most 10 MB (413 beyond). The file is read as a stream, with limits checked as it is read: an
.xlsx whose parts unzip to more than the server's IMPORT_MAX_UNCOMPRESSED_BYTES (default 64 MiB; a CSV: its size)
answers 413, a sheet with more than IMPORT_MAX_ROWS rows with values (default 20,000) answers 400, each naming the
limit. A cell with a numeric entity that names no character (\`&#99999999;\`, \`&#x110000;\`) answers 400 naming the cell.

Always a preview first: without ?commit=true nothing is stored and the answer lists what matched (by code or name),
what would be created, which plan/fact values of ?year would change, and every problem with its row number.
With ?commit=true everything is applied in one audited transaction, or nothing: any error in the preview answers 400
with the problems in \`errors\`; an approved year answers 409.

Matching and new rows: directions and goals by code, then title; indicators by a leading code in the name cell
("1.1.3 Name", as the template writes them), then by name (letters and digits, any language). Unknown directions
and goals are created from their headings; new indicators get goal code + running number. valueType comes from the
unit (a place in a rating is a rank, "%" a percent, else a number); betterWhen is never inferred for non-ranks: a new
non-rank indicator needs column 7 "higher"/"lower" (жоғары/төмен, больше/меньше), or the row is an error. Ranks are
always lower-is-better. Stored indicators keep their definitions; only the year's plan, fact and note change.`;

export function importRoutes(app: FastifyInstance, db: Db, limits: ImportLimits) {
  const byPlan = access.editor((req) => organizationOf.plan(db, (req.params as { id: string }).id));

  app.register(async (scope) => {
    const asBuffer = { parseAs: 'buffer' as const, bodyLimit: IMPORT_MAX_BYTES };
    scope.addContentTypeParser([XLSX_TYPE, 'text/csv'], asBuffer, (_req, body, done) => done(null, body));
    // Forms are read in the handler (receiveUpload), as a stream bounded by these limits.
    await scope.register(multipart, { limits: IMPORT_FORM_LIMITS });
    const r = scope.withTypeProvider<ZodTypeProvider>();
    r.post('/plans/:id/import', {
      bodyLimit: IMPORT_MAX_BYTES,
      config: { access: byPlan },
      schema: {
        tags: [TAG],
        operationId: 'importPlanSpreadsheet',
        summary: 'Import plan and fact values from a spreadsheet (preview, then commit)',
        description: IMPORT_DESCRIPTION,
        params: IdParams,
        querystring: ImportQuery,
        consumes: [XLSX_TYPE, 'text/csv', 'multipart/form-data'],
        body: z.any().meta({
          type: 'string',
          format: 'binary',
          maxLength: IMPORT_MAX_BYTES,
          description:
            'The spreadsheet: the .xlsx or .csv file itself, or a multipart/form-data form whose field "file" holds it (10 MiB at most).',
        }),
        response: { 200: ImportReport, ...errorResponses(400, 401, 403, 404, 409, 413, 415) },
      },
      handler: async (request) => {
        const { id } = request.params;
        const { year, commit, lang } = request.query;
        const rows = await readUpload(await receiveUpload(request), limits);
        const sheet = await parseLayout(rows);
        const plan = (await db.select().from(plans).where(eq(plans.id, id)).limit(1))[0];
        if (!plan) throw notFound('plan', id);
        const range = allowedYears(plan);
        if (year < range.from || year > range.to) {
          throw badRequest(`The plan covers ${range.from}..${range.to} (history included).`, [
            { path: 'query.year', message: `must lie in ${range.from}..${range.to}` },
          ]);
        }
        if (!commit) return (await planImport(db, id, year, lang, sheet)).report;
        return db.transaction(async (tx) => {
          // Share lock on the plan: an approval of the year (update lock) waits for this import.
          await tx.select({ id: plans.id }).from(plans).where(eq(plans.id, id)).for('share');
          const planned = await planImport(tx, id, year, lang, sheet);
          if (planned.writes.length > 0) await assertYearOpen(tx, id, year);
          const errors = planned.report.problems.filter((p) => p.severity === 'error');
          if (errors.length > 0) {
            throw badRequest(
              `The file has ${errors.length} problem(s); nothing was imported. Preview without ?commit=true to see every match and problem.`,
              errors.map((p) => ({
                path: p.row === null ? 'body' : `body.rows[${p.row}]${p.column ? `.${p.column}` : ''}`,
                message: p.message,
              })),
            );
          }
          await applyImport(tx, actorOf(request), id, year, lang, planned);
          return { ...planned.report, committed: true };
        });
      },
    });
  });

  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get('/plans/:id/template.xlsx', {
    config: { access: access.viewer },
    schema: {
      tags: [TAG],
      operationId: 'getPlanImportTemplate',
      summary: 'The empty import layout of a plan (.xlsx)',
      description:
        "Header row, the numbered column row 1..6, then the plan's directions and goals as heading rows and its indicators as rows " +
        '("code name", information source, unit) with plan, fact and note empty, ready for POST /plans/{id}/import. Column 7 ' +
        '(betterWhen) is only needed for new non-rank indicators.',
      params: IdParams,
      querystring: z.object({ lang: Lang.default('kk').describe('Language of headings and names (default kk).') }),
      response: {
        200: {
          description: 'The template workbook',
          content: { [XLSX_TYPE]: { schema: z.string().describe('binary') } },
        },
        ...errorResponses(400, 401, 403, 404),
      },
    },
    handler: async (request, reply) => {
      const { id } = request.params;
      const lang = request.query.lang;
      const plan = (await db.select().from(plans).where(eq(plans.id, id)).limit(1))[0];
      if (!plan) throw notFound('plan', id);
      const dirRows = await db
        .select()
        .from(directions)
        .where(eq(directions.planId, id))
        .orderBy(asc(directions.position), asc(directions.code));
      const goalRows = dirRows.length
        ? await db
            .select()
            .from(goals)
            .where(
              inArray(
                goals.directionId,
                dirRows.map((d) => d.id),
              ),
            )
            .orderBy(asc(goals.position), asc(goals.code))
        : [];
      const indRows = goalRows.length
        ? await db
            .select()
            .from(indicators)
            .where(
              inArray(
                indicators.goalId,
                goalRows.map((g) => g.id),
              ),
            )
            .orderBy(asc(indicators.position), asc(indicators.code))
        : [];
      const t = (text: Parameters<typeof resolveText>[0]) => resolveText(text, lang) ?? '';
      const headers = {
        kk: ['Нысаналы индикатордың атауы', 'Ақпарат көзі', 'Өлш. бірл.', 'Жоспар', 'Факт', 'Ескертпе', 'betterWhen'],
        ru: [
          'Наименование целевого индикатора',
          'Источник информации',
          'Ед. изм.',
          'План',
          'Факт',
          'Примечание',
          'betterWhen',
        ],
        en: ['Target indicator', 'Information source', 'Unit', 'Plan', 'Fact', 'Note', 'betterWhen'],
      }[lang];
      const directionHeading = (code: string, title: string) =>
        lang === 'kk'
          ? `${code}-стратегиялық бағыт. ${title}`
          : lang === 'ru'
            ? `Стратегическое направление ${code}. ${title}`
            : `Strategic direction ${code}. ${title}`;
      const goalHeading = (code: string, title: string) =>
        lang === 'kk'
          ? `${code}-мақсат. ${title}`
          : lang === 'ru'
            ? `Цель ${code}. ${title}`
            : `Goal ${code}. ${title}`;
      const ExcelJS = await loadExcel();
      const workbook = new ExcelJS.Workbook();
      const sheet = workbook.addWorksheet('import');
      sheet.columns = [
        { width: 60 },
        { width: 28 },
        { width: 18 },
        { width: 10 },
        { width: 10 },
        { width: 50 },
        { width: 12 },
      ];
      sheet.addRow(headers).font = { bold: true };
      sheet.addRow([1, 2, 3, 4, 5, 6]);
      for (const d of dirRows) {
        sheet.addRow([directionHeading(d.code, t(d.title))]).font = { bold: true };
        for (const g of goalRows.filter((x) => x.directionId === d.id)) {
          sheet.addRow([goalHeading(g.code, t(g.title))]).font = { italic: true };
          let group: string | undefined;
          for (const i of indRows.filter((x) => x.goalId === g.id)) {
            const groupText = i.group ? t(i.group) : undefined;
            if (groupText && groupText !== group) sheet.addRow([groupText]);
            group = groupText;
            sheet.addRow([`${i.code} ${t(i.name)}`, t(i.source), t(i.unit), null, null, null]);
          }
        }
      }
      const bytes = Buffer.from(await workbook.xlsx.writeBuffer());
      return reply
        .type(XLSX_TYPE)
        .header(
          'content-disposition',
          `attachment; filename="plan-${plan.code.replace(/[^\w.-]/g, '_')}-template.xlsx"`,
        )
        .send(bytes as unknown as string);
    },
  });
}
