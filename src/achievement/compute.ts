/**
 * Achievement status of target indicators (api-contract.md, "Achievement status").
 * Pure functions: no I/O, no clock, no globals mutated. Plan/fact values arrive as PostgreSQL
 * `numeric` strings (or JS numbers) and are compared and computed as exact decimals.
 */
// Named, not default: under NodeNext the CJS-typed decimal.d.ts makes the default import the
// module namespace ("Cannot use namespace 'Decimal' as a type"); decimal.mjs exports both.
import { Decimal } from 'decimal.js';

export type BetterWhen = 'higher' | 'lower';
export type ValueType = 'percent' | 'number' | 'rank';
export type AchievementStatus = 'achieved' | 'not_achieved' | 'pending' | 'no_target';
export type Trend = 'improved' | 'worsened' | 'unchanged';

/** A decimal string as PostgreSQL prints `numeric` ("1.30", "-0.5"), a JS number, or missing. */
export type NumericInput = string | number | null | undefined;

// Plain decimals, at most MAX_LENGTH characters, exponent at most 3 digits (a double's range).
// Rejects what decimal.js would also accept ("0x1F", "0b1"), and bounds every accepted value to
// a few thousand digits, so PRECISION below keeps plus/minus/times exact. The API stores JSON
// numbers (doubles), so real values are far smaller.
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?$/;
const MAX_LENGTH = 1000;
const PRECISION = 10_000;
// A private constructor, so nobody's global Decimal.set() can change our results. decimal.js
// only pays for digits a value has, so the high precision is free for plus/minus/times/compare;
// it is still finite so an accidental dividedBy() cannot try to print a billion digits. The only
// rounding anywhere is the explicit 2-decimal step in round2().
const Exact = Decimal.clone({ precision: PRECISION, rounding: Decimal.ROUND_HALF_UP });
// PostgreSQL `numeric` can store these. They are not values, so they count as missing: a
// corrupt row must not crash a whole status report or leak NaN into JSON.
const NOT_FINITE = /^[+-]?(?:nan|inf|infinity)$/i;

/**
 * One validated input value. Most real values are short decimals ("51.30", "131"): for them
 * `fixed` holds the same value as an integer mantissa and a decimal scale, and the rules below
 * work on doubles that hold those integers exactly (a quarter of the CPU of a status request went
 * to decimal.js before; docs/benchmarks.md). Anything longer, any exponent, or any intermediate
 * beyond 2^53 takes the decimal.js path, so every answer stays exact; the property tests check
 * both paths against each other.
 */
class Operand {
  #exact: Decimal | undefined;

  constructor(
    private readonly source: string | number,
    readonly fixed: Fixed | null,
  ) {}

  get exact(): Decimal {
    return (this.#exact ??= decimalOf(this.source));
  }
}

/**
 * How many input values went to decimal.js: the tests read it to check that short decimals never
 * do (a fallback gives the same answers, only slower, so no answer shows it) and how often their
 * generated values reach the fixed-point path. Counted on the slow path only; nothing reads it here.
 */
export const decimalPathUses = { operands: 0 };

function decimalOf(source: string | number): Decimal {
  decimalPathUses.operands++;
  return new Exact(source);
}

/** value = m x 10^-k exactly, with |m| < 10^15 (so m is an exact double), and n = that value as a double. */
interface Fixed {
  m: number;
  k: number;
  n: number;
}

// Up to 15 significant digits: distinct such decimals are distinct doubles in the same order
// (DBL_DIG), so comparing `n` is exact.
const PLAIN = /^([+-]?)(\d+)(?:\.(\d+))?$/;
const MAX_FIXED_DIGITS = 15;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
// Powers of ten parsed from text (exact up to 1e22; `10 ** i` is not guaranteed to be).
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

function fixedOf(text: string, n: number): Fixed | null {
  const match = PLAIN.exec(text);
  if (!match) return null;
  const int = match[2]!;
  const frac = match[3] ?? '';
  if (frac.length >= POW10.length) return null;
  let first = 0;
  const digits = int + frac;
  // Stryker disable next-line ConditionalExpression,EqualityOperator,ArithmeticOperator: where the zero-skipping stops matters only for all-zero digits, 0 either way (docs/testing.md)
  while (first < digits.length - 1 && digits.charCodeAt(first) === 48) first++;
  if (digits.length - first > MAX_FIXED_DIGITS) return null;
  const magnitude = Number(digits);
  // Stryker disable next-line ConditionalExpression: "-0" as m = -0 or 0 gives the same answers (compare uses n; -0 is not negative)
  const m = match[1] === '-' && magnitude !== 0 ? -magnitude : magnitude;
  return { m, k: frac.length, n: n === 0 ? 0 : n };
}

function operand(value: NumericInput, fast: boolean): Operand | null {
  if (value === null || value === undefined) return null;
  // Numbers are taken at their shortest round-trip spelling, so 1.3 equals "1.30" exactly.
  // Stryker disable next-line ConditionalExpression,StringLiteral,BlockStatement: a shortcut; String(value) of a finite number takes the same path below
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null;
    return new Operand(value, fast ? fixedOf(String(value), value) : null);
  }
  const text = String(value).trim();
  if (text.length <= MAX_LENGTH && DECIMAL.test(text))
    return new Operand(text, fast ? fixedOf(text, Number(text)) : null);
  if (NOT_FINITE.test(text)) return null;
  // Garbage such as "6,3" (a comma decimal that skipped import normalisation) is a caller bug:
  // silently calling it "missing" would report a false pending/no_target.
  throw new TypeError(`not a decimal number: ${JSON.stringify(value)}`);
}

