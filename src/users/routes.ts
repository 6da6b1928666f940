/**
 * /users: admins manage the people who log in. Rules beyond the schema, checked in the write's
 * transaction: an editor needs an existing organization, and the last active admin cannot be
 * demoted, deactivated or deleted (409), or nobody could administer the service any more.
 * Deactivating a user or setting a password revokes every refresh token of the user, and this
 * replica forgets its cached view of the user, so the user's access tokens stop working at once.
 */
import { actorOf } from '../http/actor.js';
import { exportBusyResponses } from '../http/export-guard.js';
import { NOT_MODIFIED } from '../http/conditional.js';
import { changeWatermark, exportEtagDescription } from '../http/export-etag.js';
import { UpdatedSince, syncListOf, tombstoneOf } from '../sync/cursor.js';
import { syncList } from '../sync/lists.js';
import { syncDeletions } from '../db/schema.js';
import { ListExportQueryShape, columnsOf } from '../exports/tabular.js';
import { answerList } from '../http/list-pipeline.js';
import { tableList } from '../lists/table.js';
import { recordAudit } from '../audit/record.js';
import { and, eq, or, sql } from 'drizzle-orm';
import type { SQL } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { hashPassword } from '../auth/passwords.js';
import type { AuthService } from '../auth/service.js';
import type { Db } from '../db/client.js';
import { organizations, users } from '../db/schema.js';
import { access } from '../http/access.js';
import { assertIfMatch, notModified, setEtag } from '../http/etag.js';
import { badRequest, conflict, notFound } from '../http/problem.js';
import { errorResponses } from '../http/responses.js';
import { iso } from '../shared/decimal.js';
import { IdParams, ListQuery, Uuid } from '../shared/schemas.js';
import { User, UserCreate, UserFilters, UserPatch } from './schemas.js';

const TAG = 'Users';
type Row = typeof users.$inferSelect;
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export const toUserDto = (row: Row): User => ({
  id: row.id,
  email: row.email,
  displayName: row.displayName,
  role: row.role,
  organizationId: row.organizationId,
  active: row.active,
  lastLoginAt: row.lastLoginAt ? iso(row.lastLoginAt) : null,
  version: row.version,
  createdAt: iso(row.createdAt),
  updatedAt: iso(row.updatedAt),
});

export async function assertOrganizationExists(tx: Tx | Db, organizationId: string | null | undefined) {
  if (!organizationId) return;
  const found = await tx
    .select({ id: organizations.id })
    .from(organizations)
    .where(eq(organizations.id, organizationId))
    .for('share');
  if (found.length === 0)
    throw badRequest('The organization does not exist.', [
      { path: 'body.organizationId', message: 'unknown organization' },
    ]);
}

const isActiveAdmin = (u: Pick<Row, 'role' | 'active'>) => u.role === 'admin' && u.active;

/**
 * Locks the target and every active admin, in id order (one order for every user write, so two
 * admins demoting each other cannot deadlock), and returns the target plus the other active admins.
 */
async function lockForChange(tx: Tx, id: string) {
  const rows = await tx
    .select()
    .from(users)
    .where(or(eq(users.id, id), and(eq(users.role, 'admin'), eq(users.active, true))))
    .orderBy(users.id)
    .for('update');
  const target = rows.find((r) => r.id === id);
  const otherAdmins = rows.filter((r) => r.id !== id && isActiveAdmin(r)).length;
  return { target, otherAdmins };
}

