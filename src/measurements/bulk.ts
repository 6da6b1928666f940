/**
 * POST /measurements/bulk: up to 10,000 measurements in one request, for machines.
 *
 * All-or-nothing: every row is checked (schema, indicator resolution, year range, rank rules,
 * approved years, editor scope) before anything is written; one bad row rejects the batch with
 * every bad row listed. Set-based: one query resolves ids and codes, one locks the indicators and
 * plans, one reads (and locks) the stored measurements, then chunked multi-row upserts and audit
 * inserts. Rows equal to what is stored are left alone (no version bump, no audit row), so
 * replaying a batch changes nothing.
 */
import { isDeepStrictEqual } from 'node:util';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import type { Tx } from '../db/hierarchy.js';
import { auditLog, measurements } from '../db/schema.js';
import { access } from '../http/access.js';
import type { FieldError } from '../http/problem.js';
import { HttpProblem, badRequest } from '../http/problem.js';
import { errorResponses } from '../http/responses.js';
import { decimalToNumber, numberToDecimal } from '../shared/decimal.js';
import { DecimalValue, LocalizedText, Uuid, Year } from '../shared/schemas.js';
import { toMeasurementDto } from './repository.js';
import { allowedYears, measurementProblems } from './rules.js';

export const BULK_MAX_ROWS = 10_000;
const CHUNK = 5_000;

const codeField = z.string().trim().min(1).max(64);

export const BulkMeasurementRow = z
  .strictObject({
    indicatorId: Uuid.optional().describe('The indicator; or name it by organizationCode + planCode + indicatorCode.'),
    organizationCode: codeField.optional(),
    planCode: codeField.optional().describe('Plan codes are unique within their organization.'),
    indicatorCode: codeField.optional().describe('As printed in the plan, e.g. "1.1.3".'),
    year: Year,
    plan: DecimalValue.nullable().describe('Target for the year; null when none.'),
    fact: DecimalValue.nullable().describe('Actual value; null until known.'),
    ratingSize: z.number().int().min(1).max(100_000).nullable().default(null),
    score: DecimalValue.nullable().default(null),
    note: LocalizedText.nullable().default(null),
  })
  .superRefine((row, ctx) => {
    const codes = [row.organizationCode, row.planCode, row.indicatorCode].filter((c) => c !== undefined).length;
    if (row.indicatorId !== undefined && codes > 0) {
      ctx.addIssue({ code: 'custom', path: ['indicatorId'], message: 'name the indicator by indicatorId or by codes, not both' });
    } else if (row.indicatorId === undefined && codes < 3) {
      ctx.addIssue({
        code: 'custom',
        path: ['indicatorId'],
        message: 'name the indicator by indicatorId, or by organizationCode + planCode + indicatorCode',
      });
    }
  })
  .meta({
    id: 'BulkMeasurementRow',
    description: 'One measurement, replacing what is stored for that indicator and year (ratingSize, score, note default to null).',
  });
type BulkRow = z.output<typeof BulkMeasurementRow>;

export const BulkMeasurementBody = z.strictObject({ rows: z.array(BulkMeasurementRow).min(1).max(BULK_MAX_ROWS) });

export const BulkMeasurementQuery = z.object({
  dryRun: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe('Validate and count what would change, without writing.'),
  details: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe('Also answer the outcome of every row (`rows`), in request order.'),
});

const Outcome = z.enum(['created', 'updated', 'unchanged']);

export const BulkMeasurementResult = z
  .object({
    dryRun: z.boolean(),
    created: z.number().int().describe('Rows that create a measurement.'),
    updated: z.number().int().describe('Rows that change a stored measurement.'),
    unchanged: z.number().int().describe('Rows equal to what is stored (not rewritten: no new version, no audit row).'),
    rows: z
      .array(z.object({ index: z.number().int(), indicatorId: Uuid, year: Year, outcome: Outcome }))
      .optional()
      .describe('With ?details=true: each row with its resolved indicator and outcome.'),
  })
  .meta({ id: 'BulkMeasurementResult' });

interface Resolved {
  i: number;
  indicatorId: string | null;
  matches: number;
}

interface Target {
  indicatorId: string;
  valueType: 'percent' | 'number' | 'rank';
  planId: string;
  organizationId: string;
  startYear: number;
  endYear: number;
}

