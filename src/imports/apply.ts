/**
 * Matching a parsed spreadsheet against a plan, previewing what an import would do, and doing it.
 *
 * Matching: directions by code, then by title; goals by code within the direction, then by title
 * within the direction, then by code or title anywhere in the plan (a warning: the official 2016
 * report prints goal "1.1" under direction 2); indicators by a leading code in the name cell
 * ("1.1.3 Name", as the template writes them), then by name within the goal, then by name anywhere
 * in the plan. Names compare by letters and digits only, case-insensitively, against every language.
 *
 * New rows: unmatched directions and goals are created with the heading's code and title; new
 * indicators get the code in the name cell or goal code + running number ("2.1.4"). valueType is
 * read from the unit: a place in a rating ("Рейтингтегі Қазақстанның орны", "место в рейтинге",
 * "rank") is a rank (always lower-is-better); "%" is a percent; anything else a number. betterWhen
 * is never guessed for non-ranks (the contract: a percentage can be lower-is-better): a new
 * non-rank indicator needs column 7 (higher/lower, жоғары/төмен, больше/меньше), otherwise the row
 * is an error and nothing is imported.
 *
 * Every row the import would store is checked with the API's own schemas (the create bodies of
 * directions, goals and indicators, the measurement PUT), positions included (appended after the
 * last, at most MAX_POSITION): what an import commits, the API can always serve.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import type { Tx } from '../db/tx.js';
import { directions, goals, indicators, measurements, yearApprovals } from '../db/schema.js';
import type { AuditEntry } from '../audit/record.js';
import { recordAuditMany } from '../audit/record.js';
import { assertYearOpen } from '../approvals/repository.js';
import { toIndicatorDto } from '../indicators/repository.js';
import { toMeasurementDto, upsertMeasurement } from '../measurements/repository.js';
import { measurementProblems } from '../measurements/rules.js';
import { decimalToNumber } from '../shared/decimal.js';
import type { Lang } from '../shared/lang.js';
import type { LocalizedText } from '../shared/schemas.js';
import { DirectionSchemas } from '../directions/schemas.js';
import { GoalSchemas } from '../goals/schemas.js';
import type { Actor } from '../shared/actor.js';
import { IndicatorCreate } from '../indicators/schemas.js';
import { MeasurementPut } from '../measurements/schemas.js';
import type { ParsedSheet } from './parse.js';
import type { ImportProblem, ImportReport } from './schemas.js';
import { normalize } from './parse.js';

type Executor = Db | Tx;
type Match = ImportReport['directions'][number]['match'];

const RANK_UNIT = /орны|орын|место|рейтинг|rank|place|position/iu;
const PERCENT_UNIT = /^%$|пайыз|процент|percent/iu;

export function inferValueType(unit: string): 'percent' | 'number' | 'rank' {
  if (RANK_UNIT.test(unit)) return 'rank';
  if (PERCENT_UNIT.test(unit.trim())) return 'percent';
  return 'number';
}

const textMatches = (text: LocalizedText | null | undefined, wanted: string) => {
  const n = normalize(wanted);
  return n.length > 0 && Object.values(text ?? {}).some((v) => typeof v === 'string' && normalize(v) === n);
};

const only = <T>(items: T[]): T | undefined => (items.length === 1 ? items[0] : undefined);

/** A cell's text as the LocalizedText the import stores, in the file's language. */
const textIn = (lang: Lang, s: string): LocalizedText => ({ [lang]: s.slice(0, 4000) });

interface Checkable {
  safeParse(
    value: unknown,
  ): { success: true } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } };
}

/** The problems `schema` (an API request schema) finds in what the import would store for `row`. */
function schemaProblems(problems: ImportProblem[], row: number, schema: Checkable, value: unknown) {
  const result = schema.safeParse(value);
  if (result.success) return;
  // A column the import's own checks already reported (say a missing unit) is not reported twice.
  const reported = new Set(problems.filter((p) => p.row === row).map((p) => p.column));
  for (const issue of result.error.issues) {
    const column = issue.path.map(String).join('.');
    if (reported.has(String(issue.path[0]))) continue;
    problems.push({ row, ...(column ? { column } : {}), severity: 'error', message: issue.message });
  }
}

