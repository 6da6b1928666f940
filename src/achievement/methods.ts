/**
 * Evaluation methods (issue 18): how a plan turns plan/fact pairs into a degree of achievement,
 * a band and roll-ups. Pure rules: no I/O, no clock (the caller passes "now"). The built-in
 * DEFAULT_RULES are exactly today's rule (compute.ts): degree uncapped, no bands, roll-up by the
 * share achieved, pending values excluded; tests/unit/methods.property.test.ts holds that equal.
 */
import type { BetterWhen, IndicatorStatusResult, NumericInput, ValueType } from './compute.js';
import { achievementPercent, computeIndicatorStatus, deviation, trend } from './compute.js';
import type { Trend } from './compute.js';
import type { Band, BandMatch } from './bands.js';
import { bandOf } from './bands.js';

/** A label in the three languages of the contract (at least one given). */
export interface Label {
  kk?: string;
  ru?: string;
  en?: string;
}

export type RankDegree = 'places' | 'percentile';
export type RollUp = 'share' | 'mean' | 'weighted';
export type PendingTreatment =
  | { treatment: 'excluded' }
  /** A pending value counts as not achieved once `deadline` (MM-DD) of the year after the evaluated year has passed. */
  | { treatment: 'not_achieved_after'; deadline: string };

export interface EvaluationRules {
  /** Ranks: plan/fact in places (as today), or the share of the rating below the rank, fact over plan. */
  rankDegree: RankDegree;
  /** The degree is taken as at most this (e.g. 1: over-achievement cannot hide a miss); null = uncapped. */
  cap: number | null;
  /** Ordered by `min`, highest first; the first band whose min <= degree matches; the last has min 0. Empty = no bands. */
  bands: Band[];
  rollUp: RollUp;
  pending: PendingTreatment;
}

/** Today's rule: what a plan without an evaluation method is scored by. */
export const DEFAULT_RULES: EvaluationRules = Object.freeze({
  rankDegree: 'places',
  cap: null,
  bands: [],
  rollUp: 'share',
  pending: { treatment: 'excluded' },
}) as EvaluationRules;

const DEGREE_DECIMALS = 4;
const roundDegree = (value: number): number | null => {
  // Stryker disable next-line ConditionalExpression: toFixed of Infinity/NaN reads back non-finite, which the next line also turns into null
  if (!Number.isFinite(value)) return null;
  const rounded = Number(value.toFixed(DEGREE_DECIMALS));
  return Number.isFinite(rounded) ? rounded || 0 : null;
};

const num = (value: NumericInput): number | null => {
  // Stryker disable next-line ConditionalExpression,LogicalOperator: Number(null) is 0 and Number(undefined) NaN, which rawDegree's range check refuses the same way
  if (value === null || value === undefined) return null;
  // Stryker disable next-line ConditionalExpression,StringLiteral: a shortcut; Number(n) of a number is n
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : null;
};

/**
 * The degree of achievement before the cap, as a fraction (1 = exactly as planned).
 * Ratios (and ranks by places): achievementPercent / 100, the same exact rule, so null in the same
 * cases (a missing or negative value, a zero divisor). Ranks by percentile: (size - fact) / (size - plan),
 * the fact's share of the rating below it over the plan's, with this year's rating size; null
 * without a size of 2 or more, or a rank outside 1..size (plan at last place: no share to divide by).
 */
export function rawDegree(
  input: {
    valueType: ValueType;
    betterWhen: BetterWhen;
    plan: NumericInput;
    fact: NumericInput;
    ratingSize?: NumericInput;
  },
  rankDegree: RankDegree,
): number | null {
  if (input.valueType === 'rank' && rankDegree === 'percentile') {
    const size = num(input.ratingSize);
    const p = num(input.plan);
    const f = num(input.fact);
    // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator: a type guard the next lines imply (null compares as 0, which p < 1 and f < 1 refuse; size <= 1 leaves no p >= 1 below it)
    if (size === null || p === null || f === null || size <= 1) return null;
    if (p < 1 || f < 1 || f > size) return null;
    // Stryker disable next-line EqualityOperator: at p = size the division by zero gives Infinity or NaN, which roundDegree turns into null
    if (p >= size) return null;
    return roundDegree((size - f) / (size - p));
  }
  const percent = achievementPercent(input.plan, input.fact, input.betterWhen);
  return percent === null ? null : roundDegree(percent / 100);
}

