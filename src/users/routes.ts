/** /users: admins manage the people who log in. HTTP only; the rules live in src/users/service.ts. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { accountListRoute } from '../accounts/routes.js';
import type { AuthService } from '../auth/service.js';
import type { Db } from '../db/client.js';
import { users } from '../db/schema.js';
import { access } from '../http/access.js';
import { actorOf } from '../http/actor.js';
import { answerVersioned, ifMatchOf, setEtag } from '../http/etag.js';
import { errorResponses } from '../http/responses.js';
import { IdParams } from '../shared/schemas.js';
import { toUserDto, userFilters } from './repository.js';
import { User, UserCreate, UserTombstone, UserFilters, UserPatch } from './schemas.js';
import { userService } from './service.js';

const TAG = 'Users';

export function userRoutes(app: FastifyInstance, db: Db, auth: AuthService) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const service = userService({ db, refreshTokens: auth.refreshTokens, directory: auth.directory });

  accountListRoute(app, db, {
    path: '/users',
    tag: TAG,
    operationId: 'listUsers',
    summary: 'List users',
    description:
      'Cursor-paginated, ordered by e-mail; filters are exact matches. ?format=csv|xlsx answers a file (every match, streamed, without ?limit).',
    filters: UserFilters,
    where: userFilters,
    entity: User,
    tombstone: UserTombstone,
    table: users,
    entityType: 'user',
    name: 'users',
    orderBy: [users.email, users.id],
    toDto: toUserDto,
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
      const created = await service.create(actorOf(request), request.body);
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
    handler: async (request, reply) => answerVersioned(request, reply, await service.get(request.params.id), toUserDto),
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
      const updated = await service.update(actorOf(request), id, request.body, ifMatchOf(request));
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
      await service.remove(actorOf(request), id, ifMatchOf(request));
      request.log.info({ event: 'user_deleted', userId: id }, 'user deleted');
      return reply.code(204).send(null);
    },
  });
}
