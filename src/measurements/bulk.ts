/**
 * The batch behind POST /measurements/bulk: up to 10,000 measurements in one request, for machines.
 *
 * All-or-nothing: every row is checked (schema, indicator resolution, year range, rank rules,
 * approved years, editor scope) before anything is written; one bad row rejects the batch with
 * every bad row listed. Set-based, two statements whatever the batch size: one resolves ids and
 * codes and share-locks the indicators and plans; after the rows are checked against them, one
 * finds approved years, locks and compares the stored measurements, inserts, updates and records
 * one audit row per written measurement through the audit recorder (src/audit/record.ts,
 * auditInsertSelect), building the audit's documents itself. Rows equal to what is stored are left
 * alone (no version bump, no audit row), so replaying a batch changes nothing.
 */
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { auditInsertSelect } from '../audit/record.js';
import type { Tx } from '../db/tx.js';
import { joinDownSql, joinUpSql } from '../db/plan-tree.js';
import { indicators, measurements, plans } from '../db/schema.js';
import type { Actor } from '../shared/actor.js';
import type { FieldError } from '../shared/errors.js';
import { ForbiddenError, invalid as badRequest } from '../shared/errors.js';
import { DecimalValue, EXACT_DECIMAL_NOTE, LocalizedText, Uuid, Year } from '../shared/schemas.js';
import { uuidv7 } from '../shared/uuidv7.js';
import { isoTextSql, measurementJsonSql } from './repository.js';
import { allowedYears, measurementProblems } from './rules.js';

export const BULK_MAX_ROWS = 10_000;

const codeField = z.string().trim().min(1).max(64);

export const BulkMeasurementRow = z
  .strictObject({
    indicatorId: Uuid.optional().describe('The indicator; or name it by organizationCode + planCode + indicatorCode.'),
    organizationCode: codeField.optional(),
    planCode: codeField.optional().describe('Plan codes are unique within their organization.'),
    indicatorCode: codeField.optional().describe('As printed in the plan, e.g. "1.1.3".'),
    year: Year,
    plan: DecimalValue.nullable().describe('Target for the year; null when none.' + EXACT_DECIMAL_NOTE),
    fact: DecimalValue.nullable().describe('Actual value; null until known.' + EXACT_DECIMAL_NOTE),
    ratingSize: z.number().int().min(1).max(100_000).nullable().default(null),
    score: DecimalValue.nullable().default(null),
    note: LocalizedText.nullable().default(null),
  })
  .superRefine((row, ctx) => {
    const codes = [row.organizationCode, row.planCode, row.indicatorCode].filter((c) => c !== undefined).length;
    if (row.indicatorId !== undefined && codes > 0) {
      ctx.addIssue({
        // Stryker disable next-line StringLiteral: the problem shows each issue's path and message, not its code
        code: 'custom',
        path: ['indicatorId'],
        message: 'name the indicator by indicatorId or by codes, not both',
      });
    } else if (row.indicatorId === undefined && codes < 3) {
      ctx.addIssue({
        // Stryker disable next-line StringLiteral: the problem shows each issue's path and message, not its code
        code: 'custom',
        path: ['indicatorId'],
        message: 'name the indicator by indicatorId, or by organizationCode + planCode + indicatorCode',
      });
    }
  })
  .meta({
    id: 'BulkMeasurementRow',
    description:
      'One measurement, replacing what is stored for that indicator and year (ratingSize, score, note default to null).',
  });
export type BulkRow = z.output<typeof BulkMeasurementRow>;

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
    created: z.number().int().min(0).describe('Rows that create a measurement.'),
    updated: z.number().int().min(0).describe('Rows that change a stored measurement.'),
    unchanged: z
      .number()
      .int()
      .min(0)
      .describe('Rows equal to what is stored (not rewritten: no new version, no audit row).'),
    rows: z
      .array(z.object({ index: z.number().int().min(0), indicatorId: Uuid, year: Year, outcome: Outcome }))
      .optional()
      .describe('With ?details=true: each row with its resolved indicator and outcome.'),
  })
  .meta({ id: 'BulkMeasurementResult' });

/** One request row after statement 1: its indicator (resolved from id or codes) and what it is checked against. */
interface Resolved {
  /** How many indicators the codes named (more than one: ambiguous). */
  matches: number;
  target: Target | undefined;
  /** The row's year of the indicator's plan is approved (locked). */
  approved: boolean;
}