interface Planned {
  report: ImportReport;
  /** What commit does, in order. */
  newDirections: { key: number; code: string; title: string; position: number }[];
  newGoals: { key: number; directionRef: string | number; code: string; title: string; position: number }[];
  newIndicators: {
    key: number;
    goalRef: string | number;
    position: number;
    code: string;
    name: string;
    source: string;
    unit: string;
    group?: string;
    valueType: 'percent' | 'number' | 'rank';
    betterWhen: 'higher' | 'lower';
  }[];
  writes: {
    indicatorRef: string | number;
    row: number;
    plan: number | null;
    fact: number | null;
    ratingSize: number | null;
    score: number | null;
    note: LocalizedText | null;
    existed: boolean;
  }[];
}

export async function planImport(
  executor: Executor,
  planId: string,
  year: number,
  lang: Lang,
  sheet: ParsedSheet,
): Promise<Planned> {
  const dirRows = await executor.select().from(directions).where(eq(directions.planId, planId));
  const dirIds = dirRows.map((d) => d.id);
  const goalRows = dirIds.length ? await executor.select().from(goals).where(inArray(goals.directionId, dirIds)) : [];
  const goalIds = goalRows.map((g) => g.id);
  const indRows = goalIds.length
    ? await executor.select().from(indicators).where(inArray(indicators.goalId, goalIds))
    : [];
  const indIds = indRows.map((i) => i.id);
  const measRows = indIds.length
    ? await executor
        .select()
        .from(measurements)
        .where(and(inArray(measurements.indicatorId, indIds), eq(measurements.year, year)))
    : [];
  const measByIndicator = new Map(measRows.map((m) => [m.indicatorId, m]));
  const approved =
    (
      await executor
        .select({ id: yearApprovals.id })
        .from(yearApprovals)
        .where(and(eq(yearApprovals.planId, planId), eq(yearApprovals.year, year)))
    ).length > 0;

  const problems: ImportProblem[] = [...sheet.problems];
  const report: ImportReport = {
    planId,
    year,
    committed: false,
    summary: {
      indicatorRows: sheet.indicatorRows,
      directionsMatched: 0,
      directionsCreated: 0,
      goalsMatched: 0,
      goalsCreated: 0,
      indicatorsMatched: 0,
      indicatorsCreated: 0,
      measurementsCreated: 0,
      measurementsChanged: 0,
      measurementsUnchanged: 0,
      errors: 0,
      warnings: 0,
    },
    directions: [],
    goals: [],
    indicators: [],
    problems,
  };
  const planned: Planned = { report, newDirections: [], newGoals: [], newIndicators: [], writes: [] };
  const matchedIndicators = new Set<string>();
  const usedCodes = new Map<string, Set<string>>(); // goal ref -> indicator codes
  const codesOf = (ref: string | number) => {
    const key = String(ref);
    if (!usedCodes.has(key))
      usedCodes.set(
        key,
        new Set(typeof ref === 'string' ? indRows.filter((i) => i.goalId === ref).map((i) => i.code) : []),
      );
    return usedCodes.get(key)!;
  };
  // Large files (up to IMPORT_MAX_ROWS rows) stay linear: the highest running number per goal and the
  // stored indicators by normalized name are kept, not recomputed per row (that was quadratic and
  // held the event loop for minutes at 20,000 rows); the loop also yields every 500 rows.
  const highestNumber = new Map<string, number>();
  const highestOf = (ref: string | number, codes: Set<string>) => {
    const key = String(ref);
    let highest = highestNumber.get(key);
    if (highest === undefined) {
      highest = 0;
      for (const c of codes) {
        const n = Number(c.split('.').pop());
        if (Number.isInteger(n) && n > highest) highest = n;
      }
      highestNumber.set(key, highest);
    }
    return highest;
  };
  const byName = new Map<string, (typeof indRows)[number][]>();
  for (const row of indRows) {
    const names = new Set(
      Object.values(row.name ?? {})
        .filter((v): v is string => typeof v === 'string')
        .map(normalize),
    );
    for (const n of names) if (n.length > 0) byName.set(n, [...(byName.get(n) ?? []), row]);
  }
  const named = (name: string) => byName.get(normalize(name)) ?? [];
  let handled = 0;
  let key = 0;
  // New rows go after the last one of their parent, as the API's create does.
  const lastPositions = new Map<string, number>();
  const nextPosition = (parentRef: string | number, siblings: { position: number }[]) => {
    const k = String(parentRef);
    const next = (lastPositions.get(k) ?? Math.max(0, ...siblings.map((s) => s.position))) + 1;
    lastPositions.set(k, next);
    return next;
  };

  for (const d of sheet.directions) {
    let dir = dirRows.find((x) => x.code === d.code);
    let match: Match = 'code';
    if (!dir && d.title) {
      dir = only(dirRows.filter((x) => textMatches(x.title, d.title)));
      match = 'name';
    }
    let dirRef: string | number;
    if (dir) {
      dirRef = dir.id;
      report.summary.directionsMatched++;
      report.directions.push({ row: d.row, code: dir.code, title: d.title, match, id: dir.id });
    } else {
      dirRef = ++key;
      if (!d.title)
        problems.push({
          row: d.row,
          severity: 'error',
          message: `direction ${d.code} is new and its heading has no title`,
        });
      const position = nextPosition(planId, dirRows);
      if (d.title)
        schemaProblems(problems, d.row, DirectionSchemas.create, {
          code: d.code,
          title: textIn(lang, d.title),
          position,
        });
      planned.newDirections.push({ key: dirRef, code: d.code, title: d.title, position });
      report.summary.directionsCreated++;
      report.directions.push({ row: d.row, code: d.code, title: d.title, match: 'new', id: null });
    }
    const dirGoals = dir ? goalRows.filter((g) => g.directionId === dir.id) : [];
    for (const g of d.goals) {
      let goal = dirGoals.find((x) => x.code === g.code);
      let gMatch: Match = 'code';
      if (!goal && g.title) {
        goal = only(dirGoals.filter((x) => textMatches(x.title, g.title)));
        gMatch = 'name';
      }
      if (!goal) {
        const elsewhere =
          only(goalRows.filter((x) => x.code === g.code)) ??
          only(goalRows.filter((x) => g.title && textMatches(x.title, g.title)));
        if (elsewhere && dir) {
          goal = elsewhere;
          gMatch = elsewhere.code === g.code ? 'code' : 'name';
          problems.push({
            row: g.row,
            severity: 'warning',
            message: `goal ${g.code} is printed under direction ${d.code} but belongs to another direction; its indicators are matched by name across the plan`,
          });
        }
      }
      let goalRef: string | number;
      let goalCode: string;
      if (goal) {
        goalRef = goal.id;
        goalCode = goal.code;
        report.summary.goalsMatched++;
        report.goals.push({
          row: g.row,
          code: goal.code,
          title: g.title,
          match: gMatch,
          id: goal.id,
          directionCode: d.code,
        });
      } else {
        goalRef = ++key;
        goalCode = g.code;
        if (!g.title)
          problems.push({
            row: g.row,
            severity: 'error',
            message: `goal ${g.code} is new and its heading has no title`,
          });
        const position = nextPosition(dirRef, dirGoals);
        if (g.title)
          schemaProblems(problems, g.row, GoalSchemas.create, { code: g.code, title: textIn(lang, g.title), position });
        planned.newGoals.push({ key: goalRef, directionRef: dirRef, code: g.code, title: g.title, position });
        report.summary.goalsCreated++;
        report.goals.push({ row: g.row, code: g.code, title: g.title, match: 'new', id: null, directionCode: d.code });
      }
      const goalIndicators = goal ? indRows.filter((i) => i.goalId === goal.id) : [];
      for (const ind of g.indicators) {
        if (++handled % 500 === 0) await nextTurn();
        let found = ind.code
          ? (goalIndicators.find((x) => x.code === ind.code) ?? only(indRows.filter((x) => x.code === ind.code)))
          : undefined;
        let iMatch: Match = 'code';
        if (!found) {
          iMatch = 'name';
          const candidates = named(ind.name);
          found = only(candidates.filter((x) => goal !== undefined && x.goalId === goal.id)) ?? only(candidates);
          if (found && goal && found.goalId !== goal.id) {
            const realGoal = goalRows.find((x) => x.id === found!.goalId);
            problems.push({
              row: ind.row,
              severity: 'warning',
              message: `matched indicator ${found.code} of goal ${realGoal?.code}, not of the heading's goal ${goalCode}`,
            });
          }
        }
        if (found && matchedIndicators.has(found.id)) {
          problems.push({
            row: ind.row,
            severity: 'error',
            message: `indicator ${found.code} appears twice in the file`,
          });
          continue;
        }
        let indicatorRef: string | number;
        let valueType: 'percent' | 'number' | 'rank';
        let betterWhen: 'higher' | 'lower' | null;
        let code: string;
        if (found) {
          matchedIndicators.add(found.id);
          indicatorRef = found.id;
          valueType = found.valueType;
          betterWhen = found.betterWhen;
          code = found.code;
          report.summary.indicatorsMatched++;
          if (ind.betterWhen && ind.betterWhen !== found.betterWhen) {
            problems.push({
              row: ind.row,
              column: 'betterWhen',
              severity: 'warning',
              message: `column 7 says ${ind.betterWhen}, the stored indicator says ${found.betterWhen}; the import does not change it`,
            });
          }
        } else {
          indicatorRef = ++key;
          valueType = inferValueType(ind.unit);
          betterWhen = valueType === 'rank' ? 'lower' : (ind.betterWhen ?? null);
          const codes = codesOf(goalRef);
          if (ind.code && !codes.has(ind.code)) code = ind.code;
          else code = `${goalCode}.${highestOf(goalRef, codes) + 1}`;
          codes.add(code);
          const last = Number(code.split('.').pop());
          if (Number.isInteger(last) && last > highestOf(goalRef, codes)) highestNumber.set(String(goalRef), last);
          if (valueType === 'rank' && ind.betterWhen === 'higher') {
            problems.push({
              row: ind.row,
              column: 'betterWhen',
              severity: 'error',
              message: 'a rank (place in a rating) is always lower-is-better',
            });
          }
          if (!betterWhen) {
            problems.push({
              row: ind.row,
              column: 'betterWhen',
              severity: 'error',
              message: `new indicator "${ind.name.slice(0, 60)}": say in column 7 whether higher or lower is better (it is never inferred from the unit "${ind.unit}")`,
            });
          }
          if (!ind.unit)
            problems.push({ row: ind.row, column: 'unit', severity: 'error', message: 'new indicator without a unit' });
          if (!ind.source)
            problems.push({
              row: ind.row,
              column: 'source',
              severity: 'error',
              message: 'new indicator without an information source',
            });
          const position = nextPosition(goalRef, goalIndicators);
          schemaProblems(problems, ind.row, IndicatorCreate, {
            code,
            name: textIn(lang, ind.name),
            unit: textIn(lang, ind.unit),
            source: textIn(lang, ind.source),
            ...(ind.group ? { group: textIn(lang, ind.group) } : {}),
            valueType,
            betterWhen: betterWhen ?? undefined,
            position,
          });
          planned.newIndicators.push({
            key: indicatorRef,
            goalRef,
            position,
            code,
            name: ind.name,
            source: ind.source,
            unit: ind.unit,
            ...(ind.group ? { group: ind.group } : {}),
            valueType,
            betterWhen: betterWhen ?? 'higher',
          });
          report.summary.indicatorsCreated++;
        }
        const stored = found ? measByIndicator.get(found.id) : undefined;
        const ratingSize = stored?.ratingSize ?? null;
        const score = decimalToNumber(stored?.score ?? null);
        for (const p of measurementProblems(valueType, { plan: ind.plan, fact: ind.fact, ratingSize, score }, 'row')) {
          problems.push({ row: ind.row, column: p.path.replace(/^row\./, ''), severity: 'error', message: p.message });
        }
        const before = stored ? { plan: decimalToNumber(stored.plan), fact: decimalToNumber(stored.fact) } : null;
        const noteText = ind.note.slice(0, 4000);
        const note: LocalizedText | null = noteText
          ? { ...(stored?.note ?? {}), [lang]: noteText }
          : (stored?.note ?? null);
        const sameNote = JSON.stringify(note) === JSON.stringify(stored?.note ?? null);
        const unchanged = before !== null && before.plan === ind.plan && before.fact === ind.fact && sameNote;
        const emptyNew = !stored && ind.plan === null && ind.fact === null && !noteText;
        const change: 'create' | 'update' | 'none' = unchanged || emptyNew ? 'none' : stored ? 'update' : 'create';
        if (change === 'none') report.summary.measurementsUnchanged++;
        else {
          if (change === 'create') report.summary.measurementsCreated++;
          else report.summary.measurementsChanged++;
          schemaProblems(problems, ind.row, MeasurementPut, {
            plan: ind.plan,
            fact: ind.fact,
            ratingSize,
            score,
            note,
          });
          planned.writes.push({
            indicatorRef,
            row: ind.row,
            plan: ind.plan,
            fact: ind.fact,
            ratingSize,
            score,
            note,
            existed: !!stored,
          });
        }
        report.indicators.push({
          row: ind.row,
          code,
          name: ind.name,
          match: found ? iMatch : 'new',
          id: found?.id ?? null,
          goalCode,
          valueType,
          betterWhen,
          plan: ind.plan,
          fact: ind.fact,
          before,
          change,
        });
      }
    }
  }
  if (approved && planned.writes.length > 0) {
    problems.push({
      row: null,
      severity: 'error',
      message: `year ${year} of this plan is approved; an admin must reopen it before values can change`,
    });
  }
  report.summary.errors = problems.filter((p) => p.severity === 'error').length;
  report.summary.warnings = problems.filter((p) => p.severity === 'warning').length;
  problems.sort((a, b) => (a.row ?? 0) - (b.row ?? 0));
  return planned;
}

