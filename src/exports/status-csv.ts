/**
 * The status feed as CSV on PostgreSQL: the hot path of a BI tool pulling a whole year.
 *
 * Rows come through a server-side cursor as raw text (statusCsvQuery: the goal's id, the
 * indicator's id joined to its code, names, values; the cells of where the row sits come once per
 * goal, csvPlacementQuery, and the approved plan years once per export, csvApprovalsQuery): no type
 * parsing, no IndicatorStatus object per row, no per-column dispatch.
 * Each line is written in one template from those values and the achievement rules' result
 * (achievement/compute.ts, the same rules as everywhere); text cells go through csvText() as in
 * every export. The bytes equal the generic encoder's (tabular.ts over IndicatorStatus objects),
 * which PGlite and XLSX still use: tests/api/exports-stream.test.ts holds the export to the JSON feed.
 */
import type { Readable } from 'node:stream';
import { computeIndicatorStatus } from '../achievement/compute.js';
import type { BetterWhen, ValueType } from '../achievement/compute.js';
import { LABELS } from '../reports/labels.js';
import { decimalToNumber, isNumberSpelling } from '../shared/decimal.js';
import type { Lang } from '../shared/lang.js';
import type { Pool } from 'pg';
import { cursorBatches } from '../db/cursor.js';
import { CSV_ROW, csvApprovalsQuery, csvPlacementQuery, PLACEMENT_ROW, statusCsvQuery } from '../status/queries.js';
import type { StatusFilter } from '../status/read-model.js';
import { DEFAULT_RULES, evaluateWith } from '../achievement/methods.js';
import type { Scoring } from '../status/assemble.js';
import type { RuleSource } from '../evaluation-methods/service.js';
import { csvHeader, csvLineStream, csvText } from './tabular.js';

/** A row's rules (its plan's evaluation method, or its approved year's version). */
export type Scorer = (row: RuleSource) => Scoring;
const defaultScorer: Scorer = () => ({ rules: DEFAULT_RULES, now: new Date() });

/** How the status CSV writes what is not raw data: the separator, the decimal mark, the language of labels. */
export interface StatusCsvFormat {
  sep: string;
  decimal: '.' | ',';
  lang: Lang;
}

/** A number cell from the JSON number's text, as the generic encoder writes IndicatorStatus numbers (decimal comma: quoted with `,`). */
function spelledCellOf(sep: string, decimal: '.' | ','): (spelled: string) => string {
  if (decimal === '.') return (spelled) => spelled;
  return (spelled) => {
    const s = spelled.replace('.', ',');
    return sep === ',' && s.includes(',') ? `"${s}"` : s;
  };
}

/** Where a goal sits: its cells from the organization's id to the goal's title and the separator after, as UTF-8; and its plan. */
interface Placement {
  cells: Buffer;
  planId: string;
}
/** goal id -> where the goal sits. */
export type Placements = ReadonlyMap<string, Placement>;
/** plan id -> its approved years -> the approval's evaluation method version (null: none named). */
type Approvals = ReadonlyMap<string, ReadonlyMap<number, string | null>>;

/**
 * The placement cells of csvPlacementQuery's rows, encoded once per goal (to UTF-8 too) rather than
 * once per row: the organization's, plan's, direction's and goal's id with code and name, `sep`
 * between and after.
 */
function placementCells(rows: readonly unknown[][], sep: string): Map<string, Placement> {
  const code = sep.charCodeAt(0);
  const text = (value: unknown) => (value === null ? '' : csvText(value as string, code));
  const out = new Map<string, Placement>();
  for (const r of rows)
    out.set(r[PLACEMENT_ROW.goalId] as string, {
      cells: Buffer.from(
        `${r[PLACEMENT_ROW.organization] as string}${sep}${text(r[PLACEMENT_ROW.organizationName])}${sep}` +
          `${r[PLACEMENT_ROW.plan] as string}${sep}${text(r[PLACEMENT_ROW.planTitle])}${sep}` +
          `${r[PLACEMENT_ROW.direction] as string}${sep}${text(r[PLACEMENT_ROW.directionTitle])}${sep}` +
          `${r[PLACEMENT_ROW.goal] as string}${sep}${text(r[PLACEMENT_ROW.goalTitle])}${sep}`,
      ),
      planId: r[PLACEMENT_ROW.planId] as string,
    });
  return out;
}

/** csvApprovalsQuery's rows (raw text) by plan and year. */
function approvalsOf(rows: readonly unknown[][]): Map<string, Map<number, string | null>> {
  const out = new Map<string, Map<number, string | null>>();
  for (const [planId, year, methodVersionId] of rows) {
    let years = out.get(planId as string);
    if (!years) out.set(planId as string, (years = new Map<number, string | null>()));
    years.set(Number(year), methodVersionId as string | null);
  }
  return out;
}

const NO_APPROVALS: ReadonlyMap<number, string | null> = new Map();

/**
 * One CSV line (without its CRLF) from a statusCsvQuery row: `head`, the placement cells as UTF-8
 * (the same bytes for every row of a goal), then `line`, the rest (csvLineStream calls head first).
 */
