/** The one place a request becomes an Actor: services never see the Fastify request. */
import type { FastifyRequest } from 'fastify';
import type { Actor } from '../shared/actor.js';

export function actorOf(request: Pick<FastifyRequest, 'principal' | 'id' | 'correlationId'>): Actor {
  const p = request.principal;
  if (!p) return { kind: 'system', id: null, organizationId: null, role: 'viewer', requestId: request.id, correlationId: request.correlationId ?? null };
  return { kind: p.kind, id: p.id, organizationId: p.organizationId, role: p.role, requestId: request.id, correlationId: request.correlationId ?? null };
}