type Executed<T> = { rows: T[] };

async function resolveIndicators(tx: Tx, rows: BulkRow[]): Promise<Resolved[]> {
  const input = rows.map((row, i) => ({
    i,
    id: row.indicatorId ?? null,
    org: row.organizationCode ?? null,
    plan: row.planCode ?? null,
    code: row.indicatorCode ?? null,
  }));
  // Codes are resolved per distinct (organization, plan): one hash join, not a lookup per row.
  const result = (await tx.execute(sql`
    with input as (
      select * from jsonb_to_recordset(${JSON.stringify(input)}::jsonb) as r(i int, id uuid, org text, plan text, code text)
    ),
    named_plans as (select distinct org, plan from input where id is null),
    by_code as (
      select np.org, np.plan, ind.code, min(ind.id::text) as id, count(*)::int as n
      from named_plans np
      join organizations o on o.code = np.org
      join plans p on p.organization_id = o.id and p.code = np.plan
      join directions d on d.plan_id = p.id
      join goals g on g.direction_id = d.id
      join indicators ind on ind.goal_id = g.id
      group by np.org, np.plan, ind.code
    )
    select input.i, coalesce(ind.id::text, case when bc.n = 1 then bc.id end) as "indicatorId", coalesce(bc.n, 0)::int as matches
    from input
    left join indicators ind on ind.id = input.id
    left join by_code bc on input.id is null and bc.org = input.org and bc.plan = input.plan and bc.code = input.code
    order by input.i
  `)) as unknown as Executed<Resolved>;
  return result.rows.map((r) => ({ i: Number(r.i), indicatorId: r.indicatorId, matches: Number(r.matches) }));
}

/** Share-locks the indicators and their plans (against cascade deletes and approvals, as PUT does). */
async function lockTargets(tx: Tx, indicatorIds: string[]): Promise<Map<string, Target>> {
  const result = (await tx.execute(sql`
    select ind.id as "indicatorId", ind.value_type as "valueType", p.id as "planId", p.organization_id as "organizationId",
      p.start_year as "startYear", p.end_year as "endYear"
    from indicators ind
    join goals g on g.id = ind.goal_id
    join directions d on d.id = g.direction_id
    join plans p on p.id = d.plan_id
    where ind.id in (select jsonb_array_elements_text(${JSON.stringify(indicatorIds)}::jsonb)::uuid)
    order by ind.id
    for share of ind, p
  `)) as unknown as Executed<Target>;
  return new Map(result.rows.map((t) => [t.indicatorId, { ...t, startYear: Number(t.startYear), endYear: Number(t.endYear) }]));
}

async function approvedYears(tx: Tx, planIds: string[]): Promise<Set<string>> {
  if (planIds.length === 0) return new Set();
  const result = (await tx.execute(sql`
    select plan_id as "planId", year from year_approvals
    where plan_id in (select jsonb_array_elements_text(${JSON.stringify(planIds)}::jsonb)::uuid)
  `)) as unknown as Executed<{ planId: string; year: number }>;
  return new Set(result.rows.map((r) => `${r.planId}/${Number(r.year)}`));
}

async function storedMeasurements(tx: Tx, pairs: { indicator_id: string; year: number }[]) {
  const rows = await tx
    .select()
    .from(measurements)
    .where(
      sql`(${measurements.indicatorId}, ${measurements.year}) in (
        select indicator_id, year from jsonb_to_recordset(${JSON.stringify(pairs)}::jsonb) as r(indicator_id uuid, year int))`,
    )
    .orderBy(measurements.id)
    .for('update');
  return new Map(rows.map((m) => [`${m.indicatorId}/${m.year}`, m]));
}

const sameValues = (row: BulkRow, m: typeof measurements.$inferSelect) =>
  row.plan === decimalToNumber(m.plan) &&
  row.fact === decimalToNumber(m.fact) &&
  row.ratingSize === m.ratingSize &&
  row.score === decimalToNumber(m.score) &&
  isDeepStrictEqual(row.note ?? null, m.note ?? null);