export function statusCsvLine(
  { sep, decimal, lang }: StatusCsvFormat,
  { placements, approvals }: Pick<StatusCsvSource, 'placements' | 'approvals'>,
  scorer: Scorer = defaultScorer,
): { head: (row: unknown[]) => Buffer; line: (row: unknown[]) => string } {
  const code = sep.charCodeAt(0);
  const text = (value: unknown) => (value === null ? '' : csvText(value as string, code));
  const spelledCell = spelledCellOf(sep, decimal);
  const numberCell = (n: number | null) => (n === null ? '' : spelledCell(`${n}`));
  // A stored decimal whose text already is its JSON number's spelling (most are) is copied, not
  // parsed and printed again.
  const decimalCell = (text: string | null) =>
    text === null ? '' : isNumberSpelling(text) ? spelledCell(text) : numberCell(decimalToNumber(text));
  // Rows arrive in the natural order: consecutive rows share their goal.
  let lastGoal: unknown = null;
  let placed: Buffer = Buffer.alloc(0);
  let approvedYears = NO_APPROVALS;
  const placement = (goalId: unknown) => {
    if (goalId !== lastGoal) {
      const where = placements.get(goalId as string);
      // The placements are read in the rows' own snapshot (statusCsvQuery, csvPlacementQuery).
      if (where === undefined) throw new Error(`status CSV: no placement for goal ${String(goalId)}`);
      lastGoal = goalId;
      placed = where.cells;
      approvedYears = approvals.get(where.planId) ?? NO_APPROVALS;
    }
    return placed;
  };
  // The status code and its label (issue 15), both cells encoded once.
  const labels = LABELS[lang].verdicts;
  const status = Object.fromEntries(
    Object.entries(labels).map(([k, label]) => [k, `${k}${sep}${csvText(label, code)}`]),
  ) as Record<keyof typeof labels, string>;
  const line = (r: unknown[]) => {
    const plan = r[CSV_ROW.planValue] as string | null;
    const fact = r[CSV_ROW.fact] as string | null;
    const ratingSize = r[CSV_ROW.ratingSize] as string | null;
    const previousFact = r[CSV_ROW.previousFact] as string | null;
    const input = {
      valueType: r[CSV_ROW.valueType] as ValueType,
      betterWhen: r[CSV_ROW.betterWhen] as BetterWhen,
      plan,
      fact,
      ratingSize,
      previousFact,
      previousRatingSize: r[CSV_ROW.previousRatingSize] as string | null,
      score: r[CSV_ROW.score] as string | null,
      previousScore: r[CSV_ROW.previousScore] as string | null,
      year: Number(r[CSV_ROW.year]),
    };
    const d = computeIndicatorStatus(input);
    placement(r[CSV_ROW.goalId]); // the row's goal (head has its cells): its approved years
    const approvalMethodVersionId = approvedYears.get(input.year);
    const scoring = scorer({
      approved: approvalMethodVersionId !== undefined,
      planMethodId: r[CSV_ROW.planMethodId] as string | null,
      approvalMethodVersionId: approvalMethodVersionId ?? null,
    });
    const m = evaluateWith(scoring.rules, input, d, scoring.now);
    return (
      `${r[CSV_ROW.indicator] as string}${sep}${text(r[CSV_ROW.name])}${sep}${text(r[CSV_ROW.unit])}${sep}` +
      `${r[CSV_ROW.valueType] as string}${sep}${r[CSV_ROW.betterWhen] as string}${sep}${r[CSV_ROW.year] as string}${sep}${decimalCell(plan)}${sep}${decimalCell(fact)}${sep}${ratingSize ?? ''}${sep}` +
      `${decimalCell(r[CSV_ROW.score] as string | null)}${sep}${status[d.status]}${sep}${numberCell(d.achievementPercent)}${sep}` +
      `${numberCell(d.deviation)}${sep}${decimalCell(previousFact)}${sep}${d.trend ?? ''}${sep}${numberCell(d.percentile)}${sep}` +
      `${numberCell(d.previousPercentile)}${sep}` +
      // Evaluation methods (issue 18): weight, degree, band code, gap, scoreTrend, overdue.
      `${decimalCell(r[CSV_ROW.weight] as string | null)}${sep}${numberCell(m.degree)}${sep}${m.band ? text(m.band.code) : ''}${sep}` +
      `${numberCell(m.gap)}${sep}${m.scoreTrend ?? ''}${sep}${m.overdue}`
    );
  };
  return { head: (r) => placement(r[CSV_ROW.goalId]), line };
}

/** The status CSV's rows and what they are written against: the placements and the approved plan years. */
export interface StatusCsvSource {
  batches: AsyncIterable<unknown[][]>;
  placements: Placements;
  approvals: Approvals;
}

/**
 * The rows of statusCsvQuery through a server-side cursor, `fetchRows` per FETCH, raw; the
 * placements (csvPlacementQuery) and approvals (csvApprovalsQuery) are read first on the cursor's
 * connection, in its snapshot.
 */
export function statusCsvSource(
  pool: Pool,
  filter: StatusFilter,
  { sep, lang }: Pick<StatusCsvFormat, 'sep' | 'lang'>,
  fetchRows: number,
): StatusCsvSource {
  const q = statusCsvQuery(filter, lang, sep);
  const where = csvPlacementQuery(filter, lang, sep);
  const approved = csvApprovalsQuery(filter);
  const placements = new Map<string, Placement>();
  const approvals = new Map<string, ReadonlyMap<number, string | null>>();
  const batches = cursorBatches(pool, q.text, q.values, fetchRows, {
    raw: true,
    before: async (query) => {
      for (const [goal, placement] of placementCells(await query(where.text, where.values), sep))
        placements.set(goal, placement);
      for (const [plan, years] of approvalsOf(await query(approved.text, approved.values))) approvals.set(plan, years);
    },
  });
  return { batches, placements, approvals };
}

/** Every feed row matching the filters as CSV, `headers` first, from statusCsvSource. */
export function statusCsvStream(
  source: StatusCsvSource,
  format: StatusCsvFormat,
  headers: readonly string[],
  scorer: Scorer = defaultScorer,
): Readable {
  const { head, line } = statusCsvLine(format, source, scorer);
  return csvLineStream(csvHeader(headers, format.sep), source.batches, line, head);
}
