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

/** One JSON page of GET /status: the filter (in a fixed key order), the page size and position. */
export function feedPageKey(filter: StatusFilter, limit: number, cursor: string | undefined, lang: string | undefined): string {
  const { year, organizationId, planId, indicatorId, valueType, status } = filter;
  return keyOf('feed', year, organizationId, planId, indicatorId, valueType, status, limit, cursor, lang, evaluationMethodVersion());
}
