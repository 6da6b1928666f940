/** The one place a request becomes an Actor: services never see the Fastify request. */
import type { FastifyRequest } from 'fastify';
import type { Actor } from '../shared/actor.js';

export function actorOf(request: Pick<FastifyRequest, 'principal' | 'id' | 'correlationId'>): Actor {
  const p = request.principal;
  const call = { requestId: request.id, correlationId: request.correlationId ?? null };
  // A public route has no principal: the service itself acts (as the audit trail recorded it before).
  if (!p) return { kind: 'system', id: null, organizationId: null, role: 'viewer', ...call };
  return { kind: p.kind, id: p.id, organizationId: p.organizationId, role: p.role, ...call };
}