interface Target {
  indicatorId: string;
  valueType: 'percent' | 'number' | 'rank';
  planId: string;
  organizationId: string;
  startYear: number;
  endYear: number;
}

/** A valid row and its indicator. */
interface Valid {
  index: number;
  row: BulkRow;
  target: Target;
}

type Executed<T> = { rows: T[] };

/** Arrays travel as one parameter each (sql.param), not spread into a list of parameters. */
const array = (values: unknown[]) => sql.param(values);

/**
 * A uuid, integer, numeric or boolean array as one array literal ('{a,1.5,NULL}'): its elements need
 * no quoting, so this skips the driver's per-element escaping (two regular expressions each; the
 * driver's parameter serialization was ~6% of the service's CPU profile for 1,000-row batches).
 */
const plainArray = (values: (string | number | boolean | null)[]) =>
  `{${values.map((v) => (v === null ? 'NULL' : String(v))).join(',')}}`;

/**
 * Rows naming their indicator by codes are resolved per distinct (organization, plan): one hash
 * join, not a lookup per row. Answers one row per request row, in request order.
 */
function resolutionByCodes(rows: BulkRow[]) {
  return sql`
    input as (
      select * from unnest(${plainArray(rows.map((r) => r.indicatorId ?? null))}::uuid[], ${array(rows.map((r) => r.organizationCode ?? null))}::text[],
        ${array(rows.map((r) => r.planCode ?? null))}::text[], ${array(rows.map((r) => r.indicatorCode ?? null))}::text[],
        ${plainArray(rows.map((r) => r.year))}::int[])
        with ordinality as r(id, org, plan, code, year, i)
    ),
    named_plans as (select distinct org, plan from input where id is null),
    by_code as (
      select np.org, np.plan, ${indicators.code} as code, min(${indicators.id}::text)::uuid as id, count(*)::int as n
      from named_plans np
      join organizations o on o.code = np.org
      join ${plans} on ${plans.organizationId} = o.id and ${plans.code} = np.plan
      ${joinDownSql(plans, indicators)}
      group by np.org, np.plan, ${indicators.code}
    ),
    resolved as (
      select input.i, coalesce(input.id, case when bc.n = 1 then bc.id end) as indicator_id, coalesce(bc.n, 0) as matches
      from input
      left join by_code bc on input.id is null and bc.org = input.org and bc.plan = input.plan and bc.code = input.code
    )`;
}

/** The indicators named (ids in `resolved`), share-locked with their plans, in id order as every writer locks. */
const lockedTargets = sql`
  targets as materialized (
    select ${indicators.id} as id, ${indicators.valueType} as value_type, ${plans.id} as plan_id, ${plans.organizationId} as organization_id,
      ${plans.startYear} as start_year, ${plans.endYear} as end_year
    from ${indicators} ${joinUpSql(indicators)}
    where ${indicators.id} in (select indicator_id from resolved)
    order by ${indicators.id}
    for share of ${indicators}, ${plans}
  )`;

const targetColumns = sql`t.id as "indicatorId", t.value_type as "valueType", t.plan_id as "planId",
  t.organization_id as "organizationId", t.start_year as "startYear", t.end_year as "endYear"`;

interface TargetRow {
  indicatorId: string | null;
  valueType: Target['valueType'] | null;
  planId: string | null;
  organizationId: string | null;
  startYear: number | null;
  endYear: number | null;
}

const toTarget = (r: TargetRow): Target | undefined =>
  r.indicatorId === null
    ? undefined
    : {
        indicatorId: r.indicatorId,
        valueType: r.valueType!,
        planId: r.planId!,
        organizationId: r.organizationId!,
        startYear: Number(r.startYear),
        endYear: Number(r.endYear),
      };

/**
 * Statement 1: resolves every row's indicator and share-locks the indicators and their plans (against
 * cascade deletes and approvals, as PUT does; in id order, as every writer). A batch naming every
 * indicator by id (what machines send) reads one row per distinct indicator (a tenth of the rows
 * when a batch carries ten years of each) and matches them to the rows here; rows by codes are
 * answered one per request row, in request order. An unknown indicator has no target.
 */
