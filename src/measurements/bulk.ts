/**
 * The batch behind POST /measurements/bulk: up to 10,000 measurements in one request, for machines.
 *
 * All-or-nothing: every row is checked (schema, indicator resolution, year range, rank rules,
 * approved years, editor scope) before anything is written; one bad row rejects the batch with
 * every bad row listed. Set-based, four statements whatever the batch size: one resolves ids and
 * codes and share-locks the indicators and plans; one flags approved years (after the locks); one
 * reads (and locks) the stored measurements; one inserts, updates and records one audit row per written
 * measurement through the audit recorder's insert (src/audit/record.ts, auditInsertSql). Rows travel as arrays
 * (unnest), not as thousands of bind parameters or a jsonb document PostgreSQL has to take apart.
 * Rows equal to what is stored are left alone (no version bump, no audit row), so replaying a
 * batch changes nothing.
 */
import { isDeepStrictEqual } from 'node:util';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { AuditEntry } from '../audit/record.js';
import { auditInsertSql, auditJson } from '../audit/record.js';
import type { Tx } from '../db/tx.js';
import { joinDownSql, joinUpSql } from '../db/plan-tree.js';
import { indicators, measurements, plans } from '../db/schema.js';
import type { Actor } from '../shared/actor.js';
import type { FieldError } from '../shared/errors.js';
import { ForbiddenError, invalid as badRequest } from '../shared/errors.js';
import { decimalToNumber } from '../shared/decimal.js';
import { DecimalValue, EXACT_DECIMAL_NOTE, LocalizedText, Uuid, Year } from '../shared/schemas.js';
import { uuidv7 } from '../shared/uuidv7.js';
import { allowedYears, measurementProblems } from './rules.js';
import type { Measurement } from './schemas.js';

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

/** A stored measurement as statement 2 reads it: numerics as text, timestamps as epoch milliseconds. */
interface Stored {
  id: string;
  indicatorId: string;
  year: number;
  plan: string | null;
  fact: string | null;
  ratingSize: number | null;
  score: string | null;
  note: LocalizedText | null;
  version: number;
  createdMs: number;
  updatedMs: number;
}

/** A valid row and its indicator, keyed by "<indicatorId>/<year>". */
interface Valid {
  index: number;
  row: BulkRow;
  target: Target;
  key: string;
}