function toNumber(value: Decimal | null): number | null {
  // Stryker disable next-line ConditionalExpression: a type guard; toNumber is only given Decimals
  if (value === null) return null;
  const n = value.toNumber();
  if (!Number.isFinite(n)) return null; // beyond ~1.8e308: JSON cannot carry it, so "undefined"
  return n === 0 ? 0 : n; // -0 (e.g. deviation -0.001 rounded) would print as 0 anyway; keep it clean
}

function operandToNumber(value: Operand | null): number | null {
  if (value === null) return null;
  return value.fixed ? value.fixed.n : toNumber(value.exact);
}

/** Decimal string or number -> JS number for JSON; null when missing or not finite as a double. */
export function toJsonNumber(value: NumericInput): number | null {
  return operandToNumber(operand(value, true));
}

const round2 = (value: Decimal): Decimal => value.toDecimalPlaces(2, Decimal.ROUND_HALF_UP);

/** Both values as integers at a common scale k, when both stay exact doubles. */
function aligned(a: Fixed, b: Fixed): [number, number, number] | null {
  const k = Math.max(a.k, b.k);
  const x = a.m * POW10[k - a.k]!;
  const y = b.m * POW10[k - b.k]!;
  // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator: redundant by design; each caller bounds its own intermediate (docs/testing.md)
  return Math.abs(x) <= MAX_SAFE && Math.abs(y) <= MAX_SAFE ? [x, y, k] : null;
}

/**
 * x / y x 100 for integers 0 <= x, 0 < y, rounded half away from zero to 2 decimals, as
 * percentOf() does; undefined when x x 100,000 would not be an exact double.
 */
function integerPercent(x: number, y: number): number | undefined {
  const scaled = x * 100_000;
  // Stryker disable next-line EqualityOperator: x x 100,000 cannot equal 2^53 - 1
  if (scaled > MAX_SAFE) return undefined;
  const thousandths = (scaled - (scaled % y)) / y; // exact: an integer below 2^53
  const dropped = thousandths % 10;
  return ((thousandths - dropped) / 10 + (dropped >= 5 ? 1 : 0)) / 100;
}

/** numerator / denominator x 100, rounded half away from zero to 2 decimals, exactly. */
function percentOf(numerator: Decimal, denominator: Decimal): number | null {
  // Truncate to 3 decimals first: half-away rounding only looks at the first dropped digit, so
  // this is exact even for non-terminating quotients, with no precision to guess.
  const thousandths = numerator.times(100_000).dividedToIntegerBy(denominator);
  return toNumber(round2(thousandths.times('0.001')));
}

function higherIsBetter(betterWhen: BetterWhen): boolean {
  if (betterWhen === 'higher') return true;
  if (betterWhen === 'lower') return false;
  // Never guess a direction (the unit says nothing: a percentage can be lower-is-better).
  throw new TypeError(`betterWhen must be "higher" or "lower", got ${JSON.stringify(betterWhen)}`);
}

function compare(a: Operand, b: Operand): number {
  if (a.fixed && b.fixed) return a.fixed.n < b.fixed.n ? -1 : a.fixed.n > b.fixed.n ? 1 : 0;
  return a.exact.comparedTo(b.exact);
}

const isNegative = (a: Operand) => (a.fixed ? a.fixed.m < 0 : a.exact.lessThan(0)); // -0 is not negative
const ONE = new Operand(1, { m: 1, k: 0, n: 1 });

/** > 0 when `a` is better than `b`, < 0 when worse, 0 when equal. */
function compareBetter(a: Operand, b: Operand, betterWhen: BetterWhen): number {
  return higherIsBetter(betterWhen) ? compare(a, b) : compare(b, a);
}

