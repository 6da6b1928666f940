/**
 * Bands: ordered thresholds on the (capped) degree with a code and kk/ru/en labels, e.g.
 * high >= 1, medium >= 0.9, low >= 0. First match wins; with the last band at 0 every degree
 * (never negative) has exactly one band. validateBands() is what the API checks before storing.
 */
import type { Label } from './methods.js';

export interface Band {
  code: string;
  /** The lowest degree (a fraction) in the band. */
  min: number;
  label: Label;
}

export interface BandMatch {
  code: string;
  label: Label;
}

/** The first band whose min <= degree; null without bands or for a degree below every band. */
export function bandOf(bands: readonly Band[], degree: number): BandMatch | null {
  for (const band of bands) if (degree >= band.min) return { code: band.code, label: band.label };
  return null;
}

export interface RuleProblem {
  path: string;
  message: string;
}

/**
 * Problems with a band list: thresholds strictly decreasing (equal or rising ones would overlap
 * or never match), none negative, the last at 0 (so the list is exhaustive), codes unique.
 */
export function validateBands(bands: readonly Band[], at = 'bands'): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const codes = new Set<string>();
  bands.forEach((band, i) => {
    if (!Number.isFinite(band.min) || band.min < 0)
      problems.push({ path: `${at}.${i}.min`, message: 'must be a number >= 0' });
    if (i > 0 && !(band.min < bands[i - 1]!.min)) {
      problems.push({
        path: `${at}.${i}.min`,
        message: `bands must be ordered by min, highest first, without overlaps (${band.min} after ${bands[i - 1]!.min})`,
      });
    }
    if (codes.has(band.code))
      problems.push({ path: `${at}.${i}.code`, message: `duplicate band code ${JSON.stringify(band.code)}` });
    codes.add(band.code);
  });
  const last = bands[bands.length - 1];
  if (last && last.min !== 0)
    problems.push({
      path: `${at}.${bands.length - 1}.min`,
      message: 'the last band must start at 0, so every degree has a band',
    });
  return problems;
}
