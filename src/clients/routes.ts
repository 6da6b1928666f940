/**
 * /clients: admins manage service accounts. The secret is generated here (32 random bytes), shown
 * once, and stored as its sha-256; POST /clients/{id}/secret replaces it (the old one stops working
 * at once). Deactivation refuses the client's tokens from its next request.
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
import { and, eq, sql } from 'drizzle-orm';
import type { SQL } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CLIENT_SECRET_PREFIX, newSecret, sha256 } from '../auth/secrets.js';
import type { AuthService } from '../auth/service.js';
import type { Db } from '../db/client.js';
import { serviceClients } from '../db/schema.js';
import { access } from '../http/access.js';
import { assertIfMatch, notModified, setEtag } from '../http/etag.js';
import { badRequest, notFound } from '../http/problem.js';
import { errorResponses } from '../http/responses.js';
import { iso } from '../shared/decimal.js';
import { IdParams, ListQuery, Uuid } from '../shared/schemas.js';
import { assertOrganizationExists } from '../users/routes.js';
import { Client, ClientCreate, ClientFilters, ClientPatch, ClientWithSecret } from './schemas.js';

const TAG = 'Clients';
type Row = typeof serviceClients.$inferSelect;

export const toClientDto = (row: Row): Client => ({
  id: row.id,
  clientId: row.id,
  name: row.name,
  role: row.role,
  organizationId: row.organizationId,
  active: row.active,
  lastUsedAt: row.lastUsedAt ? iso(row.lastUsedAt) : null,
  version: row.version,
  createdAt: iso(row.createdAt),
  updatedAt: iso(row.updatedAt),
});

const ClientTombstone = tombstoneOf('Client', { organizationId: Uuid.nullable() });
export function clientRoutes(app: FastifyInstance, db: Db, auth: AuthService) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get('/clients', {
    config: { access: access.admin },
    schema: {
      tags: [TAG],
      operationId: 'listClients',
      summary: 'List service clients',
      description:
        'Cursor-paginated, ordered by name; filters are exact matches. Secrets are never listed. ?format=csv|xlsx answers a file (every match, streamed, without ?limit).' +
        exportEtagDescription,
      querystring: ListQuery.extend({
        ...ClientFilters.shape,
        ...ListExportQueryShape,
        updatedSince: UpdatedSince.optional(),
      }),
      response: {
        200: syncListOf(Client, ClientTombstone),
        304: NOT_MODIFIED,
        ...errorResponses(400, 401, 403, 410),
        ...exportBusyResponses,
      },
    },
    handler: async (request, reply) => {
      const q = request.query;
      const where: (SQL | undefined)[] = [
        q.role ? eq(serviceClients.role, q.role) : undefined,
        q.organizationId ? eq(serviceClients.organizationId, q.organizationId) : undefined,
        q.active !== undefined ? eq(serviceClients.active, q.active) : undefined,
      ];
      return answerList(
        request,
        reply,
        {
          db,
          list: tableList({
            table: serviceClients,
            where,
            orderBy: [serviceClients.name, serviceClients.id],
            toDto: toClientDto,
          }),
          export: {
            name: 'clients',
            columns: columnsOf<Client>(Client),
            watermark: (d) =>
              changeWatermark(
                d,
                [sql`${serviceClients.changeXid}`],
                sql`from ${serviceClients} where ${and(...where) ?? sql`true`}`,
              ),
          },
          sync: {
            read: (s) =>
              syncList(db, {
                table: serviceClients,
                entityType: 'client',
                liveConditions: where,
                // A tombstone remembers the organization; other filters apply to live rows only.
                deadConditions: [q.organizationId ? eq(syncDeletions.parentId, q.organizationId) : undefined],
                ...s,
                toDto: toClientDto,
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
      const clientSecret = newSecret(CLIENT_SECRET_PREFIX);
      const created = await db.transaction(async (tx) => {
        await assertOrganizationExists(tx, request.body.organizationId);
        const [row] = await tx
          .insert(serviceClients)
          .values({
            ...request.body,
            organizationId: request.body.organizationId ?? null,
            secretHash: sha256(clientSecret),
          })
          .returning();
        await recordAudit(tx, actorOf(request), {
          entityType: 'client',
          entityId: row!.id,
          action: 'create',
          after: toClientDto(row!),
        });
        return row!;
      });
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
    handler: async (request, reply) => {
      const [row] = await db.select().from(serviceClients).where(eq(serviceClients.id, request.params.id));
      if (!row) throw notFound('client', request.params.id);
      setEtag(reply, row.version);
      if (notModified(request, row.version)) return reply.code(304).send(null);
      return toClientDto(row);
    },
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
      const updated = await db.transaction(async (tx) => {
        const [current] = await tx.select().from(serviceClients).where(eq(serviceClients.id, id)).for('update');
        if (!current) throw notFound('client', id);
        assertIfMatch(request, current.version);
        const next = { ...current, ...request.body };
        if (next.role === 'editor' && !next.organizationId) {
          throw badRequest('An editor needs an organization.', [
            { path: 'body.organizationId', message: 'required for editors' },
          ]);
        }
        if (request.body.organizationId) await assertOrganizationExists(tx, request.body.organizationId);
        const [row] = await tx
          .update(serviceClients)
          .set({ ...request.body, version: sql`${serviceClients.version} + 1`, updatedAt: sql`now()` })
          .where(eq(serviceClients.id, id))
          .returning();
        await recordAudit(tx, actorOf(request), {
          entityType: 'client',
          entityId: id,
          action: 'update',
          before: toClientDto(current),
          after: toClientDto(row!),
        });
        return row!;
      });
      auth.directory.invalidate('client', id);
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
      const clientSecret = newSecret(CLIENT_SECRET_PREFIX);
      const updated = await db.transaction(async (tx) => {
        const [current] = await tx.select().from(serviceClients).where(eq(serviceClients.id, id)).for('update');
        if (!current) throw notFound('client', id);
        assertIfMatch(request, current.version);
        const [row] = await tx
          .update(serviceClients)
          .set({ secretHash: sha256(clientSecret), version: sql`${serviceClients.version} + 1`, updatedAt: sql`now()` })
          .where(eq(serviceClients.id, id))
          .returning();
        // The secret itself never reaches the audit trail; the fact of the rotation does.
        await recordAudit(tx, actorOf(request), {
          entityType: 'client',
          entityId: id,
          action: 'update',
          before: toClientDto(current),
          after: { ...toClientDto(row!), secretRotated: true },
        });
        return row!;
      });
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
      await db.transaction(async (tx) => {
        const [current] = await tx.select().from(serviceClients).where(eq(serviceClients.id, id)).for('update');
        if (!current) throw notFound('client', id);
        assertIfMatch(request, current.version);
        await tx.delete(serviceClients).where(eq(serviceClients.id, id));
        await recordAudit(tx, actorOf(request), {
          entityType: 'client',
          entityId: id,
          action: 'delete',
          before: toClientDto(current),
        });
      });
      auth.directory.invalidate('client', id);
      request.log.info({ event: 'client_deleted', clientId: id }, 'service client deleted');
      return reply.code(204).send(null);
    },
  });
}
