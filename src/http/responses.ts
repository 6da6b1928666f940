import { Problem } from '../shared/schemas.js';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input; `errors` lists every invalid field.',
  401: 'Missing or invalid bearer token.',
  403: 'The caller may not do this.',
  404: 'Unknown id.',
  409: 'Conflict: duplicate code, children exist, or the change breaks a rule of stored data.',
  410: 'Incremental sync from before the tombstone retention horizon: deletions since then were pruned; resync from scratch (without updatedSince or cursor).',
  412: 'If-Match names a stale version.',
  413: 'Body too large.',
  415: 'Unsupported content type.',
  429: 'Too many requests; see Retry-After.',
  503: 'Database unavailable; see Retry-After.',
};

/** Problem responses for the OpenAPI document (and the serializer) of a route. */
export function errorResponses(...statuses: number[]) {
  return Object.fromEntries(statuses.map((s) => [s, Problem.describe(DESCRIPTIONS[s] ?? 'Error')]));
}
