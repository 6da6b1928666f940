/**
 * POST /auth/token: the OAuth 2.0 client-credentials grant (RFC 6749 section 4.4) for other
 * government systems. Client authentication by HTTP Basic (section 2.3.1, which servers must
 * support) or by client_id/client_secret in the body, form-encoded or JSON. Errors here are
 * RFC 6749 bodies `{ error, error_description }`, not problem+json, because OAuth client
 * libraries parse them; a route-level error handler converts every failure, validation included.
 */
import { eq, sql } from 'drizzle-orm';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import type { Db } from '../db/client.js';
import { serviceClients } from '../db/schema.js';
import { access } from '../http/access.js';
import { problemOf } from '../http/problem.js';
import { ClientCredentialsRequest, ClientCredentialsResponse, OAuthError } from './schemas.js';
import { sameDigest, sha256 } from './secrets.js';
import { failureKey } from './rate-limit.js';
import type { AuthService } from './service.js';

type OAuthErrorCode = z.infer<typeof OAuthError>['error'];

class OAuthProblem extends Error {
  constructor(
    readonly status: number,
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(description);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Compared against when the client does not exist, so that case costs the same as a wrong secret.
const NO_CLIENT_DIGEST = sha256('no such client');
const BASIC_REALM = 'Basic realm="nysana"';

const invalidClient = () =>
  new OAuthProblem(401, 'invalid_client', 'Client authentication failed.', { 'www-authenticate': BASIC_REALM });

function sendOAuthError(reply: FastifyReply, problem: OAuthProblem) {
  return reply
    .code(problem.status)
    .headers({ ...problem.headers, 'cache-control': 'no-store', pragma: 'no-cache' })
    .type('application/json; charset=utf-8')
    .serializer(JSON.stringify)
    .send({ error: problem.error, error_description: problem.description });
}

function toOAuthProblem(error: FastifyError | Error, request: FastifyRequest): OAuthProblem {
  if (error instanceof OAuthProblem) return error;
  const problem = problemOf(error);
  if (problem) {
    if (problem.status === 429) return new OAuthProblem(429, 'too_many_requests', problem.detail, problem.headers);
    if (problem.status < 500) return new OAuthProblem(400, 'invalid_request', problem.detail);
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const fields = (error.validation as { instancePath?: string }[]).map(
      (v) => (v.instancePath ?? '').replace(/^\//, '') || 'body',
    );
    return new OAuthProblem(400, 'invalid_request', `Invalid parameter(s): ${[...new Set(fields)].join(', ')}.`);
  }
  const status = (error as FastifyError).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new OAuthProblem(
      400,
      'invalid_request',
      'Send the parameters as application/x-www-form-urlencoded or JSON.',
    );
  }
  request.log.error({ err: error }, 'token endpoint failed');
  return new OAuthProblem(
    500,
    'server_error',
    'An unexpected error occurred; quote the x-request-id header when reporting it.',
  );
}

/** RFC 6749 section 2.3.1: Basic credentials are form-urlencoded before base64. */
function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined | 'malformed' {
  if (!header || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return 'malformed';
  try {
    const unform = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: unform(decoded.slice(0, colon)), secret: unform(decoded.slice(colon + 1)) };
  } catch {
    return 'malformed';
  }
}

export function tokenRoute(parent: FastifyInstance, db: Db, auth: AuthService) {
  parent.register(async (scope) => {
    // Form bodies are accepted here only; everywhere else they stay 415.
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 16_384 },
      (_request, body, done) => {
        const params = new URLSearchParams(body as string);
        const out: Record<string, string> = {};
        for (const [key, value] of params) {
          // RFC 6749 section 3.2: parameters must not be included more than once.
          if (key in out)
            return done(new OAuthProblem(400, 'invalid_request', `The parameter ${key} is repeated.`), undefined);
          out[key] = value;
        }
        done(null, out);
      },
    );

    scope.withTypeProvider<ZodTypeProvider>().post('/token', {
      config: { access: access.public },
      errorHandler: (error, request, reply) => {
        void sendOAuthError(reply, toOAuthProblem(error, request));
      },
      schema: {
        tags: ['Auth'],
        operationId: 'issueClientToken',
        summary: 'Get an access token for a service client (OAuth 2.0 client credentials)',
        description:
          'grant_type=client_credentials, with client_id and client_secret as HTTP Basic credentials or as body ' +
          'parameters (form-encoded or JSON). No refresh token is issued: ask again when the token expires. Errors ' +
          'follow RFC 6749: 400 invalid_request / unsupported_grant_type, 401 invalid_client, 429 too_many_requests.',
        consumes: ['application/x-www-form-urlencoded', 'application/json'],
        body: ClientCredentialsRequest,
        response: {
          200: ClientCredentialsResponse,
          400: OAuthError.describe('Malformed request or unsupported grant type.'),
          401: OAuthError.describe('Unknown client, wrong secret, or deactivated client.'),
          429: OAuthError.describe('Too many requests or failed attempts; see Retry-After.'),
          // Declared here, in the OAuth error format this route answers (the document's default 500 is problem+json).
          500: OAuthError.describe(
            'server_error: an unexpected error; quote the x-request-id response header when reporting it.',
          ),
        },
      },
      handler: async (request, reply) => {
        const body = request.body ?? {};
        const basic = basicCredentials(request.headers.authorization);
        if (basic === 'malformed') throw invalidClient();
        if (basic && body.client_secret !== undefined) {
          throw new OAuthProblem(
            400,
            'invalid_request',
            'Use one client authentication method: HTTP Basic or body parameters.',
          );
        }
        if (!body.grant_type) throw new OAuthProblem(400, 'invalid_request', 'grant_type is required.');
        if (body.grant_type !== 'client_credentials') {
          throw new OAuthProblem(400, 'unsupported_grant_type', 'Only grant_type=client_credentials is supported.');
        }
        const clientId = basic?.id ?? body.client_id;
        const secret = basic?.secret ?? body.client_secret;
        if (basic && body.client_id !== undefined && body.client_id !== basic.id) {
          throw new OAuthProblem(400, 'invalid_request', 'client_id differs from the HTTP Basic user name.');
        }
        if (!clientId || !secret) throw invalidClient();

        const failures = failureKey(clientId, request.ip);
        const locked = await auth.limits.clientFailures.check(failures);
        if (!locked.allowed) {
          throw new OAuthProblem(
            429,
            'too_many_requests',
            'Too many failed attempts for this client from this address; retry later.',
            { 'retry-after': String(locked.retryAfter) },
          );
        }
        const [client] = UUID.test(clientId)
          ? await db.select().from(serviceClients).where(eq(serviceClients.id, clientId)).limit(1)
          : [];
        const secretOk = sameDigest(sha256(secret), client?.secretHash ?? NO_CLIENT_DIGEST);
        if (!client || !secretOk || !client.active) {
          await auth.limits.clientFailures.hit(failures);
          request.log.info({ event: 'client_auth_failed', clientId: client?.id }, 'client authentication failed');
          throw invalidClient();
        }
        await auth.limits.clientFailures.reset(failures);
        await db
          .update(serviceClients)
          .set({ lastUsedAt: sql`now()` })
          .where(eq(serviceClients.id, client.id));
        const issued = await auth.tokens.sign({
          kind: 'client',
          id: client.id,
          role: client.role,
          organizationId: client.organizationId,
        });
        reply.header('pragma', 'no-cache');
        return { access_token: issued.token, token_type: 'Bearer' as const, expires_in: issued.expiresIn };
      },
    });
  });
}
