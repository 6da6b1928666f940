/**
 * Forecast of a plan's final-year target: a least-squares line through the facts of the years
 * so far, projected to the final year, judged against that year's plan with the indicator's
 * direction. At least three facts, else no projection (with the reason). Sums in decimal.js, so
 * facts on a line project exactly (then rounded half away from zero to 2 decimals).
 */
import { Decimal } from 'decimal.js';
import type { BetterWhen, NumericInput } from './compute.js';
import { deriveStatus, toJsonNumber } from './compute.js';
import type { Label } from './methods.js';

const D = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_HALF_UP });
export const MIN_FORECAST_POINTS = 3;

export interface ForecastPoint {
  year: number;
  fact: NumericInput;
}

export interface Forecast {
  targetYear: number;
  target: number | null;
  /** The line's value in targetYear; null with fewer than 3 facts. */
  projected: number | null;
  /** projected judged against target (fact >= plan or <= plan by direction); null without either. */
  onTrack: boolean | null;
  /** How many facts the line was fitted to. */
  points: number;
  reason: Label;
}

/** Least-squares value at `at` through (x, y); null with fewer than 3 points or one x only. */
export function leastSquaresAt(points: readonly { x: number; y: Decimal }[], at: number): Decimal | null {
  if (points.length < MIN_FORECAST_POINTS) return null;
  const n = points.length;
  const meanX = points.reduce((s, p) => s.plus(p.x), new D(0)).dividedBy(n);
  const meanY = points.reduce((s, p) => s.plus(p.y), new D(0)).dividedBy(n);
  let sxx = new D(0);
  let sxy = new D(0);
  for (const p of points) {
    const dx = new D(p.x).minus(meanX);
    sxx = sxx.plus(dx.times(dx));
    sxy = sxy.plus(dx.times(p.y.minus(meanY)));
  }
  if (sxx.isZero()) return null;
  return meanY.plus(sxy.dividedBy(sxx).times(new D(at).minus(meanX)));
}

const fmt = (n: number | null) => (n === null ? '-' : String(n));

/**
 * The forecast for one indicator: facts of years up to `asOfYear` (later ones are ignored, so a
 * past year's answer does not change), the plan of `targetYear`.
 */
export function forecastTarget(
  facts: readonly ForecastPoint[],
  asOfYear: number,
  targetYear: number,
  targetPlan: NumericInput,
  betterWhen: BetterWhen,
): Forecast {
  const target = toJsonNumber(targetPlan);
  const points: { x: number; y: Decimal }[] = [];
  for (const p of facts) {
    if (p.year > asOfYear) continue;
    const y = toJsonNumber(p.fact);
    if (y === null) continue;
    points.push({ x: p.year, y: new D(typeof p.fact === 'string' ? p.fact.trim() : y) });
  }
  const base = { targetYear, target, points: points.length };
  if (target === null) {
    return {
      ...base,
      projected: null,
      onTrack: null,
      reason: {
        kk: `${targetYear} жылға жоспар жоқ`,
        ru: `Нет плана на ${targetYear} год`,
        en: `No target for ${targetYear}`,
      },
    };
  }
  const value = leastSquaresAt(points, targetYear);
  if (value === null) {
    const n = points.length;
    return {
      ...base,
      projected: null,
      onTrack: null,
      reason: {
        kk: `Болжам жоқ: кемінде 3 жылдың фактісі керек, бар болғаны ${n}`,
        ru: `Прогноза нет: нужны факты не менее чем за 3 года, есть ${n}`,
        en: `No forecast: at least 3 years of facts are needed, ${n} available`,
      },
    };
  }
  const projected = toJsonNumber(value.toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed());
  // Judged at 20 decimals: a least-squares line through facts can land exactly on the target in exact
  // arithmetic yet a 60-digit division leaves 3.4999...; the verdict must not flip on that residue.
  const onTrack =
    deriveStatus(targetPlan, value.toDecimalPlaces(20, Decimal.ROUND_HALF_UP).toFixed(), betterWhen) === 'achieved';
  const p = fmt(projected);
  const t = fmt(target);
  return {
    ...base,
    projected,
    onTrack,
    reason: onTrack
      ? {
          kk: `Қазіргі қарқынмен ${targetYear} жылы ${p} күтіледі, жоспар ${t}: мақсатқа жетеді`,
          ru: `При текущей динамике в ${targetYear} году ожидается ${p} при плане ${t}: цель будет достигнута`,
          en: `On the current path ${p} is expected in ${targetYear} against a target of ${t}: on track`,
        }
      : {
          kk: `Қазіргі қарқынмен ${targetYear} жылы ${p} күтіледі, жоспар ${t}: мақсатқа жетпеу қаупі бар`,
          ru: `При текущей динамике в ${targetYear} году ожидается ${p} при плане ${t}: есть риск недостижения`,
          en: `On the current path ${p} is expected in ${targetYear} against a target of ${t}: at risk`,
        },
  };
}