async function resolveRows(tx: Tx, rows: BulkRow[]): Promise<Resolved[]> {
  if (rows.every((r) => r.indicatorId !== undefined)) {
    // PostgreSQL answers ids in lower case; a client may send them in upper case.
    const keys = rows.map((r) => r.indicatorId!.toLowerCase());
    const ids = plainArray([...new Set(keys)]);
    const result = (await tx.execute(sql`
      with resolved as (select unnest(${ids}::uuid[]) as indicator_id), ${lockedTargets}
      select ${targetColumns} from targets t
    `)) as unknown as Executed<TargetRow>;
    const byId = new Map(result.rows.map((r) => [r.indicatorId!, toTarget(r)]));
    return keys.map((key): Resolved => ({ matches: 0, target: byId.get(key), approved: false }));
  }
  const result = (await tx.execute(sql`
    with ${resolutionByCodes(rows)}, ${lockedTargets}
    select r.matches, ${targetColumns}
    from resolved r
    left join targets t on t.id = r.indicator_id
    order by r.i
  `)) as unknown as Executed<TargetRow & { matches: number }>;
  return result.rows.map((r): Resolved => ({ matches: Number(r.matches), target: toTarget(r), approved: false }));
}

/**
 * Flags rows of approved years, for a batch refused anyway (statement 2 finds them for a valid one),
 * in a statement after statement 1: under READ COMMITTED a statement sees the data as of its start,
 * so an approval committed while statement 1 waited for the plan's share lock would be invisible to it.
 */
async function flagApprovedYears(tx: Tx, rows: BulkRow[], resolved: Resolved[]): Promise<void> {
  const asked = resolved.flatMap((res, i) =>
    res.target ? [{ i, planId: res.target.planId, year: rows[i]!.year }] : [],
  );
  if (asked.length === 0) return;
  const result = (await tx.execute(sql`
    select ya.plan_id as "planId", ya.year from year_approvals ya
    where (ya.plan_id, ya.year) in (select * from unnest(${plainArray(asked.map((a) => a.planId))}::uuid[], ${plainArray(asked.map((a) => a.year))}::int[]))
  `)) as unknown as Executed<{ planId: string; year: number }>;
  const approved = new Set(result.rows.map((r) => `${r.planId}/${r.year}`));
  for (const a of asked) if (approved.has(`${a.planId}/${a.year}`)) resolved[a.i]!.approved = true;
}

/** An editor may write its own organization's indicators only: 403 listing every other row. */
function checkEditorScope(actor: Actor, resolved: Resolved[]) {
  if (actor.role !== 'editor') return;
  const forbidden: FieldError[] = [];
  resolved.forEach((res, i) => {
    if (res.target && res.target.organizationId !== actor.organizationId) {
      forbidden.push({ path: `body.rows.${i}`, message: 'the indicator belongs to another organization' });
    }
  });
  if (forbidden.length > 0) {
    throw new ForbiddenError(
      `${forbidden.length} row(s) name indicators of another organization; nothing was written.`,
      forbidden,
    );
  }
}

function unresolvedError(row: BulkRow, res: Resolved, at: string): FieldError {
  if (row.indicatorId !== undefined)
    return { path: `${at}.indicatorId`, message: `unknown indicator ${row.indicatorId}` };
  if (res.matches > 1) {
    return {
      path: `${at}.indicatorCode`,
      message: `indicator code ${row.indicatorCode} is ambiguous in plan ${row.planCode}; use indicatorId`,
    };
  }
  return {
    path: `${at}.indicatorCode`,
    message: `no indicator ${row.indicatorCode} in plan ${row.planCode} of organization ${row.organizationCode}`,
  };
}

interface Checked {
  valid: Valid[];
  errors: FieldError[];
  /** How many rows have errors. */
  bad: number;
}

