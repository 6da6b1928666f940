/** Who is calling: the result of authenticating a request, attached as `request.principal`. */
import type { Role } from '../shared/actor.js';

export type PrincipalKind = 'user' | 'client' | 'sso';

export interface Principal {
  kind: PrincipalKind;
  /** User or client id (UUID); for single sign-on, the identity provider's subject. */
  id: string;
  role: Role;
  organizationId: string | null;
  /** jti of the access token the request carried (a personal access token's id). */
  tokenId?: string;
  /** Set when the request carried a personal access token (src/personal-tokens/service.ts). */
  personalToken?: { id: string; scope: 'read' | 'read_write' };
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

const RANK: Record<Role, number> = { viewer: 1, editor: 2, admin: 3 };

/** admin > editor > viewer: a role includes the ones below it. */
export function roleAtLeast(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}
