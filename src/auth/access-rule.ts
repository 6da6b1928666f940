/**
 * Who may call a route, as the auth service and plugin read it (src/http/access.ts declares the
 * rules on routes). A type of the auth layer, so that auth code needs nothing from src/http.
 */
import type { FastifyRequest } from 'fastify';
import type { Role } from '../shared/actor.js';

type AccessLevel = 'public' | Role;

export interface AccessRule {
  level: AccessLevel;
  /**
   * For editor routes: resolves the organization owning the target, so an editor of another
   * organization is refused. Returns undefined when the target does not exist (the handler then
   * answers 404).
   */
  organizationOf?: (request: FastifyRequest) => Promise<string | undefined>;
  /**
   * For admin routes: service clients (client credentials) may call them too, whatever their role;
   * the service then limits each client to what is its own (webhook subscriptions).
   */
  serviceClients?: boolean;
}