export function bulkMeasurementRoutes(app: FastifyInstance, db: Db) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.post('/measurements/bulk', {
    // Editors pass the route check here; every row is then checked against the caller's
    // organization in the handler (a batch touching another organization answers 403).
    config: { access: access.editor(async (req) => req.principal?.organizationId ?? undefined) },
    bodyLimit: 8 * 1024 * 1024,
    schema: {
      tags: ['Measurements'],
      operationId: 'bulkPutMeasurements',
      summary: 'Create or replace up to 10,000 measurements in one all-or-nothing batch',
      description:
        'Each row names its indicator by `indicatorId` or by `organizationCode` + `planCode` + `indicatorCode`, and replaces the ' +
        "measurement of that year with the same rules as PUT /indicators/{id}/measurements/{year} (year range, rank rules, " +
        'approved years locked). Nothing is written unless every row is valid: a 400 lists every bad row (`errors[].path` like ' +
        '`body.rows.17.fact`); unknown or ambiguous codes and ids, duplicates of an earlier row (same indicator and year) and ' +
        'rows of approved years are row errors. An editor may write only indicators of its own organization: a batch with any ' +
        'other row answers 403, listing those rows (indicators are readable by every caller, so this reveals nothing). ' +
        'Rows equal to what is stored are not rewritten (no new version, no audit row), so sending the same batch twice changes ' +
        'nothing the second time. ?dryRun=true validates and counts without writing; ?details=true adds every row\'s outcome. ' +
        'Body limit 8 MiB.',
      querystring: BulkMeasurementQuery,
      body: BulkMeasurementBody,
      response: { 200: BulkMeasurementResult, ...errorResponses(400, 401, 403, 409, 413, 415) },
    },
    handler: async (request) => {
      const rows = request.body.rows;
      const { dryRun, details } = request.query;
      const principal = request.principal!;
      return db.transaction(async (tx) => {
        const resolved = await resolveIndicators(tx, rows);
        const ids = [...new Set(resolved.map((r) => r.indicatorId).filter((id): id is string => id !== null))].sort();
        const targets = await lockTargets(tx, ids);

        if (principal.role === 'editor') {
          const forbidden: FieldError[] = [];
          for (const res of resolved) {
            const t = res.indicatorId ? targets.get(res.indicatorId) : undefined;
            if (t && t.organizationId !== principal.organizationId) {
              forbidden.push({ path: `body.rows.${res.i}`, message: 'the indicator belongs to another organization' });
            }
          }
          if (forbidden.length > 0) {
            throw new HttpProblem(403, `${forbidden.length} row(s) name indicators of another organization; nothing was written.`, forbidden);
          }
        }

        const planIds = [...new Set([...targets.values()].map((t) => t.planId))];
        const [approved, stored] = await Promise.all([
          approvedYears(tx, planIds),
          storedMeasurements(
            tx,
            resolved.filter((r) => r.indicatorId && targets.has(r.indicatorId)).map((r) => ({ indicator_id: r.indicatorId!, year: rows[r.i]!.year })),
          ),
        ]);
        const errors: FieldError[] = [];
        const seen = new Map<string, number>();
        const changes: { row: BulkRow; target: Target; before: typeof measurements.$inferSelect | undefined }[] = [];
        let unchanged = 0;
        const outcomes: { index: number; indicatorId: string; year: number; outcome: z.infer<typeof Outcome> }[] = [];
        for (const res of resolved) {
          const row = rows[res.i]!;
          const at = `body.rows.${res.i}`;
          const target = res.indicatorId ? targets.get(res.indicatorId) : undefined;
          if (!target) {
            if (row.indicatorId !== undefined) errors.push({ path: `${at}.indicatorId`, message: `unknown indicator ${row.indicatorId}` });
            else if (res.matches > 1) {
              errors.push({ path: `${at}.indicatorCode`, message: `indicator code ${row.indicatorCode} is ambiguous in plan ${row.planCode}; use indicatorId` });
            } else {
              errors.push({
                path: `${at}.indicatorCode`,
                message: `no indicator ${row.indicatorCode} in plan ${row.planCode} of organization ${row.organizationCode}`,
              });
            }
            continue;
          }
          const rowErrors: FieldError[] = [];
          const key = `${target.indicatorId}/${row.year}`;
          const earlier = seen.get(key);
          if (earlier !== undefined) rowErrors.push({ path: at, message: `the same indicator and year as row ${earlier}` });
          else seen.set(key, res.i);
          const years = allowedYears(target);
          if (row.year < years.from || row.year > years.to) {
            rowErrors.push({ path: `${at}.year`, message: `the year must lie in ${years.from}..${years.to} for this plan` });
          } else if (approved.has(`${target.planId}/${row.year}`)) {
            rowErrors.push({ path: `${at}.year`, message: `year ${row.year} of this plan is approved; an admin must reopen it first` });
          }
          rowErrors.push(...measurementProblems(target.valueType, row, at));
          if (rowErrors.length > 0) {
            errors.push(...rowErrors);
            continue;
          }
          const before = stored.get(key);
          const outcome = !before ? 'created' : sameValues(row, before) ? 'unchanged' : 'updated';
          if (details) outcomes.push({ index: res.i, indicatorId: target.indicatorId, year: row.year, outcome });
          if (outcome === 'unchanged') unchanged++;
          else changes.push({ row, target, before });
        }
        if (errors.length > 0) {
          const bad = new Set(errors.map((e) => e.path.split('.').slice(0, 3).join('.'))).size;
          throw badRequest(`${bad} of ${rows.length} row(s) are not valid; nothing was written.`, errors);
        }

        const created = changes.filter((c) => !c.before).length;
        const result = { dryRun, created, updated: changes.length - created, unchanged, ...(details ? { rows: outcomes } : {}) };
        if (dryRun || changes.length === 0) return result;

        // One key order for every writer, so two overlapping batches wait for each other instead of deadlocking.
        changes.sort((a, b) =>
          a.target.indicatorId === b.target.indicatorId ? a.row.year - b.row.year : a.target.indicatorId < b.target.indicatorId ? -1 : 1,
        );
        for (let start = 0; start < changes.length; start += CHUNK) {
          await writeChunk(tx, changes.slice(start, start + CHUNK), { actorType: principal.kind, actorId: principal.id, requestId: request.id });
        }
        return result;
      });
    },
  });
}

