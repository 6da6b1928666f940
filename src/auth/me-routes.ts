/** GET /me (who am I, with my current role and organization) and POST /me/password. */
import { actorOf } from '../http/actor.js';
import { recordAudit } from '../audit/record.js';
import { eq, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { serviceClients, users } from '../db/schema.js';
import { access } from '../http/access.js';
import { HttpProblem, badRequest } from '../http/problem.js';
import { errorResponses } from '../http/responses.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { principalOf } from '../http/actor.js';
import { tooManyRequests } from './routes.js';
import { Me, PasswordChange } from './schemas.js';
import type { AuthService } from './service.js';

const TAG = 'Auth';

export function meRoutes(app: FastifyInstance, db: Db, auth: AuthService) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get('/me', {
    config: { access: access.viewer },
    schema: {
      tags: [TAG],
      operationId: 'getMe',
      summary: 'The caller: user, service client or single sign-on user, with its current role and organization',
      response: { 200: Me, ...errorResponses(401, 403) },
    },
    handler: async (request) => {
      const p = principalOf(request);
      const base = {
        kind: p.kind,
        id: p.id,
        role: p.role,
        organizationId: p.organizationId,
        email: null,
        displayName: null,
      };
      if (p.kind === 'user') {
        const [row] = await db
          .select({ email: users.email, displayName: users.displayName })
          .from(users)
          .where(eq(users.id, p.id));
        return { ...base, email: row?.email ?? null, displayName: row?.displayName ?? null };
      }
      if (p.kind === 'client') {
        const [row] = await db
          .select({ name: serviceClients.name })
          .from(serviceClients)
          .where(eq(serviceClients.id, p.id));
        return { ...base, displayName: row?.name ?? null };
      }
      return base;
    },
  });

  r.post('/me/password', {
    config: { access: access.viewer },
    schema: {
      tags: [TAG],
      operationId: 'changeMyPassword',
      summary: "Change the caller's own password",
      description:
        'Users only (service clients rotate their secret through an admin; single sign-on users change it at the provider). ' +
        'Ends every session of the user: its refresh tokens are revoked, and its access tokens (the one sent with this ' +
        'request included) are refused from the next request, on every replica (within PRINCIPAL_CACHE_MS on the others). ' +
        'Log in again with the new password. Repeated wrong current passwords answer 429.',
      body: PasswordChange,
      response: { 204: z.null().describe('Changed'), ...errorResponses(400, 401, 403, 413, 415, 429) },
    },
    handler: async (request, reply) => {
      const p = principalOf(request);
      if (p.kind !== 'user') throw new HttpProblem(403, 'Only users of this service have a password here.');
      const key = `user:${p.id}`;
      const locked = await auth.limits.accountFailures.check(key);
      if (!locked.allowed) throw tooManyRequests(locked.retryAfter, 'Too many wrong passwords; retry later.');
      const [user] = await db.select({ passwordHash: users.passwordHash }).from(users).where(eq(users.id, p.id));
      if (!user || !(await verifyPassword(user.passwordHash, request.body.currentPassword))) {
        await auth.limits.accountFailures.hit(key);
        throw badRequest('The current password is not correct.', [
          { path: 'body.currentPassword', message: 'not correct' },
        ]);
      }
      await auth.limits.accountFailures.reset(key);
      const passwordHash = await hashPassword(request.body.newPassword);
      await db.transaction(async (tx) => {
        await tx
          .update(users)
          // session_version + 1 ends every access token of the user, this request's included (directory.ts).
          .set({
            passwordHash,
            sessionVersion: sql`${users.sessionVersion} + 1`,
            version: sql`${users.version} + 1`,
            updatedAt: sql`now()`,
          })
          .where(eq(users.id, p.id));
        await auth.refreshTokens.revokeAll(tx, p.id);
        await recordAudit(tx, actorOf(request), {
          entityType: 'user',
          entityId: p.id,
          action: 'update',
          after: { passwordChanged: true },
        });
      });
      auth.directory.invalidate('user', p.id);
      request.log.info({ event: 'password_changed', userId: p.id }, 'password changed');
      return reply.code(204).send(null);
    },
  });
}
