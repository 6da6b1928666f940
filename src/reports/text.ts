/**
 * Localized text resolved for a report language, remembering where it came from: text missing in
 * the chosen language falls back (kk, ru, en, as everywhere in the API) and is marked, "[ru] ..."
 * in documents and listed in `fallbacks` in JSON.
 */
import type { LocalizedTextColumn } from '../db/schema.js';
import type { Lang } from '../shared/lang.js';

export interface Txt {
  text: string;
  /** The language the text is in. */
  lang: Lang;
  /** true when `lang` is not the one the report was asked in. */
  fallback: boolean;
}

const ORDER: Lang[] = ['kk', 'ru', 'en'];

export function resolveTxt(value: LocalizedTextColumn | null | undefined, lang: Lang): Txt | null {
  if (!value) return null;
  const wanted = value[lang];
  if (typeof wanted === 'string' && wanted.trim() !== '') return { text: wanted, lang, fallback: false };
  for (const other of ORDER) {
    const text = value[other];
    if (typeof text === 'string' && text.trim() !== '') return { text, lang: other, fallback: true };
  }
  return null;
}

/** The marker documents put before fallback text. */
export const fallbackMark = (t: Txt) => `[${t.lang}]`;

/** Plain text for documents without markup of their own (CSV, XLSX cells): "[ru] текст" on fallback. */
export function plain(t: Txt | null, missing = ''): string {
  if (!t) return missing;
  return t.fallback ? `${fallbackMark(t)} ${t.text}` : t.text;
}

/** Lines of a multi-line text (the data separates paragraphs with "\n"); blank lines dropped. */
export function lines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

/** A number as the report prints it: decimal comma in Kazakh and Russian, point in English; no grouping. */
export function formatNumber(value: number | null, lang: Lang, missing: string): string {
  if (value === null) return missing;
  const s = value.toLocaleString('en-US', { useGrouping: false, maximumFractionDigits: 20 });
  return lang === 'en' ? s : s.replace('.', ',');
}
