/**
 * `?lang=kk|ru|en` (or Accept-Language) adds resolved plain-string fields next to localized
 * objects where a flat form helps (status feeds, CSV). Missing text falls back kk -> ru -> en.
 */
import { z } from 'zod';
import type { LocalizedText } from './schemas.js';

export const Lang = z.enum(['kk', 'ru', 'en']).meta({ id: 'Lang' });
export type Lang = z.infer<typeof Lang>;

export const LangQuery = {
  lang: Lang.optional().describe(
    'Adds plain-text fields (nameText, ...) resolved to this language; falls back kk, ru, en.',
  ),
};

const FALLBACK: Lang[] = ['kk', 'ru', 'en'];

/** The language asked for: ?lang wins, then the first supported Accept-Language tag. */
export function requestedLang(queryLang: Lang | undefined, acceptLanguage: string | undefined): Lang | undefined {
  if (queryLang) return queryLang;
  if (!acceptLanguage) return undefined;
  const tags = acceptLanguage
    .split(',')
    .map((part) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.find((p) => p.trim().startsWith('q='));
      return { lang: tag!.trim().slice(0, 2).toLowerCase(), q: q ? Number(q.trim().slice(2)) : 1 };
    })
    .filter((t) => Number.isFinite(t.q) && t.q > 0)
    .sort((a, b) => b.q - a.q);
  return tags.find((t): t is { lang: Lang; q: number } => (FALLBACK as string[]).includes(t.lang))?.lang;
}

export function resolveText(text: LocalizedText | null | undefined, lang: Lang): string | null {
  if (!text) return null;
  const preferred = text[lang];
  if (preferred) return preferred;
  for (const l of FALLBACK) if (text[l]) return text[l]!;
  return null;
}
