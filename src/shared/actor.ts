/**
 * Who acts, as services and the audit recorder see it: no Fastify types, so a service can be
 * called from a route, a CLI or a test alike. Routes build one per request (src/http/actor.ts).
 */
export type Role = 'viewer' | 'editor' | 'admin';

export interface Actor {
  /** 'sso' is a single sign-on user without a row here; 'system' is the service itself (seeds, CLIs). */
  kind: 'user' | 'client' | 'sso' | 'system';
  /** User or client id, the identity provider's subject for 'sso', null for 'system'. */
  id: string | null;
  organizationId: string | null;
  role: Role;
  /** The server's id of the request (or job) the action belongs to. */
  requestId: string;
  /** The caller's own x-request-id, when it sent a sane one. */
  correlationId: string | null;
}
