/**
 * /auth/login, /auth/refresh, /auth/logout (users) and /auth/token (service clients, see
 * token-route.ts). Every /auth/* request counts against a per-IP limit; failed logins also count
 * per account and source address, and an account locked for an address answers 429 to that
 * address whatever the password (other addresses, e.g. the real user's, are not locked out by
 * someone else's guesses). Login failures all read the same and cost the same time.
 */
import { eq, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { users } from '../db/schema.js';
import { access } from '../http/access.js';
import { HttpProblem } from '../http/problem.js';
import { errorResponses } from '../http/responses.js';
import { dummyHash, hashPassword, needsRehash, verifyPassword } from './passwords.js';
import { principalOf } from '../http/actor.js';
import type { IssuedRefresh, RotateResult } from './refresh-tokens.js';
import { failureKey, retryAfterSeconds } from './rate-limit.js';
import { LoginBody, LogoutBody, RefreshBody, TokenPair } from './schemas.js';
import type { AuthService } from './service.js';
import { REALM } from './service.js';
import { tokenRoute } from './token-route.js';

const TAG = 'Auth';

export const tooManyRequests = (retryAfter: number, detail = 'Too many attempts; retry later.') =>
  new HttpProblem(429, detail, undefined, { 'retry-after': String(retryAfter) });

const unauthorized = (detail: string) => new HttpProblem(401, detail, undefined, { 'www-authenticate': REALM });

/** A user's token pair, on login and on refresh: a new access token beside the refresh token just issued. */
async function tokenPair(auth: AuthService, user: Extract<RotateResult, { ok: true }>['user'], refresh: IssuedRefresh) {
  const { id, role, organizationId, sessionVersion } = user;
  const accessToken = await auth.tokens.sign({ kind: 'user', id, role, organizationId, sessionVersion });
  return {
    accessToken: accessToken.token,
    tokenType: 'Bearer' as const,
    expiresIn: accessToken.expiresIn,
    ...refresh,
  };
}

export function authRoutes(app: FastifyInstance, db: Db, auth: AuthService) {
  app.register(
    async (scope) => {
      const perIp = scope.rateLimit({
        ...auth.limits.perIp,
        errorResponseBuilder: (_request, context) =>
          tooManyRequests(retryAfterSeconds(context.ttl), 'Too many requests to /auth from this address; retry later.'),
      });
      scope.addHook('onRequest', async function (request, reply) {
        // Tokens and credentials must never sit in a shared cache (RFC 6749 section 5.1).
        reply.header('cache-control', 'no-store');
        await perIp.call(this, request, reply);
      });

      const r = scope.withTypeProvider<ZodTypeProvider>();

      r.post('/login', {
        config: { access: access.public },
        schema: {
          tags: [TAG],
          operationId: 'login',
          summary: 'Log in with e-mail and password',
          description:
            'Returns a short-lived access token and a single-use refresh token. A wrong e-mail, a wrong password and a ' +
            'deactivated account all answer the same 401. After repeated failures from one address the account answers 429 to that ' +
            'address for a while (other addresses are not locked out).',
          body: LoginBody,
          response: { 200: TokenPair, ...errorResponses(400, 401, 413, 415, 429) },
        },
        handler: async (request) => {
          const email = request.body.email.toLowerCase();
          const failures = failureKey(email, request.ip);
          const locked = await auth.limits.accountFailures.check(failures);
          if (!locked.allowed)
            throw tooManyRequests(locked.retryAfter, 'Too many failed logins for this account; retry later.');
          const [user] = await db.select().from(users).where(eq(users.email, email)).limit(1);
          // Verify even without a user (against a dummy hash) so timing does not reveal accounts.
          const passwordOk = await verifyPassword(user?.passwordHash ?? (await dummyHash()), request.body.password);
          if (!user || !passwordOk || !user.active) {
            await auth.limits.accountFailures.hit(failures);
            request.log.info({ event: 'login_failed', userId: user?.id }, 'login failed');
            throw unauthorized('The e-mail or password is not correct.');
          }
          await auth.limits.accountFailures.reset(failures);
          const rehashed = needsRehash(user.passwordHash) ? await hashPassword(request.body.password) : undefined;
          await db
            .update(users)
            .set({ lastLoginAt: sql`now()`, ...(rehashed ? { passwordHash: rehashed } : {}) })
            .where(eq(users.id, user.id));
          await auth.refreshTokens.purgeExpired();
          const refresh = await auth.refreshTokens.issue(db, user.id);
          request.log.info({ event: 'login', userId: user.id }, 'login');
          return tokenPair(auth, user, refresh);
        },
      });

      r.post('/refresh', {
        config: { access: access.public },
        schema: {
          tags: [TAG],
          operationId: 'refreshToken',
          summary: 'Exchange a refresh token for a new token pair',
          description:
            'The presented refresh token stops working. Presenting an already used refresh token revokes every token of ' +
            "that login (its family): a copy is in someone else's hands. Refresh one request at a time. A deactivated " +
            "user's refresh tokens answer 401.",
          body: RefreshBody,
          response: { 200: TokenPair, ...errorResponses(400, 401, 413, 415, 429) },
        },
        handler: async (request) => {
          const result = await auth.refreshTokens.rotate(request.body.refreshToken);
          if (!result.ok) {
            if (result.reason === 'reused')
              request.log.warn({ event: 'refresh_token_reuse' }, 'refresh token reused; family revoked');
            throw unauthorized('The refresh token is not valid; log in again.');
          }
          return tokenPair(auth, result.user, result.issued);
        },
      });

      r.post('/logout', {
        config: { access: access.viewer },
        schema: {
          tags: [TAG],
          operationId: 'logout',
          summary: 'Revoke a refresh token (and its login), or every login of the caller',
          description:
            "Answers 204 whether or not the refresh token was valid or the caller's. The access token itself stays valid " +
            'until it expires (minutes); drop it on the client.',
          body: LogoutBody,
          response: { 204: z.null().describe('Logged out'), ...errorResponses(400, 401, 413, 415, 429) },
        },
        handler: async (request, reply) => {
          const principal = principalOf(request);
          if (principal.kind === 'user') {
            if (request.body.allSessions) await auth.refreshTokens.revokeAll(db, principal.id);
            else if (request.body.refreshToken)
              await auth.refreshTokens.revoke(request.body.refreshToken, principal.id);
          }
          return reply.code(204).send(null);
        },
      });

      tokenRoute(scope, db, auth);
    },
    { prefix: '/auth' },
  );
}