const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

/**
 * One statement per chunk: the rows travel as one jsonb parameter, the upsert and the audit rows
 * (one per written measurement, with the API's DTO before and after) are written set-based.
 */
async function writeChunk(
  tx: Tx,
  chunk: { row: BulkRow; target: Target; before: typeof measurements.$inferSelect | undefined }[],
  actor: { actorType: string; actorId: string; requestId: string },
) {
  const input = chunk.map(({ row, target, before }) => ({
    indicator_id: target.indicatorId,
    year: row.year,
    plan: row.plan,
    fact: row.fact,
    rating_size: row.ratingSize,
    score: row.score,
    note: row.note,
    before: before ? toMeasurementDto(before) : null,
  }));
  await tx.execute(sql`
    with input as (
      select * from jsonb_to_recordset(${JSON.stringify(input)}::jsonb)
        as r(indicator_id uuid, year int, plan numeric, fact numeric, rating_size int, score numeric, note jsonb, before jsonb)
    ),
    up as (
      insert into ${measurements} as m (indicator_id, year, plan, fact, rating_size, score, note)
      select indicator_id, year, plan, fact, rating_size, score, note from input
      on conflict (indicator_id, year) do update set plan = excluded.plan, fact = excluded.fact, rating_size = excluded.rating_size,
        score = excluded.score, note = excluded.note, version = m.version + 1, updated_at = now()
      returning m.*, (m.xmax = 0) as created
    )
    insert into ${auditLog} (actor_type, actor_id, entity_type, entity_id, entity_key, action, before, after, request_id)
    select ${actor.actorType}, ${actor.actorId}, 'measurement', up.id::text, up.indicator_id::text || '/' || up.year,
      case when up.created then 'create' else 'update' end,
      case when up.created then null else input.before end,
      jsonb_build_object('id', up.id, 'indicatorId', up.indicator_id, 'year', up.year, 'plan', up.plan, 'fact', up.fact,
        'ratingSize', up.rating_size, 'score', up.score, 'note', up.note, 'version', up.version,
        'createdAt', to_char(up.created_at at time zone 'UTC', ${sql.raw(ISO)}), 'updatedAt', to_char(up.updated_at at time zone 'UTC', ${sql.raw(ISO)})),
      ${actor.requestId}
    from up join input on input.indicator_id = up.indicator_id and input.year = up.year
  `);
}