/** The degree with the method's cap applied; a negative cap is refused (validation says 400 before this). */
export function capDegree(degree: number | null, cap: number | null): number | null {
  if (degree === null || cap === null) return degree;
  if (!(cap >= 0)) throw new RangeError(`cap must be >= 0, got ${cap}`);
  return Math.min(degree, cap);
}

/** Direction-aware gap: positive = better than planned, in the indicator's unit (2 decimals); deviation with the sign of "better". */
export function gapOf(plan: NumericInput, fact: NumericInput, betterWhen: BetterWhen): number | null {
  if (betterWhen === 'higher') return deviation(plan, fact);
  if (betterWhen === 'lower') return deviation(fact, plan);
  throw new TypeError(`betterWhen must be "higher" or "lower", got ${JSON.stringify(betterWhen)}`);
}

/**
 * For ranks that come with a score (the CPI's points), the score's own trend, higher is better:
 * CPI 2016 fell 123 -> 131 in place while its score rose 28 -> 29. null for other value types or without both scores.
 */
export function scoreTrendOf(valueType: ValueType, previousScore: NumericInput, score: NumericInput): Trend | null {
  if (valueType !== 'rank') return null;
  return trend(previousScore, score, 'higher');
}

/** Whether a pending value of `year` counts as not achieved at `now` under the method. */
export function isOverdue(pending: PendingTreatment, year: number, now: Date): boolean {
  if (pending.treatment === 'excluded') return false;
  const match = /^(\d{2})-(\d{2})$/.exec(pending.deadline);
  if (!match) throw new RangeError(`deadline must be MM-DD, got ${JSON.stringify(pending.deadline)}`);
  // The deadline day itself still counts as in time: overdue from the next day (UTC).
  const end = Date.UTC(year + 1, Number(match[1]) - 1, Number(match[2]) + 1);
  return now.getTime() >= end;
}

export interface EvaluationInput {
  valueType: ValueType;
  betterWhen: BetterWhen;
  plan: NumericInput;
  fact: NumericInput;
  ratingSize?: NumericInput;
  previousFact?: NumericInput;
  previousRatingSize?: NumericInput;
  score?: NumericInput;
  previousScore?: NumericInput;
  year: number;
}

export interface MethodResult {
  /** The degree after the cap (a fraction); null where the formula has no value. */
  degree: number | null;
  band: BandMatch | null;
  gap: number | null;
  scoreTrend: Trend | null;
  /** Pending past the method's deadline: counted as not achieved in roll-ups. */
  overdue: boolean;
}

/** What the method adds to today's answer for one indicator and year. */
export function evaluateWith(
  rules: EvaluationRules,
  input: EvaluationInput,
  base: IndicatorStatusResult,
  now: Date,
): MethodResult {
  // The ratio and the gap reuse today's exact results (the same rules as rawDegree/gapOf, computed once):
  // rounding half away from zero is symmetric, so -deviation is exactly plan - fact rounded.
  // Stryker disable next-line ConditionalExpression,LogicalOperator: only picks between two ways to the same number; rawDegree of a non-percentile input is achievementPercent / 100 rounded
  const ratio = !(input.valueType === 'rank' && rules.rankDegree === 'percentile');
  const raw = ratio
    ? base.achievementPercent === null
      ? null
      : roundDegree(base.achievementPercent / 100)
    : rawDegree(input, rules.rankDegree);
  const degree = capDegree(raw, rules.cap);
  const gap = base.deviation === null ? null : input.betterWhen === 'higher' ? base.deviation : -base.deviation || 0;
  return {
    degree,
    band: degree === null ? null : bandOf(rules.bands, degree),
    gap,
    scoreTrend: scoreTrendOf(input.valueType, input.previousScore, input.score),
    overdue: base.status === 'pending' && isOverdue(rules.pending, input.year, now),
  };
}

/** Today's result and the method's additions together. */
export function evaluateIndicator(
  rules: EvaluationRules,
  input: EvaluationInput,
  now: Date,
): IndicatorStatusResult & MethodResult {
  const base = computeIndicatorStatus(input);
  return { ...base, ...evaluateWith(rules, input, base, now) };
}
