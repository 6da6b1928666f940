/**
 * Roll-ups under an evaluation method: today's counts and achievementRate (summarize() in
 * compute.ts, with pending values past the method's deadline counted as not achieved), plus the
 * share of all indicators with a target, the mean degree, the weighted mean degree and the
 * method's own score. Means are recomputed from the indicators, never averaged from sub-means.
 */
import type { AchievementStatus, Summary } from './compute.js';
import { summarize } from './compute.js';
import type { EvaluationRules, RollUp } from './methods.js';

export interface RollUpItem {
  status: AchievementStatus;
  /** Capped degree, null where there is none. */
  degree: number | null;
  /** Indicator weight (>= 0; 1 when none is stored). */
  weight: number;
  overdue: boolean;
  /** From the forecast: false = the final-year target is at risk; null/undefined = no forecast. */
  onTrack?: boolean | null;
}

export interface MethodSummary extends Summary {
  /** achieved / (every indicator with a target: achieved + notAchieved + pending) x 100; null when none has a target. */
  targetRate: number | null;
  /** Mean of the degrees (x 100, 2 decimals) of indicators with one; overdue pending values count 0. */
  meanDegree: number | null;
  /** The same mean with indicator weights: sum(w x degree) / sum(w); null when the weights sum to 0. */
  weightedDegree: number | null;
  /** The method's roll-up: achievementRate (share), meanDegree (mean) or weightedDegree (weighted). */
  score: number | null;
  /** Pending values past the method's deadline, counted in notAchieved (always 0 under the default). */
  overdue: number;
  /** Indicators whose final-year target is not on track on the current path (only with forecasts). */
  atRisk?: number;
}

// Exact arithmetic: degrees (4 decimals) and weights (up to 4 decimals) as integers in units of
// 1e-4, summed as bigints, so the same indicators always give the same mean whatever the order,
// equal weights give exactly the plain mean, and scaling every weight changes nothing.
const UNITS = 10_000;
const unitsOf = (value: number) => BigInt(Math.round(value * UNITS));
/** numerator / denominator (both >= 0, in the same units) x 100 as a percent, half up to 2 decimals. */
function ratioPercent(numerator: bigint, denominator: bigint, scale: bigint): number | null {
  if (denominator === 0n) return null;
  const n = numerator * scale;
  const hundredths = (2n * n + denominator) / (2n * denominator);
  return Number(hundredths) / 100;
}
// A degree in 1e-4 units is already in hundredths of a percent: scale 1. A count ratio needs x 10,000.
const rateOf = (part: number, whole: number): number | null => ratioPercent(BigInt(part), BigInt(whole), 10_000n);

const pick = (rollUp: RollUp, s: Pick<MethodSummary, 'achievementRate' | 'meanDegree' | 'weightedDegree'>) =>
  rollUp === 'share' ? s.achievementRate : rollUp === 'mean' ? s.meanDegree : s.weightedDegree;

export function summarizeWith(
  rules: EvaluationRules,
  items: readonly RollUpItem[],
  withForecast = false,
): MethodSummary {
  // Overdue only means something under a deadline rule: under "excluded" pending stays pending.
  const deadline = rules.pending.treatment !== 'excluded';
  const isOverdue = (i: RollUpItem) => deadline && i.overdue && i.status === 'pending';
  const counted = summarize(items.map((i) => (isOverdue(i) ? 'not_achieved' : i.status)));
  let degreeSum = 0n;
  let degreeCount = 0n;
  let weightedSum = 0n;
  let weightSum = 0n;
  let overdue = 0;
  let atRisk = 0;
  for (const item of items) {
    if (!(item.weight >= 0)) throw new RangeError(`weights must be >= 0, got ${item.weight}`);
    const late = isOverdue(item);
    if (late) overdue++;
    if (item.onTrack === false) atRisk++;
    const degree = late ? 0 : item.degree;
    if (degree === null) continue;
    const d = unitsOf(degree);
    const w = unitsOf(item.weight);
    degreeSum += d;
    degreeCount++;
    weightedSum += w * d;
    weightSum += w;
  }
  const means = {
    achievementRate: counted.achievementRate,
    meanDegree: ratioPercent(degreeSum, degreeCount, 1n),
    weightedDegree: ratioPercent(weightedSum, weightSum, 1n),
  };
  return {
    ...counted,
    targetRate: rateOf(counted.achieved, counted.total - counted.noTarget),
    meanDegree: means.meanDegree,
    weightedDegree: means.weightedDegree,
    score: pick(rules.rollUp, means),
    overdue,
    ...(withForecast ? { atRisk } : {}),
  };
}
