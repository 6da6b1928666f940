/**
 * GET /.well-known/oauth-authorization-server: RFC 8414 metadata, so OAuth libraries and API
 * gateways configure themselves from one URL (token endpoint, JWKS, grant and client
 * authentication methods) instead of from a README.
 *
 * `issuer` is JWT_ISSUER exactly: RFC 9068 verifiers compare a token's `iss` with it. When
 * JWT_ISSUER is the service's public URL (as RFC 8414 wants: https, no query or fragment), the
 * endpoints are built on it; otherwise on the URL this request reached (with TRUST_PROXY, the
 * forwarded host and protocol), and such an answer is not shared between hosts by caches.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { access } from '../http/access.js';
import { errorResponses } from '../http/responses.js';
import type { AuthService } from './service.js';

export const AUTHORIZATION_SERVER_METADATA_PATH = '/.well-known/oauth-authorization-server';
export const JWKS_PATH = '/.well-known/jwks.json';
/** Where tokenRoute answers (under the /api/v1 prefix app.ts gives the API). */
const TOKEN_ENDPOINT_PATH = '/api/v1/auth/token';

export const AuthorizationServerMetadata = z
  .object({
    issuer: z.string().describe('Equal to the `iss` claim of every access token this service signs (JWT_ISSUER).'),
    token_endpoint: z.url().describe('POST here with grant_type=client_credentials.'),
    jwks_uri: z.url().describe('The public keys that verify access tokens.'),
    grant_types_supported: z.array(z.literal('client_credentials')),
    token_endpoint_auth_methods_supported: z.array(z.enum(['client_secret_basic', 'client_secret_post'])),
    response_types_supported: z
      .array(z.string())
      .max(0)
      .describe('Empty: there is no authorization endpoint (people log in at /api/v1/auth/login).'),
    service_documentation: z.url().describe('Human-readable API documentation.'),
  })
  .meta({ id: 'AuthorizationServerMetadata', description: 'RFC 8414 OAuth 2.0 authorization server metadata.' });
type AuthorizationServerMetadata = z.infer<typeof AuthorizationServerMetadata>;

/** JWT_ISSUER when it is an http(s) URL without query or fragment (its trailing slash dropped). */
function issuerUrl(issuer: string): string | undefined {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash) return undefined;
  return issuer.replace(/\/+$/, '');
}

const requestOrigin = (request: FastifyRequest) => `${request.protocol}://${request.host}`;

export function authorizationServerMetadata(issuer: string, base: string): AuthorizationServerMetadata {
  return {
    issuer,
    token_endpoint: `${base}${TOKEN_ENDPOINT_PATH}`,
    jwks_uri: `${base}${JWKS_PATH}`,
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    response_types_supported: [],
    service_documentation: `${base}/docs`,
  };
}

export function metadataRoute(app: FastifyInstance, auth: AuthService) {
  const fixedBase = issuerUrl(auth.config.JWT_ISSUER);
  app.withTypeProvider<ZodTypeProvider>().get(AUTHORIZATION_SERVER_METADATA_PATH, {
    config: { access: access.public },
    schema: {
      tags: ['Auth'],
      operationId: 'getAuthorizationServerMetadata',
      summary: 'OAuth 2.0 authorization server metadata (RFC 8414)',
      description:
        'Where to get an access token (client credentials) and the keys that verify it. Set JWT_ISSUER to the ' +
        "service's public https URL for metadata that strict RFC 8414 clients accept (issuer equal to the URL it is served under).",
      response: { 200: AuthorizationServerMetadata, ...errorResponses(503) },
    },
    handler: async (request, reply) => {
      // Built from the request's host only when JWT_ISSUER is not a URL: then never shared across hosts.
      reply.header('cache-control', fixedBase ? 'public, max-age=3600' : 'no-cache');
      if (!fixedBase) reply.header('vary', 'host, x-forwarded-host, x-forwarded-proto');
      return authorizationServerMetadata(auth.config.JWT_ISSUER, fixedBase ?? requestOrigin(request));
    },
  });
}
