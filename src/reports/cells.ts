/**
 * Cell texts computed from the derived status, the same in every format: the fact with a rank's
 * details ("131 (176 елдің ішінде; 29 балл)"), the previous year's fact and the trend, and the note's
 * text as lines of styled runs.
 */
import type { Lang } from '../shared/lang.js';
import type { IndicatorStatus } from '../status/schemas.js';
import type { Seg } from './inline.js';
import { inlineSegs } from './inline.js';
import { LABELS } from './labels.js';
import type { Txt } from './text.js';
import { fallbackMark, formatNumber, lines } from './text.js';

const counted = (n: number | null, lang: Lang) => (n === null ? null : { n, text: formatNumber(n, lang, '') });

/** "176 елдің ішінде; 29 балл" for a rank with a stored rating size or score; null otherwise. */
export function rankDetails(s: IndicatorStatus, lang: Lang): string | null {
  if (s.valueType !== 'rank' || s.fact === null) return null;
  const size = counted(s.ratingSize, lang);
  const score = counted(s.score, lang);
  return size || score ? LABELS[lang].rankDetails(size, score) : null;
}

export const valueText = (n: number | null, lang: Lang) => formatNumber(n, lang, LABELS[lang].missingValue);

/** The fact as the fact cell prints it: the number, then a rank's details in parentheses. */
export function factText(s: IndicatorStatus, lang: Lang): string {
  const details = rankDetails(s, lang);
  return details ? `${valueText(s.fact, lang)} (${details})` : valueText(s.fact, lang);
}

export const trendText = (s: IndicatorStatus, lang: Lang) => (s.trend ? LABELS[lang].trends[s.trend] : LABELS[lang].missingValue);

/** Note text as lines of styled runs (Markdown emphasis), the fallback mark before the first. */
export function styledLines(t: Txt | null, base: Omit<Seg, 'text'> = {}): Seg[][] {
  if (!t) return [];
  return lines(t.text).map((line, i) => [
    ...(i === 0 && t.fallback ? [{ text: `${fallbackMark(t)} `, italic: true }] : []),
    ...inlineSegs(line, base),
  ]);
}
