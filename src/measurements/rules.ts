/**
 * Rules a measurement must satisfy given its indicator and plan. Kept apart from the routes
 * so the indicator module can re-check stored measurements when an indicator becomes a rank.
 */
import type { FieldError } from '../shared/errors.js';

/** History and baselines before a plan starts are allowed this many years back (contract). */
export const MEASUREMENT_HISTORY_YEARS = 10;

export function allowedYears(plan: { startYear: number; endYear: number }) {
  return { from: plan.startYear - MEASUREMENT_HISTORY_YEARS, to: plan.endYear };
}

interface MeasurementValues {
  plan: number | null;
  fact: number | null;
  ratingSize?: number | null;
  score?: number | null;
}

export function measurementProblems(valueType: string, m: MeasurementValues, prefix = 'body'): FieldError[] {
  const problems: FieldError[] = [];
  if (valueType === 'rank') {
    for (const field of ['plan', 'fact'] as const) {
      const v = m[field];
      if (v !== null && (!Number.isInteger(v) || v < 1)) {
        problems.push({ path: `${prefix}.${field}`, message: 'a rank is a whole number >= 1' });
      }
    }
    const size = m.ratingSize;
    if (size !== null && size !== undefined) {
      for (const field of ['plan', 'fact'] as const) {
        const v = m[field];
        if (v !== null && Number.isInteger(v) && v > size) {
          problems.push({
            path: `${prefix}.ratingSize`,
            message: `ratingSize (${size}) must be >= the ${field} rank (${v})`,
          });
        }
      }
    }
  } else {
    if (m.ratingSize !== null && m.ratingSize !== undefined) {
      problems.push({ path: `${prefix}.ratingSize`, message: 'ratingSize applies to rank indicators only' });
    }
    if (m.score !== null && m.score !== undefined) {
      problems.push({
        path: `${prefix}.score`,
        message: "score (the rating's own score) applies to rank indicators only",
      });
    }
  }
  return problems;
}