/**
 * Carries out a planned import inside `tx` (the caller's transaction), auditing every write: one
 * entry per created row and written measurement, recorded together in one statement at the end.
 */
export async function applyImport(tx: Tx, actor: Actor, planId: string, year: number, lang: Lang, planned: Planned) {
  const audit: AuditEntry[] = [];
  const ids = new Map<string | number, string>();
  const resolve = (ref: string | number) => (typeof ref === 'string' ? ref : ids.get(ref)!);
  const text = (s: string) => textIn(lang, s);
  if (planned.writes.length > 0) await assertYearOpen(tx, planId, year);
  for (const d of planned.newDirections) {
    const [row] = await tx
      .insert(directions)
      .values({ planId, code: d.code, title: text(d.title), position: d.position })
      .returning();
    ids.set(d.key, row!.id);
    audit.push({ entityType: 'direction', entityId: row!.id, action: 'create', after: row! });
  }
  for (const g of planned.newGoals) {
    const directionId = resolve(g.directionRef);
    const [row] = await tx
      .insert(goals)
      .values({ directionId, code: g.code, title: text(g.title), position: g.position })
      .returning();
    ids.set(g.key, row!.id);
    audit.push({ entityType: 'goal', entityId: row!.id, action: 'create', after: row! });
  }
  for (const i of planned.newIndicators) {
    const goalId = resolve(i.goalRef);
    const [row] = await tx
      .insert(indicators)
      .values({
        goalId,
        code: i.code,
        name: text(i.name),
        unit: text(i.unit),
        source: text(i.source),
        group: i.group ? text(i.group) : null,
        valueType: i.valueType,
        betterWhen: i.betterWhen,
        position: i.position,
      })
      .returning();
    ids.set(i.key, row!.id);
    audit.push({ entityType: 'indicator', entityId: row!.id, action: 'create', after: toIndicatorDto(row!) });
  }
  for (const w of planned.writes) {
    const indicatorId = resolve(w.indicatorRef);
    const [current] = await tx
      .select()
      .from(measurements)
      .where(and(eq(measurements.indicatorId, indicatorId), eq(measurements.year, year)))
      .for('update');
    const row = await upsertMeasurement(tx, indicatorId, year, {
      plan: w.plan,
      fact: w.fact,
      ratingSize: w.ratingSize,
      score: w.score,
      note: w.note,
    });
    audit.push({
      entityType: 'measurement',
      entityId: row.id,
      entityKey: `${indicatorId}/${year}`,
      action: current ? 'update' : 'create',
      before: current ? toMeasurementDto(current) : null,
      after: toMeasurementDto(row),
    });
  }
  await recordAuditMany(tx, actor, audit);
}