function statusOf(p: Operand | null, f: Operand | null, betterWhen: BetterWhen): AchievementStatus {
  if (p === null) return 'no_target';
  if (f === null) return 'pending'; // e.g. a survey result that arrives next May: not a failure
  return compareBetter(f, p, betterWhen) >= 0 ? 'achieved' : 'not_achieved';
}

function achievementPercentOf(p: Operand | null, f: Operand | null, betterWhen: BetterWhen): number | null {
  if (p === null || f === null || isNegative(p) || isNegative(f)) return null;
  const [numerator, denominator] = higherIsBetter(betterWhen) ? [f, p] : [p, f];
  if (numerator.fixed && denominator.fixed) {
    const both = aligned(numerator.fixed, denominator.fixed);
    if (both && both[1] === 0) return null;
    const percent = both ? integerPercent(both[0], both[1]) : undefined;
    if (percent !== undefined) return percent;
  }
  // Stryker disable next-line ConditionalExpression: decimal.js divides by zero into Infinity/NaN, which toNumber also makes null
  if (denominator.exact.isZero()) return null;
  return percentOf(numerator.exact, denominator.exact);
}

function deviationOf(p: Operand | null, f: Operand | null): number | null {
  if (p === null || f === null) return null;
  const both = p.fixed && f.fixed ? aligned(f.fixed, p.fixed) : null;
  if (both) {
    const [x, y, k] = both;
    const difference = x - y; // exact when it stays below 2^53 (checked)
    if (Math.abs(difference) <= MAX_SAFE) {
      // Stryker disable next-line EqualityOperator: k = 2 gives the same result through the rounding branch (unit 1, nothing dropped)
      if (k <= 2) return difference / POW10[k]! || 0;
      const unit = POW10[k - 2]!;
      const magnitude = Math.abs(difference);
      const dropped = magnitude % unit;
      const hundredths = (magnitude - dropped) / unit + (dropped * 2 >= unit ? 1 : 0);
      // Stryker disable next-line EqualityOperator: a difference of 0 gives -0 or 0, and || 0 makes both 0
      return (difference < 0 ? -hundredths : hundredths) / 100 || 0;
    }
  }
  return toNumber(round2(f.exact.minus(p.exact)));
}

function trendOf(prev: Operand | null, f: Operand | null, betterWhen: BetterWhen): Trend | null {
  if (prev === null || f === null) return null;
  const c = compareBetter(f, prev, betterWhen);
  return c > 0 ? 'improved' : c < 0 ? 'worsened' : 'unchanged';
}

function percentileOf(r: Operand | null, n: Operand | null): number | null {
  if (r === null || n === null || compare(n, ONE) <= 0 || compare(r, ONE) < 0 || compare(r, n) > 0) return null;
  const both = r.fixed && n.fixed ? aligned(n.fixed, r.fixed) : null;
  // Stryker disable next-line ConditionalExpression,EqualityOperator: fixedOf keeps k below POW10.length, so this holds whenever both is set
  if (both && both[2] < POW10.length) {
    const [size, rank, k] = both;
    // size > rank >= 1 here, so both differences are exact non-negative integers below 2^53.
    const percent = integerPercent(size - rank, size - POW10[k]!);
    if (percent !== undefined) return percent;
  }
  return percentOf(n.exact.minus(r.exact), n.exact.minus(1));
}

export function deriveStatus(plan: NumericInput, fact: NumericInput, betterWhen: BetterWhen): AchievementStatus {
  return statusOf(operand(plan, true), operand(fact, true), betterWhen);
}

/**
 * fact/plan x 100 (higher is better) or plan/fact x 100 (lower is better).
 * null: a value missing, either negative (a ratio of mixed signs means nothing), a zero divisor
 * (even plan 0 / fact 0, which is achieved but has no meaningful percent), or a result too large
 * for a JS number (e.g. 1e300 against 1e-300).
 */
export function achievementPercent(plan: NumericInput, fact: NumericInput, betterWhen: BetterWhen): number | null {
  return achievementPercentOf(operand(plan, true), operand(fact, true), betterWhen);
}

/** fact - plan, exact, then rounded half away from zero to 2 decimals (-0.005 -> -0.01). */
export function deviation(plan: NumericInput, fact: NumericInput): number | null {
  return deviationOf(operand(plan, true), operand(fact, true));
}

/** Direction of change from the previous year's fact; null without both. */
export function trend(previousFact: NumericInput, fact: NumericInput, betterWhen: BetterWhen): Trend | null {
  return trendOf(operand(previousFact, true), operand(fact, true), betterWhen);
}

/**
 * Share of the rating placed below this rank: 100 = first place, 0 = last. Makes ranks in
 * ratings of different sizes comparable (CPI 2015 rank 123 of 168 vs 2016 rank 131 of 176).
 * null: missing values, a rating of 0 or 1 places (no spread), or a rank outside 1..ratingSize.
 */
