/**
 * Cache keys of the status answers: everything that changes the bytes of an answer is in its key
 * (route shape, plan/indicator or feed filter, year, resolved language, page, evaluation method).
 * The Accept-Language header enters only through the language it resolves to.
 */
import type { StatusFilter } from '../status/read-model.js';

/**
 * Besides the request, an answer depends on the evaluation method in force (its changes evict:
 * migration 0016's triggers notify the plans that use a method) and on the day, since a method may
 * count pending values as not achieved once a deadline day has passed (achievement/methods.ts).
 */
const scoringDay = () => new Date().toISOString().slice(0, 10);

type Part = string | number | boolean | undefined;
// JSON of an array: no value (a client's cursor included) can run into its neighbour.
const keyOf = (...parts: Part[]) => JSON.stringify(parts.map((p) => p ?? null));

export function planStatusKey(planId: string, year: number, lang: string | undefined, forecast: boolean): string {
  return keyOf('plan', planId, year, lang, forecast, scoringDay());
}

export function indicatorStatusKey(indicatorId: string, year: number | undefined, lang: string | undefined): string {
  return keyOf('indicator', indicatorId, year, lang, scoringDay());
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
  return keyOf('feed', fields, limit, cursor, lang, count, scoringDay());
}
