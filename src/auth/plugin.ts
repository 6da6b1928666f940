/**
 * Enforces every route's `config.access` (src/http/access.ts), in two parts registered at the root:
 *
 *   recordRoutes (onRoute, before any route is declared) records the route table (the access test
 *              matrix is built from it) and writes the rule into the route's OpenAPI description,
 *              so the document cannot drift from it;
 *   authPlugin (after CORS and load shedding, whose hooks must answer preflights and shed load
 *              before any token work):
 *   onReady    loads (or, first time, generates) the signing keys;
 *   onRequest  401 without a valid bearer token, 403 for too small a role: before the body is
 *              even parsed, so anonymous callers learn nothing from validation errors;
 *   preHandler editor scoping, after validation because POST /plans names its organization in
 *              the body. An editor passes only when the target provably belongs to its own
 *              organization: another organization's target and a nonexistent one both answer the
 *              same 403, so ids cannot be probed (admins get the handler's 404).
 *
 * A route without a rule cannot start (assertEveryRouteHasAccessRule); if one ever got through,
 * it would be treated as admin-only here rather than open.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { AccessRule } from './access-rule.js';
import { HttpProblem } from '../http/problem.js';
import type { Principal } from './principal.js';
import { roleAtLeast } from './principal.js';
import type { AuthService } from './service.js';
import { AuthFailure, REALM } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    auth: AuthService;
  }
}

const PUBLIC: AccessRule = { level: 'public' };
const ADMIN_ONLY: AccessRule = { level: 'admin' };

const ACCESS_NOTES: Record<AccessRule['level'], string> = {
  public: 'Access: public, no token needed.',
  viewer: 'Access: any authenticated caller (viewer, editor or admin).',
  editor:
    'Access: admins, and editors (users or service clients) of the organization that owns the target. ' +
    'An editor naming a target outside its organization, or one that does not exist, gets 403.',
  admin: 'Access: admins only.',
};
const SERVICE_CLIENTS_NOTE = 'Access: admins, and service clients (client credentials) for their own.';

function ruleOf(request: FastifyRequest): AccessRule {
  const rule = request.routeOptions.config?.access;
  if (rule) return rule;
  // Unmatched URLs reach the 404 handler; the swagger UI's static files and the CORS preflight
  // route (which carries no data) have no rules of their own.
  if (request.is404 || request.url.startsWith('/docs')) return PUBLIC;
  if (request.method === 'OPTIONS' && request.routeOptions.url === '*') return PUBLIC;
  return ADMIN_ONLY;
}

const forbidden = (detail: string) =>
  new HttpProblem(403, detail, undefined, { 'www-authenticate': `${REALM}, error="insufficient_scope"` });

/** Call on the root instance before any route is declared: onRoute hooks do not see earlier routes. */
export function recordRoutes(app: FastifyInstance, auth: AuthService) {
  app.addHook('onRoute', (route) => {
    const url = route.url ?? route.path;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const rule = route.config?.access;
    for (const method of methods) auth.routes.push({ method: String(method), url, access: rule });
    const schema = route.schema as (Record<string, unknown> & { hide?: boolean }) | undefined;
    if (rule && schema && !schema.hide && String(route.method) !== 'HEAD') {
      const note = rule.serviceClients ? SERVICE_CLIENTS_NOTE : ACCESS_NOTES[rule.level];
      const description = typeof schema.description === 'string' ? schema.description : '';
      if (!description.includes(note)) schema.description = description ? `${description}\n\n${note}` : note;
      if (rule.level === 'public' && schema.security === undefined) schema.security = [];
    }
  });
}

export const authPlugin = fp<{ auth: AuthService }>(
  async (app: FastifyInstance, { auth }) => {
    app.decorate('auth', auth);
    app.decorateRequest('principal', null);

    app.addHook('onReady', async () => {
      await auth.keys.init();
    });

    app.addHook('onRequest', async (request) => {
      const rule = ruleOf(request);
      if (rule.level === 'public') return;
      let principal: Principal;
      try {
        principal = await auth.authenticate(request.headers.authorization, request.method);
      } catch (error) {
        if (error instanceof AuthFailure) {
          throw new HttpProblem(error.status, error.detail, undefined, { 'www-authenticate': error.wwwAuthenticate });
        }
        throw error;
      }
      request.principal = principal;
      if (!roleAtLeast(principal.role, rule.level) && !(rule.serviceClients && principal.kind === 'client')) {
        throw forbidden(`This operation needs the ${rule.level} role; the caller has ${principal.role}.`);
      }
    });

    // Callback style: most requests (every read, every admin) pass straight through, without the
    // promise an async hook costs on each.
    app.addHook('preHandler', (request, _reply, done) => {
      const rule = ruleOf(request);
      const principal = request.principal;
      if (rule.level !== 'editor' || !principal || principal.role === 'admin') return done();
      // An editor-level route that cannot say who owns its target is for admins only.
      const ownerOf =
        principal.organizationId && rule.organizationOf ? rule.organizationOf(request) : Promise.resolve(undefined);
      ownerOf.then(
        (owner) =>
          done(
            !owner || owner !== principal.organizationId
              ? forbidden('Editors may change only the plans and measurements of their own organization.')
              : undefined,
          ),
        // A rejection without an Error must still stop the request, never pass as done(undefined).
        (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
      );
    });
  },
  { name: 'nysana-auth' },
);