/** Every row against its indicator and plan (and earlier rows): the valid rows and every bad row's errors. */
function check(rows: BulkRow[], resolved: Resolved[]): Checked {
  const errors: FieldError[] = [];
  const valid: Valid[] = [];
  const seen = new Map<string, number>();
  let bad = 0;
  resolved.forEach((res, index) => {
    const row = rows[index]!;
    const at = `body.rows.${index}`;
    const target = res.target;
    if (!target) {
      errors.push(unresolvedError(row, res, at));
      bad++;
      return;
    }
    const before = errors.length;
    const key = `${target.indicatorId}/${row.year}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) errors.push({ path: at, message: `the same indicator and year as row ${earlier}` });
    else seen.set(key, index);
    const years = allowedYears(target);
    if (row.year < years.from || row.year > years.to) {
      errors.push({ path: `${at}.year`, message: `the year must lie in ${years.from}..${years.to} for this plan` });
    } else if (res.approved) {
      errors.push({
        path: `${at}.year`,
        message: `year ${row.year} of this plan is approved; an admin must reopen it first`,
      });
    }
    errors.push(...measurementProblems(target.valueType, row, at));
    if (errors.length > before) bad++;
    else valid.push({ index, row, target });
  });
  return { valid, errors, bad };
}

const invalidBatch = (rows: BulkRow[], { errors, bad }: Checked) =>
  badRequest(`${bad} of ${rows.length} row(s) are not valid; nothing was written.`, errors);

/** One letter per row in statement 2's answer: c(reated), u(pdated), n (unchanged). */
const OUTCOMES = { c: 'created', u: 'updated', n: 'unchanged' } as const;

interface BatchAnswer {
  created: number;
  updated: number;
  /** With details: one letter of OUTCOMES per valid row, in their order. */
  outcomes: string | null;
  /** "<planId>/<year>" of every approved year a valid row falls in (the batch is then refused). */
  approved: string[] | null;
}

/**
 * Statement 2, after statement 1 holds its share locks (so it sees every approval committed before
 * them; under READ COMMITTED a statement sees the data as of its start): locks the stored
 * measurements of the batch (in id order, as every writer, until the transaction ends), compares
 * each row with what is stored, and, unless `write` is false (a dry run), inserts the new
 * measurements, updates the changed ones and records one audit row per written measurement through
 * the audit recorder (auditInsertSelect), its before and after built here from the locked row and
 * the written values (measurementJsonSql): one round trip, and no document travels. Rows equal to
 * what is stored are left alone (no version bump, no audit row). A batch touching an approved year
 * writes nothing and answers which: the caller refuses it.
 *
 * Rows travel as arrays (unnest), not as thousands of bind parameters or a jsonb document PostgreSQL
 * has to take apart. Each row brings the id it gets if it is new: a time-ordered one (UUIDv7), so the
 * primary key and the audit's entity_id index grow at their right edge (a random id dirtied, and
 * after a checkpoint logged in full, about one page of each index per row). New keys are inserted
 * in one order (indicator, year) for every writer, so two batches creating the same measurements
 * wait for each other (and the second gets a 409 from the unique key, nothing written) instead of
 * deadlocking; the audit rows are recorded in that order too.
 */
async function writeBatch(
  tx: Tx,
  actor: Actor,
  valid: Valid[],
  { write, details }: { write: boolean; details: boolean },
): Promise<BatchAnswer> {
  const col = (f: (v: Valid) => string | number | null) => plainArray(valid.map(f));
  const notes = valid.map((v) => (v.row.note === null ? '' : JSON.stringify(v.row.note))).join('\n');
  const years = new Map<string, { planId: string; year: number }>();
  for (const { target, row } of valid)
    years.set(`${target.planId}/${row.year}`, { planId: target.planId, year: row.year });
  const planYears = [...years.values()];
  const stored = (column: string) => sql.raw(`c.stored_${column}`);
  const writes = sql`,
    inserted as (
      insert into ${measurements} (id, indicator_id, year, plan, fact, rating_size, score, note)
      select new_id, indicator_id, year, plan, fact, rating_size, score, note from compared
      where outcome = 'c' and not exists (select from approved)
      order by indicator_id, year
    ),
    updated as (
      update ${measurements} m set plan = c.plan, fact = c.fact, rating_size = c.rating_size, score = c.score, note = c.note,
        version = m.version + 1, updated_at = now()
      from compared c where c.outcome = 'u' and m.id = c.stored_id and not exists (select from approved)
    ),
    clock as (select ${isoTextSql(sql`now()::timestamptz(3)`)} as now),
    audit as (${auditInsertSelect(
      actor,
      {
        entityType: sql`'measurement'`,
        entityId: sql`coalesce(c.stored_id, c.new_id)::text`,
        entityKey: sql`c.indicator_id::text || '/' || c.year`,
        action: sql`case c.outcome when 'c' then 'create' else 'update' end`,
        before: sql`case c.outcome when 'u' then ${measurementJsonSql({
          id: stored('id'),
          indicatorId: sql`c.indicator_id`,
          year: sql`c.year`,
          plan: stored('plan'),
          fact: stored('fact'),
          ratingSize: stored('rating_size'),
          score: stored('score'),
          note: stored('note'),
          version: stored('version'),
          createdAt: isoTextSql(stored('created_at')),
          updatedAt: isoTextSql(stored('updated_at')),
        })} end`,
        after: measurementJsonSql({
          id: sql`coalesce(c.stored_id, c.new_id)`,
          indicatorId: sql`c.indicator_id`,
          year: sql`c.year`,
          plan: sql`c.plan`,
          fact: sql`c.fact`,
          ratingSize: sql`c.rating_size`,
          score: sql`c.score`,
          note: sql`c.note`,
          version: sql`coalesce(c.stored_version + 1, 1)`,
          createdAt: sql`coalesce(${isoTextSql(stored('created_at'))}, clock.now)`,
          updatedAt: sql`clock.now`,
        }),
      },
      sql`compared c cross join clock where c.outcome <> 'n' and not exists (select from approved)`,
      sql`c.indicator_id, c.year`,
    )})`;
  const result = (await tx.execute(sql`
    with input as (
      select * from unnest(${plainArray(valid.map(() => uuidv7()))}::uuid[], ${col((v) => v.target.indicatorId)}::uuid[],
        ${col((v) => v.row.year)}::int[], ${col((v) => v.row.plan)}::numeric[], ${col((v) => v.row.fact)}::numeric[],
        ${col((v) => v.row.ratingSize)}::int[], ${col((v) => v.row.score)}::numeric[], string_to_array(${notes}::text, E'\n', '')::jsonb[])
        with ordinality as r(new_id, indicator_id, year, plan, fact, rating_size, score, note, i)
    ),
    approved as materialized (
      select ya.plan_id, ya.year from year_approvals ya
      where (ya.plan_id, ya.year) in (select * from unnest(${plainArray(planYears.map((p) => p.planId))}::uuid[], ${plainArray(planYears.map((p) => p.year))}::int[]))
    ),
    stored as materialized (
      select m.id, m.indicator_id, m.year, m.plan, m.fact, m.rating_size, m.score, m.note, m.version, m.created_at, m.updated_at
      from ${measurements} m
      where (m.indicator_id, m.year) in (select indicator_id, year from input)
      order by m.id
      for update
    ),
    compared as materialized (
      select i.*, s.id as stored_id, s.plan as stored_plan, s.fact as stored_fact, s.rating_size as stored_rating_size,
        s.score as stored_score, s.note as stored_note, s.version as stored_version, s.created_at as stored_created_at,
        s.updated_at as stored_updated_at,
        case when s.id is null then 'c'
          when (s.plan, s.fact, s.rating_size, s.score, s.note) is not distinct from (i.plan, i.fact, i.rating_size, i.score, i.note) then 'n'
          else 'u' end as outcome
      from input i left join stored s on s.indicator_id = i.indicator_id and s.year = i.year
    )${write ? writes : sql``}
    select count(*) filter (where outcome = 'c')::int as created, count(*) filter (where outcome = 'u')::int as updated,
      ${details ? sql`string_agg(outcome, '' order by i)` : sql`null`} as outcomes,
      (select array_agg(plan_id::text || '/' || year) from approved) as approved
    from compared
  `)) as unknown as Executed<BatchAnswer>;
  return result.rows[0]!;
}

export interface BulkOptions {
  dryRun: boolean;
  details: boolean;
}

/** The whole batch inside the caller's transaction: resolve, check, then lock, compare, write and audit at once. */
export async function bulkPutMeasurements(tx: Tx, actor: Actor, rows: BulkRow[], { dryRun, details }: BulkOptions) {
  const resolved = await resolveRows(tx, rows);
  checkEditorScope(actor, resolved);
  const { valid, errors } = check(rows, resolved);
  if (errors.length > 0) {
    // A bad batch answers every bad row at once, those in approved years included.
    await flagApprovedYears(tx, rows, resolved);
    throw invalidBatch(rows, check(rows, resolved));
  }
  const answer = await writeBatch(tx, actor, valid, { write: !dryRun, details });
  if (answer.approved && answer.approved.length > 0) {
    // Statement 2 wrote nothing: the rows in approved years are the batch's errors.
    const approved = new Set(answer.approved);
    for (const v of valid) if (approved.has(`${v.target.planId}/${v.row.year}`)) resolved[v.index]!.approved = true;
    throw invalidBatch(rows, check(rows, resolved));
  }
  const created = Number(answer.created);
  const updated = Number(answer.updated);
  return {
    dryRun,
    created,
    updated,
    unchanged: valid.length - created - updated,
    ...(details
      ? {
          rows: valid.map((v, k) => ({
            index: v.index,
            indicatorId: v.target.indicatorId,
            year: v.row.year,
            outcome: OUTCOMES[answer.outcomes![k] as keyof typeof OUTCOMES],
          })),
        }
      : {}),
  };
}