export function percentile(rank: NumericInput, ratingSize: NumericInput): number | null {
  return percentileOf(operand(rank, true), operand(ratingSize, true));
}

export interface IndicatorStatusInput {
  betterWhen: BetterWhen;
  valueType: ValueType;
  plan: NumericInput;
  fact: NumericInput;
  ratingSize?: NumericInput;
  /** The same indicator's fact one year earlier. */
  previousFact?: NumericInput;
  previousRatingSize?: NumericInput;
}

export interface IndicatorStatusResult {
  status: AchievementStatus;
  achievementPercent: number | null;
  deviation: number | null;
  trend: Trend | null;
  previousFact: number | null;
  /** Only for valueType "rank". */
  percentile: number | null;
  previousPercentile: number | null;
}

function computeWith(input: IndicatorStatusInput, fast: boolean): IndicatorStatusResult {
  const { betterWhen, valueType } = input;
  const isRank = valueType === 'rank';
  // Each value is validated and parsed once for all the rules below.
  const plan = operand(input.plan, fast);
  const fact = operand(input.fact, fast);
  const previousFact = operand(input.previousFact, fast);
  return {
    // valueType never changes status/percent/deviation/trend: direction comes from betterWhen only.
    status: statusOf(plan, fact, betterWhen),
    achievementPercent: achievementPercentOf(plan, fact, betterWhen),
    deviation: deviationOf(plan, fact),
    trend: trendOf(previousFact, fact, betterWhen),
    previousFact: operandToNumber(previousFact),
    // No fallback to this year's ratingSize: ratings grow (CPI 168 -> 176), so guessing misleads.
    percentile: isRank ? percentileOf(fact, operand(input.ratingSize, fast)) : null,
    previousPercentile: isRank ? percentileOf(previousFact, operand(input.previousRatingSize, fast)) : null,
  };
}

export function computeIndicatorStatus(input: IndicatorStatusInput): IndicatorStatusResult {
  return computeWith(input, true);
}

/** The same rules with decimal.js for every value (no fixed-point path): the tests' reference. */
export function computeIndicatorStatusWithDecimals(input: IndicatorStatusInput): IndicatorStatusResult {
  return computeWith(input, false);
}

export interface Summary {
  total: number;
  achieved: number;
  notAchieved: number;
  pending: number;
  noTarget: number;
  /** achieved / (achieved + notAchieved) x 100; pending and no_target are not yet decided. */
  achievementRate: number | null;
}

type Counts = Omit<Summary, 'achievementRate'>;

function withRate(counts: Counts): Summary {
  const decided = counts.achieved + counts.notAchieved;
  // Nothing decided yet is "unknown", not 0% (which would read as total failure).
  const achievementRate =
    decided === 0
      ? null
      : (integerPercent(counts.achieved, decided) ?? percentOf(decimalOf(counts.achieved), decimalOf(decided)));
  return { ...counts, achievementRate };
}

export function emptySummary(): Summary {
  return { total: 0, achieved: 0, notAchieved: 0, pending: 0, noTarget: 0, achievementRate: null };
}

const COUNTER = {
  achieved: 'achieved',
  not_achieved: 'notAchieved',
  pending: 'pending',
  no_target: 'noTarget',
} as const satisfies Record<AchievementStatus, keyof Counts>;

/** Returns a new summary; the argument is not modified. */
export function addToSummary(summary: Summary, status: AchievementStatus): Summary {
  // Counting an unknown status anywhere would break total == sum of the counts.
  if (!Object.prototype.hasOwnProperty.call(COUNTER, status)) {
    throw new TypeError(`unknown achievement status ${JSON.stringify(status)}`);
  }
  const key = COUNTER[status];
  return withRate({ ...summary, total: summary.total + 1, [key]: summary[key] + 1 });
}

export function summarize(statuses: Iterable<AchievementStatus>): Summary {
  const counts: Counts = { total: 0, achieved: 0, notAchieved: 0, pending: 0, noTarget: 0 };
  for (const status of statuses) {
    if (!Object.prototype.hasOwnProperty.call(COUNTER, status))
      throw new TypeError(`unknown achievement status ${JSON.stringify(status)}`);
    counts.total++;
    counts[COUNTER[status]]++;
  }
  return withRate(counts); // one rate at the end, not one per status
}

/** Goal -> direction -> plan roll-up. The rate is recomputed from counts: averaging rates is wrong. */
export function mergeSummaries(a: Summary, b: Summary): Summary {
  return withRate({
    total: a.total + b.total,
    achieved: a.achieved + b.achieved,
    notAchieved: a.notAchieved + b.notAchieved,
    pending: a.pending + b.pending,
    noTarget: a.noTarget + b.noTarget,
  });
}
