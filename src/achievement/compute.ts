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

function parse(value: NumericInput): Decimal | null {
  if (value === null || value === undefined) return null;
  // Numbers are taken at their shortest round-trip spelling, so 1.3 equals "1.30" exactly.
  if (typeof value === 'number') return Number.isFinite(value) ? new Exact(value) : null;
  const text = String(value).trim();
  if (text.length <= MAX_LENGTH && DECIMAL.test(text)) return new Exact(text);
  if (NOT_FINITE.test(text)) return null;
  // Garbage such as "6,3" (a comma decimal that skipped import normalisation) is a caller bug:
  // silently calling it "missing" would report a false pending/no_target.
  throw new TypeError(`not a decimal number: ${JSON.stringify(value)}`);
}

function toNumber(value: Decimal | null): number | null {
  if (value === null) return null;
  const n = value.toNumber();
  if (!Number.isFinite(n)) return null; // beyond ~1.8e308: JSON cannot carry it, so "undefined"
  return n === 0 ? 0 : n; // -0 (e.g. deviation -0.001 rounded) would print as 0 anyway; keep it clean
}

/** Decimal string or number -> JS number for JSON; null when missing or not finite as a double. */
export function toJsonNumber(value: NumericInput): number | null {
  return toNumber(parse(value));
}

const round2 = (value: Decimal): Decimal => value.toDecimalPlaces(2, Decimal.ROUND_HALF_UP);

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

/** > 0 when `a` is better than `b`, < 0 when worse, 0 when equal. */
function compareBetter(a: Decimal, b: Decimal, betterWhen: BetterWhen): number {
  return higherIsBetter(betterWhen) ? a.comparedTo(b) : b.comparedTo(a);
}

export function deriveStatus(plan: NumericInput, fact: NumericInput, betterWhen: BetterWhen): AchievementStatus {
  const p = parse(plan);
  if (p === null) return 'no_target';
  const f = parse(fact);
  if (f === null) return 'pending'; // e.g. a survey result that arrives next May: not a failure
  return compareBetter(f, p, betterWhen) >= 0 ? 'achieved' : 'not_achieved';
}

/**
 * fact/plan x 100 (higher is better) or plan/fact x 100 (lower is better).
 * null: a value missing, either negative (a ratio of mixed signs means nothing), a zero divisor
 * (even plan 0 / fact 0, which is achieved but has no meaningful percent), or a result too large
 * for a JS number (e.g. 1e300 against 1e-300).
 */
export function achievementPercent(plan: NumericInput, fact: NumericInput, betterWhen: BetterWhen): number | null {
  const p = parse(plan);
  const f = parse(fact);
  if (p === null || f === null || p.lessThan(0) || f.lessThan(0)) return null; // -0 is not negative
  const [numerator, denominator] = higherIsBetter(betterWhen) ? [f, p] : [p, f];
  if (denominator.isZero()) return null;
  return percentOf(numerator, denominator);
}

/** fact - plan, exact, then rounded half away from zero to 2 decimals (-0.005 -> -0.01). */
export function deviation(plan: NumericInput, fact: NumericInput): number | null {
  const p = parse(plan);
  const f = parse(fact);
  if (p === null || f === null) return null;
  return toNumber(round2(f.minus(p)));
}

/** Direction of change from the previous year's fact; null without both. */
export function trend(previousFact: NumericInput, fact: NumericInput, betterWhen: BetterWhen): Trend | null {
  const prev = parse(previousFact);
  const f = parse(fact);
  if (prev === null || f === null) return null;
  const c = compareBetter(f, prev, betterWhen);
  return c > 0 ? 'improved' : c < 0 ? 'worsened' : 'unchanged';
}

/**
 * Share of the rating placed below this rank: 100 = first place, 0 = last. Makes ranks in
 * ratings of different sizes comparable (CPI 2015 rank 123 of 168 vs 2016 rank 131 of 176).
 * null: missing values, a rating of 0 or 1 places (no spread), or a rank outside 1..ratingSize.
 */
export function percentile(rank: NumericInput, ratingSize: NumericInput): number | null {
  const r = parse(rank);
  const n = parse(ratingSize);
  if (r === null || n === null || n.lessThanOrEqualTo(1) || r.lessThan(1) || r.greaterThan(n)) return null;
  return percentOf(n.minus(r), n.minus(1));
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

export function computeIndicatorStatus(input: IndicatorStatusInput): IndicatorStatusResult {
  const { betterWhen, valueType, plan, fact } = input;
  const isRank = valueType === 'rank';
  return {
    // valueType never changes status/percent/deviation/trend: direction comes from betterWhen only.
    status: deriveStatus(plan, fact, betterWhen),
    achievementPercent: achievementPercent(plan, fact, betterWhen),
    deviation: deviation(plan, fact),
    trend: trend(input.previousFact, fact, betterWhen),
    previousFact: toJsonNumber(input.previousFact),
    // No fallback to this year's ratingSize: ratings grow (CPI 168 -> 176), so guessing misleads.
    percentile: isRank ? percentile(fact, input.ratingSize) : null,
    previousPercentile: isRank ? percentile(input.previousFact, input.previousRatingSize) : null,
  };
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
  const achievementRate = decided === 0 ? null : percentOf(new Exact(counts.achieved), new Exact(decided));
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
  let summary = emptySummary();
  for (const status of statuses) summary = addToSummary(summary, status);
  return summary;
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
