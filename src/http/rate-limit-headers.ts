/**
 * Which operations have a rate limit, and the headers that tell a client where it stands
 * (RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, as in the IETF httpapi-ratelimit-headers
 * drafts and most gateways). The limiters (@fastify/rate-limit in write-limit.ts and auth/routes.ts) send
 * them; the OpenAPI document (openapi/polish.ts) declares them on the same operations.
 */
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** /auth/* under the API: a per-address limit tuned for guessing (auth/routes.ts). */
export const isAuthRoute = (url: string) => url.includes('/api/v1/auth/');

/** Writes under the API: the per-caller write budget (write-limit.ts), except /auth, which has its own. */
export const isLimitedWrite = (method: string, url: string) =>
  WRITES.has(method) && url.startsWith('/api/v1/') && !isAuthRoute(url);

export const isRateLimited = (method: string, url: string) => isAuthRoute(url) || isLimitedWrite(method, url);

const count = (description: string) => ({
  description,
  schema: { type: 'integer', format: 'int32', minimum: 0, maximum: 1_000_000_000 },
});

/** The headers in the OpenAPI document. */
export const RATE_LIMIT_HEADERS = {
  'RateLimit-Limit': count('Requests allowed in the current window (a minute; for failed logins, the lockout window).'),
  'RateLimit-Remaining': count('Requests left in the current window.'),
  'RateLimit-Reset': count('Seconds until the current window ends.'),
};
