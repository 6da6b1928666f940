/**
 * /clients: admins manage service accounts. HTTP only; the secret handling and the rules live in
 * src/clients/service.ts. A secret is shown once, in the answer that creates or rotates it.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { accountListRoute } from '../accounts/routes.js';
import type { AuthService } from '../auth/service.js';
import type { Db } from '../db/client.js';
import { serviceClients } from '../db/schema.js';
import { access } from '../http/access.js';
import { actorOf } from '../http/actor.js';
import { answerVersioned, ifMatchOf, setEtag } from '../http/etag.js';
import { errorResponses } from '../http/responses.js';
import { IdParams } from '../shared/schemas.js';
import { clientFilters, toClientDto } from './repository.js';
import { Client, ClientCreate, ClientFilters, ClientPatch, ClientTombstone, ClientWithSecret } from './schemas.js';
import { clientService } from './service.js';

const TAG = 'Clients';
export function clientRoutes(app: FastifyInstance, db: Db, auth: AuthService) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const service = clientService({ db, directory: auth.directory });

  accountListRoute(app, db, {
    path: '/clients',
    tag: TAG,
    operationId: 'listClients',
    summary: 'List service clients',
    description:
      'Cursor-paginated, ordered by name; filters are exact matches. Secrets are never listed. ?format=csv|xlsx answers a file (every match, streamed, without ?limit).',
    filters: ClientFilters,
    where: clientFilters,
    entity: Client,
    tombstone: ClientTombstone,
    table: serviceClients,
    entityType: 'client',
    name: 'clients',
    orderBy: [serviceClients.name, serviceClients.id],
    toDto: toClientDto,
  });

  r.post('/clients', {
    config: { access: access.admin },
    schema: {
      tags: [TAG],
      operationId: 'createClient',
      summary: 'Create a service client',
      description: 'The response carries clientSecret, once. Use clientId and clientSecret at POST /auth/token.',
      body: ClientCreate,
      response: { 201: ClientWithSecret, ...errorResponses(400, 401, 403, 409, 413, 415) },
    },
    handler: async (request, reply) => {
      const { row: created, clientSecret } = await service.create(actorOf(request), request.body);
      request.log.info({ event: 'client_created', clientId: created.id, role: created.role }, 'service client created');
      setEtag(reply, created.version);
      reply.header('location', `${request.routeOptions.url!.replace(/\/clients$/, '')}/clients/${created.id}`);
      reply.header('cache-control', 'no-store');
      return reply.code(201).send({ ...toClientDto(created), clientSecret });
    },
  });

  r.get('/clients/:id', {
    config: { access: access.admin },
    schema: {
      tags: [TAG],
      operationId: 'getClient',
      summary: 'Get a service client',
      params: IdParams,
      response: { 200: Client, 304: z.null().describe('Not modified'), ...errorResponses(400, 401, 403, 404) },
    },
    handler: async (request, reply) =>
      answerVersioned(request, reply, await service.get(request.params.id), toClientDto),
  });

  r.patch('/clients/:id', {
    config: { access: access.admin },
    schema: {
      tags: [TAG],
      operationId: 'updateClient',
      summary: 'Update a service client (name, role, organization, activation)',
      description:
        "Partial update; send If-Match to refuse stale writes (412). Deactivation refuses the client's tokens from the next request.",
      params: IdParams,
      body: ClientPatch,
      response: { 200: Client, ...errorResponses(400, 401, 403, 404, 409, 412, 413, 415) },
    },
    handler: async (request, reply) => {
      const { id } = request.params;
      const updated = await service.update(actorOf(request), id, request.body, ifMatchOf(request));
      request.log.info(
        { event: 'client_updated', clientId: id, fields: Object.keys(request.body) },
        'service client updated',
      );
      setEtag(reply, updated.version);
      return toClientDto(updated);
    },
  });

  r.post('/clients/:id/secret', {
    config: { access: access.admin },
    schema: {
      tags: [TAG],
      operationId: 'rotateClientSecret',
      summary: "Replace a service client's secret",
      description:
        'The old secret stops working at once; the response carries the new one, once. Access tokens already issued stay ' +
        'valid until they expire (minutes); deactivate the client to cut them off too.',
      params: IdParams,
      response: { 200: ClientWithSecret, ...errorResponses(400, 401, 403, 404, 412) },
    },
    handler: async (request, reply) => {
      const { id } = request.params;
      const { row: updated, clientSecret } = await service.rotateSecret(actorOf(request), id, ifMatchOf(request));
      request.log.info({ event: 'client_secret_rotated', clientId: id }, 'service client secret rotated');
      setEtag(reply, updated.version);
      reply.header('cache-control', 'no-store');
      return { ...toClientDto(updated), clientSecret };
    },
  });

  r.delete('/clients/:id', {
    config: { access: access.admin },
    schema: {
      tags: [TAG],
      operationId: 'deleteClient',
      summary: 'Delete a service client',
      description: 'Its tokens are refused from the next request.',
      params: IdParams,
      response: { 204: z.null().describe('Deleted'), ...errorResponses(400, 401, 403, 404, 412) },
    },
    handler: async (request, reply) => {
      const { id } = request.params;
      await service.remove(actorOf(request), id, ifMatchOf(request));
      request.log.info({ event: 'client_deleted', clientId: id }, 'service client deleted');
      return reply.code(204).send(null);
    },
  });
}