const UserTombstone = tombstoneOf('User', { organizationId: Uuid.nullable() });
export function userRoutes(app: FastifyInstance, db: Db, auth: AuthService) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get('/users', {
    config: { access: access.admin },
    schema: {
      tags: [TAG],
      operationId: 'listUsers',
      summary: 'List users',
      description:
        'Cursor-paginated, ordered by e-mail; filters are exact matches. ?format=csv|xlsx answers a file (every match, streamed, without ?limit).' +
        exportEtagDescription,
      querystring: ListQuery.extend({
        ...UserFilters.shape,
        ...ListExportQueryShape,
        updatedSince: UpdatedSince.optional(),
      }),
      response: {
        200: syncListOf(User, UserTombstone),
        304: NOT_MODIFIED,
        ...errorResponses(400, 401, 403, 410),
        ...exportBusyResponses,
      },
    },
    handler: async (request, reply) => {
      const q = request.query;
      const where: (SQL | undefined)[] = [
        q.role ? eq(users.role, q.role) : undefined,
        q.organizationId ? eq(users.organizationId, q.organizationId) : undefined,
        q.active !== undefined ? eq(users.active, q.active) : undefined,
        q.email ? eq(users.email, q.email) : undefined,
      ];
      return answerList(
        request,
        reply,
        {
          db,
          list: tableList({ table: users, where, orderBy: [users.email, users.id], toDto: toUserDto }),
          export: {
            name: 'users',
            columns: columnsOf<User>(User),
            watermark: (d) =>
              changeWatermark(d, [sql`${users.changeXid}`], sql`from ${users} where ${and(...where) ?? sql`true`}`),
          },
          sync: {
            read: (s) =>
              syncList(db, {
                table: users,
                entityType: 'user',
                liveConditions: where,
                // A tombstone remembers the organization; other filters apply to live rows only.
                deadConditions: [q.organizationId ? eq(syncDeletions.parentId, q.organizationId) : undefined],
                ...s,
                toDto: toUserDto,
                toTombstone: (d) => ({
                  id: d.entityId,
                  deleted: true as const,
                  updatedAt: iso(d.deletedAt),
                  organizationId: d.parentId,
                }),
              }),
          },
        },
        q,
      );
    },
  });

  r.post('/users', {
    config: { access: access.admin },
    schema: {
      tags: [TAG],
      operationId: 'createUser',
      summary: 'Create a user',
      description: 'The password is stored as an argon2id hash and never returned. Editors need an organizationId.',
      body: UserCreate,
      response: { 201: User, ...errorResponses(400, 401, 403, 409, 413, 415) },
    },
    handler: async (request, reply) => {
      const { password, ...fields } = request.body;
      const passwordHash = await hashPassword(password);
      const created = await db.transaction(async (tx) => {
        await assertOrganizationExists(tx, fields.organizationId);
        const [row] = await tx
          .insert(users)
          .values({ ...fields, organizationId: fields.organizationId ?? null, passwordHash })
          .returning();
        await recordAudit(tx, actorOf(request), {
          entityType: 'user',
          entityId: row!.id,
          action: 'create',
          after: toUserDto(row!),
        });
        return row!;
      });
      request.log.info({ event: 'user_created', userId: created.id, role: created.role }, 'user created');
      setEtag(reply, created.version);
      reply.header('location', `${request.routeOptions.url!.replace(/\/users$/, '')}/users/${created.id}`);
      return reply.code(201).send(toUserDto(created));
    },
  });

  r.get('/users/:id', {
    config: { access: access.admin },
    schema: {
      tags: [TAG],
      operationId: 'getUser',
      summary: 'Get a user',
      params: IdParams,
      response: { 200: User, 304: z.null().describe('Not modified'), ...errorResponses(400, 401, 403, 404) },
    },
    handler: async (request, reply) => {
      const [row] = await db.select().from(users).where(eq(users.id, request.params.id));
      if (!row) throw notFound('user', request.params.id);
      setEtag(reply, row.version);
      if (notModified(request, row.version)) return reply.code(304).send(null);
      return toUserDto(row);
    },
  });

  r.patch('/users/:id', {
    config: { access: access.admin },
    schema: {
      tags: [TAG],
      operationId: 'updateUser',
      summary: 'Update a user (role, organization, activation, password, ...)',
      description:
        'Partial update; send If-Match to refuse stale writes (412). Deactivating or setting a password ends every session ' +
        "of the user, and the user's access tokens are refused from the next request (other replicas: within " +
        'PRINCIPAL_CACHE_MS, default 1 s). The last active admin cannot be ' +
        'demoted or deactivated (409).',
      params: IdParams,
      body: UserPatch,
      response: { 200: User, ...errorResponses(400, 401, 403, 404, 409, 412, 413, 415) },
    },
    handler: async (request, reply) => {
      const { id } = request.params;
      const { password, ...changes } = request.body;
      const passwordHash = password ? await hashPassword(password) : undefined;
      const updated = await db.transaction(async (tx) => {
        const { target, otherAdmins } = await lockForChange(tx, id);
        if (!target) throw notFound('user', id);
        assertIfMatch(request, target.version);
        const next = { ...target, ...changes };
        if (next.role === 'editor' && !next.organizationId) {
          throw badRequest('An editor needs an organization.', [
            { path: 'body.organizationId', message: 'required for editors' },
          ]);
        }
        if (changes.organizationId) await assertOrganizationExists(tx, changes.organizationId);
        if (isActiveAdmin(target) && !isActiveAdmin(next) && otherAdmins === 0) {
          throw conflict('This is the last active admin; make another user admin first.');
        }
        const [row] = await tx
          .update(users)
          .set({
            ...changes,
            // A new password also ends the user's access tokens (src/auth/directory.ts).
            ...(passwordHash ? { passwordHash, sessionVersion: sql`${users.sessionVersion} + 1` } : {}),
            version: sql`${users.version} + 1`,
            updatedAt: sql`now()`,
          })
          .where(eq(users.id, id))
          .returning();
        if (passwordHash || (target.active && !next.active)) await auth.refreshTokens.revokeAll(tx, id);
        // The DTO never holds the hash; a password change shows as passwordChanged.
        await recordAudit(tx, actorOf(request), {
          entityType: 'user',
          entityId: id,
          action: 'update',
          before: toUserDto(target),
          after: { ...toUserDto(row!), ...(passwordHash ? { passwordChanged: true } : {}) },
        });
        return row!;
      });
      auth.directory.invalidate('user', id);
      request.log.info({ event: 'user_updated', userId: id, fields: Object.keys(request.body) }, 'user updated');
      setEtag(reply, updated.version);
      return toUserDto(updated);
    },
  });

  r.delete('/users/:id', {
    config: { access: access.admin },
    schema: {
      tags: [TAG],
      operationId: 'deleteUser',
      summary: 'Delete a user',
      description:
        'Ends every session of the user. The last active admin cannot be deleted (409). Prefer deactivation to keep the record.',
      params: IdParams,
      response: { 204: z.null().describe('Deleted'), ...errorResponses(400, 401, 403, 404, 409, 412) },
    },
    handler: async (request, reply) => {
      const { id } = request.params;
      await db.transaction(async (tx) => {
        const { target, otherAdmins } = await lockForChange(tx, id);
        if (!target) throw notFound('user', id);
        assertIfMatch(request, target.version);
        if (isActiveAdmin(target) && otherAdmins === 0)
          throw conflict('This is the last active admin; make another user admin first.');
        await tx.delete(users).where(eq(users.id, id));
        await recordAudit(tx, actorOf(request), {
          entityType: 'user',
          entityId: id,
          action: 'delete',
          before: toUserDto(target),
        });
      });
      auth.directory.invalidate('user', id);
      request.log.info({ event: 'user_deleted', userId: id }, 'user deleted');
      return reply.code(204).send(null);
    },
  });
}
