/**
 * Which format a report request asks for: ?format wins; else the Accept header, by quality, then
 * specificity (an exact type beats a "text/..." wildcard, which beats the any-type wildcard), then
 * order in the header. No Accept, or only the any-type wildcard, means JSON; the text wildcard
 * means HTML. An Accept naming only types we cannot make answers 406.
 */
import { HttpProblem } from '../http/problem.js';
import type { ReportFormat } from './schemas.js';
import { MEDIA_TYPES, REPORT_FORMATS } from './schemas.js';

const BY_MEDIA_TYPE = new Map<string, ReportFormat>([
  ...REPORT_FORMATS.map((f) => [MEDIA_TYPES[f], f] as const),
  ['application/problem+json', 'json'],
  ['application/xhtml+xml', 'html'],
  ['*/*', 'json'],
  ['application/*', 'json'],
  ['text/*', 'html'],
]);

export function chooseFormat(format: ReportFormat | undefined, accept: string | undefined): ReportFormat {
  if (format) return format;
  if (!accept || accept.trim() === '') return 'json';
  let best: { format: ReportFormat; q: number; specificity: number } | undefined;
  for (const part of accept.split(',')) {
    const [rawType, ...params] = part.trim().split(';');
    const type = rawType!.trim().toLowerCase();
    const found = BY_MEDIA_TYPE.get(type);
    if (!found) continue;
    const qParam = params.map((p) => p.trim()).find((p) => p.toLowerCase().startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!Number.isFinite(q) || q <= 0) continue;
    const specificity = type === '*/*' ? 0 : type.endsWith('/*') ? 1 : 2;
    if (!best || q > best.q || (q === best.q && specificity > best.specificity)) best = { format: found, q, specificity };
  }
  if (best) return best.format;
  throw new HttpProblem(
    406,
    `None of the accepted media types can be produced. Available: ${REPORT_FORMATS.map((f) => MEDIA_TYPES[f]).join(', ')}; or pass ?format=${REPORT_FORMATS.join('|')}.`,
  );
}
