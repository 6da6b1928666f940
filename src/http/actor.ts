/** The one place a request becomes an Actor: services never see the Fastify request. */
import type { FastifyRequest } from 'fastify';
import type { Actor } from '../shared/actor.js';
import type { Principal } from '../auth/principal.js';
import { HttpProblem } from './problem.js';

export function actorOf(request: Pick<FastifyRequest, 'principal' | 'id' | 'correlationId'>): Actor {
  const p = request.principal;
  const call = { requestId: request.id, correlationId: request.correlationId ?? null };
  // A public route has no principal: the service itself acts (as the audit trail recorded it before).
  if (!p) return { kind: 'system', id: null, organizationId: null, role: 'viewer', ...call };
  return { kind: p.kind, id: p.id, organizationId: p.organizationId, role: p.role, ...call };
}

/** The authenticated caller of a non-public route (the auth plugin guarantees one). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal)
    throw new HttpProblem(401, 'A bearer token is required.', undefined, {
      'www-authenticate': 'Bearer realm="nysana"',
    });
  return request.principal;
}
