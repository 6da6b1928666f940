/**
 * Cache keys of the status answers: everything that changes the bytes of an answer is in its key
 * (route shape, plan/indicator or feed filter, year, resolved language, page, evaluation method).
 * The Accept-Language header enters only through the language it resolves to.
 */
import type { StatusFilter } from '../status/read-model.js';

/**
 * The version of the evaluation methods a plan's status is computed with. Per-plan evaluation
 * methods are coming (another branch); until then there is one method and this is ''. Wire it to
 * the plan's method version when they land, so answers of an old method are never served.
 */
export function evaluationMethodVersion(_planId?: string): string {
  return '';
}

type Part = string | number | undefined;
// JSON of an array: no value (a client's cursor included) can run into its neighbour.
const keyOf = (...parts: Part[]) => JSON.stringify(parts.map((p) => p ?? null));

export function planStatusKey(planId: string, year: number, lang: string | undefined): string {
  return keyOf('plan', planId, year, lang, evaluationMethodVersion(planId));
}

export function indicatorStatusKey(indicatorId: string, year: number | undefined, lang: string | undefined): string {
  return keyOf('indicator', indicatorId, year, lang, evaluationMethodVersion());
}

/**
 * One JSON page of GET /status: every field of the filter (sorted by name, so a filter added to
 * StatusFilter is part of the key without a change here), the page size and position, and whether
 * a total was asked for.
 */
export function feedPageKey(
  filter: StatusFilter,
  limit: number,
  cursor: string | undefined,
  lang: string | undefined,
  count: boolean,
): string {
  const fields = Object.entries(filter)
    .filter(([, value]) => value !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, value]) => `${name}=${String(value)}`)
    .join('&');
  return keyOf('feed', fields, limit, cursor, lang, count ? 'count' : undefined, evaluationMethodVersion());
}