interface Change extends Valid {
  before: Stored | undefined;
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
  t.organization_id as "organizationId", t.start_year as "startYear", t.end_year as "endYear",
  round(extract(epoch from now()::timestamptz(3)) * 1000)::float8 as "nowMs"`;

interface TargetRow {
  indicatorId: string | null;
  valueType: Target['valueType'] | null;
  planId: string | null;
  organizationId: string | null;
  startYear: number | null;
  endYear: number | null;
  nowMs: number;
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

/** The transaction's timestamp as stored (milliseconds): now() is the same in every row and statement. */
async function transactionNowMs(tx: Tx): Promise<number> {
  const result = (await tx.execute(
    sql`select round(extract(epoch from now()::timestamptz(3)) * 1000)::float8 as "nowMs"`,
  )) as unknown as Executed<{ nowMs: number }>;
  return Number(result.rows[0]!.nowMs);
}

/**
 * Statement 1: resolves every row's indicator, share-locks the indicators and their plans (against
 * cascade deletes and approvals, as PUT does; in id order, as every writer) and answers the
 * transaction's timestamp as stored (milliseconds), which the audit rows need. A batch naming every
 * indicator by id (what machines send) reads one row per distinct indicator (a tenth of the rows
 * when a batch carries ten years of each) and matches them to the rows here; rows by codes are
 * answered one per request row, in request order. An unknown indicator has no target.
 */
async function resolveRows(tx: Tx, rows: BulkRow[]): Promise<{ resolved: Resolved[]; nowMs: number }> {
  if (rows.every((r) => r.indicatorId !== undefined)) {
    // PostgreSQL answers ids in lower case; a client may send them in upper case.
    const keys = rows.map((r) => r.indicatorId!.toLowerCase());
    const ids = plainArray([...new Set(keys)]);
    const result = (await tx.execute(sql`
      with resolved as (select unnest(${ids}::uuid[]) as indicator_id), ${lockedTargets}
      select ${targetColumns} from targets t
    `)) as unknown as Executed<TargetRow>;
    const byId = new Map(result.rows.map((r) => [r.indicatorId!, toTarget(r)]));
    const resolved = keys.map((key): Resolved => ({ matches: 0, target: byId.get(key), approved: false }));
    // No indicator found: every row is an error and nothing is written, but answer a time all the same.
    const nowMs = result.rows.length > 0 ? Number(result.rows[0]!.nowMs) : await transactionNowMs(tx);
    return { resolved, nowMs };
  }
  const result = (await tx.execute(sql`
    with ${resolutionByCodes(rows)}, ${lockedTargets}
    select r.matches, ${targetColumns}
    from resolved r
    left join targets t on t.id = r.indicator_id
    order by r.i
  `)) as unknown as Executed<TargetRow & { matches: number }>;
  const resolved = result.rows.map((r): Resolved => ({
    matches: Number(r.matches),
    target: toTarget(r),
    approved: false,
  }));
  return { resolved, nowMs: Number(result.rows[0]!.nowMs) };
}

/**
 * Flags rows of approved years, in a statement of its own after statement 1: under READ
 * COMMITTED a statement sees the data as of its start, so an approval committed while statement 1
 * waited for the plan's share lock would be invisible to it (and the batch would write into a
 * year that was approved meanwhile). This statement starts after the lock is held.
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

/** Every row against its indicator and plan (and earlier rows): the valid rows, or 400 listing every bad one. */
function validate(rows: BulkRow[], resolved: Resolved[]): Valid[] {
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
    else valid.push({ index, row, target, key });
  });
  if (errors.length > 0)
    throw badRequest(`${bad} of ${rows.length} row(s) are not valid; nothing was written.`, errors);
  return valid;
}

/**
 * Statement 2: the stored measurements of the batch, locked (in id order) until the transaction ends,
 * so what they are compared with and audited as "before" is what gets replaced.
 */
async function lockStored(tx: Tx, valid: Valid[]): Promise<Map<string, Stored>> {
  const result = (await tx.execute(sql`
    select m.id, m.indicator_id as "indicatorId", m.year, m.plan, m.fact, m.rating_size as "ratingSize", m.score, m.note, m.version,
      round(extract(epoch from m.created_at) * 1000)::float8 as "createdMs", round(extract(epoch from m.updated_at) * 1000)::float8 as "updatedMs"
    from measurements m
    where (m.indicator_id, m.year) in (select * from unnest(${plainArray(valid.map((v) => v.target.indicatorId))}::uuid[], ${plainArray(valid.map((v) => v.row.year))}::int[]))
    order by m.id
    for update
  `)) as unknown as Executed<Stored>;
  return new Map(result.rows.map((m) => [`${m.indicatorId}/${m.year}`, m]));
}

/** Same values as stored? Compared as the API reads them back (numbers, the note as an object). */
const sameValues = (row: BulkRow, m: Stored) =>
  row.plan === decimalToNumber(m.plan) &&
  row.fact === decimalToNumber(m.fact) &&
  row.ratingSize === (m.ratingSize === null ? null : Number(m.ratingSize)) &&
  row.score === decimalToNumber(m.score) &&
  (row.note === m.note || (row.note !== null && m.note !== null && isDeepStrictEqual(row.note, m.note)));

/** Epoch milliseconds to ISO text. */
type IsoOf = (ms: number) => string;

/**
 * ISO text of epoch milliseconds, remembered for one batch: the rows a transaction wrote share their
 * timestamps (a batch's updated_at, a seeded or imported plan's created_at), and Date#toISOString
 * was, after the garbage collector, the largest item of the service's CPU profile for 1,000-row batches.
 */
function isoMemo(): IsoOf {
  const known = new Map<number, string>();
  return (ms) => {
    let text = known.get(ms);
    if (text === undefined) known.set(ms, (text = new Date(ms).toISOString()));
    return text;
  };
}

/** The API's view of a stored measurement (the audit's "before"). */
const storedDto = (m: Stored, iso: IsoOf): Measurement => ({
  id: m.id,
  indicatorId: m.indicatorId,
  year: Number(m.year),
  plan: decimalToNumber(m.plan),
  fact: decimalToNumber(m.fact),
  ratingSize: m.ratingSize === null ? null : Number(m.ratingSize),
  score: decimalToNumber(m.score),
  note: m.note ?? null,
  version: Number(m.version),
  createdAt: iso(Number(m.createdMs)),
  updatedAt: iso(Number(m.updatedMs)),
});

/** The API's view of the measurement a change writes (the audit's "after"): what statement 3 stores. */
const writtenDto = (c: Change, id: string, now: string, iso: IsoOf): Measurement => ({
  id,
  indicatorId: c.target.indicatorId,
  year: c.row.year,
  plan: c.row.plan,
  fact: c.row.fact,
  ratingSize: c.row.ratingSize,
  score: c.row.score,
  note: c.row.note,
  version: c.before ? Number(c.before.version) + 1 : 1,
  createdAt: c.before ? iso(Number(c.before.createdMs)) : now,
  updatedAt: now,
});

const jsonNumber = (n: number | null) => (n === null ? 'null' : String(n));

/**
 * JSON.stringify(m), written out: ids, numbers and ISO timestamps need no escaping, and the audit
 * writes two of these per row (the generic JSON.stringify was the largest item of the profile).
 */
const measurementJson = (m: Measurement) =>
  `{"id":"${m.id}","indicatorId":"${m.indicatorId}","year":${m.year},"plan":${jsonNumber(m.plan)},"fact":${jsonNumber(m.fact)},` +
  `"ratingSize":${jsonNumber(m.ratingSize)},"score":${jsonNumber(m.score)},"note":${m.note === null ? 'null' : JSON.stringify(m.note)},` +
  `"version":${m.version},"createdAt":"${m.createdAt}","updatedAt":"${m.updatedAt}"}`;

/**
 * JSON documents as one text, one per line (JSON never holds a raw line break), split back by
 * string_to_array(..., E'\n', '') with '' for null: PostgreSQL parses each document once, where a
 * jsonb[] parameter would have every quote escaped by the driver and unescaped again by the server.
 */
const jsonLines = (docs: (string | null)[]) => docs.map((d) => d ?? '').join('\n');

/**
 * Statement 3: inserts the new measurements and updates the changed ones (locked by statement 2),
 * all from arrays (unnest), and records one audit row per written measurement through the audit
 * recorder's insert (auditInsertSql), in the same statement: one round trip for rows and audit.
 * New rows get their id here so the audit's "after" is known without reading the rows back: a
 * time-ordered one (UUIDv7), so the primary key and the audit's entity_id index grow at their right
 * edge (a random id dirtied, and after a checkpoint logged in full, about one page of each index per
 * row). A new row some other transaction inserted meanwhile is a unique violation: 409, nothing
 * written, the batch can be resent.
 */
async function writeChanges(tx: Tx, changes: Change[], nowMs: number, actor: Actor) {
  const iso = isoMemo();
  const now = iso(nowMs);
  const ids = changes.map((c) => c.before?.id ?? uuidv7());
  const col = (f: (c: Change) => string | number | boolean | null) => plainArray(changes.map(f));
  const notes = jsonLines(changes.map((c) => (c.row.note === null ? null : JSON.stringify(c.row.note))));
  const entries: AuditEntry[] = changes.map((c, i) => ({
    entityType: 'measurement',
    entityId: ids[i]!,
    entityKey: `${c.target.indicatorId}/${c.row.year}`,
    action: c.before ? 'update' : 'create',
    before: c.before ? auditJson(measurementJson(storedDto(c.before, iso))) : null,
    after: auditJson(measurementJson(writtenDto(c, ids[i]!, now, iso))),
  }));
  await tx.execute(sql`
    with input as (
      select * from unnest(${plainArray(ids)}::uuid[], ${col((c) => c.target.indicatorId)}::uuid[], ${col((c) => c.row.year)}::int[],
        ${col((c) => c.row.plan)}::numeric[], ${col((c) => c.row.fact)}::numeric[], ${col((c) => c.row.ratingSize)}::int[],
        ${col((c) => c.row.score)}::numeric[], string_to_array(${notes}::text, E'\n', '')::jsonb[],
        ${col((c) => c.before === undefined)}::boolean[])
        as r(id, indicator_id, year, plan, fact, rating_size, score, note, created)
    ),
    inserted as (
      insert into ${measurements} (id, indicator_id, year, plan, fact, rating_size, score, note)
      select id, indicator_id, year, plan, fact, rating_size, score, note from input where created
    ),
    updated as (
      update ${measurements} m set plan = input.plan, fact = input.fact, rating_size = input.rating_size, score = input.score,
        note = input.note, version = m.version + 1, updated_at = now()
      from input where not input.created and m.id = input.id
    )
    ${auditInsertSql(actor, entries)}
  `);
}

export interface BulkOptions {
  dryRun: boolean;
  details: boolean;
}

/** The whole batch inside the caller's transaction: resolve, check, lock, compare, write, audit. */
export async function bulkPutMeasurements(tx: Tx, actor: Actor, rows: BulkRow[], { dryRun, details }: BulkOptions) {
  const { resolved, nowMs } = await resolveRows(tx, rows);
  checkEditorScope(actor, resolved);
  await flagApprovedYears(tx, rows, resolved);
  const valid = validate(rows, resolved);
  const stored = await lockStored(tx, valid);

  const changes: Change[] = [];
  let unchanged = 0;
  const outcomes: { index: number; indicatorId: string; year: number; outcome: z.infer<typeof Outcome> }[] = [];
  for (const v of valid) {
    const before = stored.get(v.key);
    const outcome = !before ? 'created' : sameValues(v.row, before) ? 'unchanged' : 'updated';
    if (details) outcomes.push({ index: v.index, indicatorId: v.target.indicatorId, year: v.row.year, outcome });
    if (outcome === 'unchanged') unchanged++;
    else changes.push({ ...v, before });
  }
  const created = changes.filter((c) => !c.before).length;
  const result = {
    dryRun,
    created,
    updated: changes.length - created,
    unchanged,
    ...(details ? { rows: outcomes } : {}),
  };
  if (dryRun || changes.length === 0) return result;

  // New keys in one order for every writer, so two batches creating the same measurements wait
  // for each other (and the second gets a 409) instead of deadlocking.
  // Stryker disable all: one statement writes a batch, so the order is seen only by a second batch that
  // writes the same new keys at the same moment (a wait, or a deadlock without it), not by any one request.
  changes.sort((a, b) =>
    a.target.indicatorId === b.target.indicatorId
      ? a.row.year - b.row.year
      : a.target.indicatorId < b.target.indicatorId
        ? -1
        : 1,
  );
  // Stryker restore all
  await writeChanges(tx, changes, nowMs, actor);
  return result;
}
