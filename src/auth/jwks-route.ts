/** GET /.well-known/jwks.json at the server root: the public keys that verify access tokens. */
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { access } from '../http/access.js';
import { errorResponses } from '../http/responses.js';
import { Jwks } from './schemas.js';
import type { AuthService } from './service.js';

export function jwksRoute(app: FastifyInstance, auth: AuthService) {
  app.withTypeProvider<ZodTypeProvider>().get('/.well-known/jwks.json', {
    config: { access: access.public },
    schema: {
      tags: ['Auth'],
      operationId: 'getJwks',
      summary: 'Public keys that verify access tokens (JWKS)',
      description:
        'The current signing key and retired keys whose tokens may still be live. Verify tokens with the key the ' +
        "token's kid names, the alg that key states, issuer and audience pinned. Refetch on an unknown kid.",
      response: { 200: Jwks, ...errorResponses(503) },
    },
    handler: async (_request, reply) => {
      // Short enough that a rotation is seen well before the retired key leaves the set.
      reply.header('cache-control', 'public, max-age=300');
      return (await auth.keys.jwks()) as Jwks;
    },
  });
}

type Jwks = z.infer<typeof Jwks>;
