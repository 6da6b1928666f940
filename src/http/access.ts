/**
 * Each route declares who may call it, once, in its `config.access`. The auth plugin enforces
 * it; a route without a rule is refused at start-up (see assertEveryRouteHasAccessRule).
 *   public  - no token (login, health, docs)
 *   viewer  - any authenticated caller may read
 *   editor  - editors of the owning organization and admins may write
 *   admin   - admins only (with serviceClients: and service clients, each for what is its own)
 */
import type { FastifyInstance } from 'fastify';

import type { AccessRule } from '../auth/access-rule.js';
import type { Role } from '../shared/actor.js';

export type { Role };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: AccessRule;
  }
}

export const access = {
  public: { level: 'public' } as AccessRule,
  viewer: { level: 'viewer' } as AccessRule,
  admin: { level: 'admin' } as AccessRule,
  adminOrServiceClient: { level: 'admin', serviceClients: true } as AccessRule,
  editor: (organizationOf: AccessRule['organizationOf']): AccessRule => ({ level: 'editor', organizationOf }),
};

/** Fails start-up when some route forgot its access rule: forgetting must not mean "open". */
export function assertEveryRouteHasAccessRule(app: FastifyInstance) {
  const missing: string[] = [];
  app.addHook('onRoute', (route) => {
    const url = route.url ?? route.path;
    // Exempt: the swagger UI's static files, and @fastify/cors's preflight route (answered by its
    // own hook before any access check, carrying no data).
    const isPreflight = String(route.method) === 'OPTIONS' && url === '*';
    if (!route.config?.access && !url.startsWith('/docs') && !isPreflight)
      missing.push(`${String(route.method)} ${url}`);
  });
  app.addHook('onReady', async () => {
    if (missing.length > 0) throw new Error(`Routes without an access rule: ${missing.join(', ')}`);
  });
}
