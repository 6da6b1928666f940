/**
 * Which years a plan reports on. The annual implementation report, its risks (section 1) and its
 * analytical note (section 3) exist for the plan's own years only: unlike measurements, which also
 * take up to ten years of history before the plan starts, there is nothing to report before it.
 */
import type { FieldError } from '../shared/errors.js';

export function reportYears(plan: { startYear: number; endYear: number }) {
  return { from: plan.startYear, to: plan.endYear };
}

/** A field error when `year` is outside the plan's years, for a 400 listing it. */
export function reportYearProblem(plan: { startYear: number; endYear: number }, year: number, path: string): FieldError | undefined {
  const { from, to } = reportYears(plan);
  if (year >= from && year <= to) return undefined;
  return { path, message: `the year must lie in ${from}..${to}, the years of the plan` };
}
