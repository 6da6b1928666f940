/**
 * The HTTP side users and service clients share: their list routes, alike but for names (keyset
 * pages, files, incremental sync whose tombstones remember the organization; admins only).
 * Each feature's routes.ts names its operation, filters and schemas.
 */
import type { SQL } from 'drizzle-orm';
import { and, eq, sql } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import type { Db } from '../db/client.js';
import { syncDeletions } from '../db/schema.js';
import { ListExportQueryShape, columnsOf } from '../exports/tabular.js';
import { access } from '../http/access.js';
import { NOT_MODIFIED } from '../http/conditional.js';
import { exportEtagDescription } from '../http/export-etag.js';
import { exportBusyResponses } from '../http/export-guard.js';
import { errorResponses } from '../http/responses.js';
import { ListQuery } from '../shared/schemas.js';
import { UpdatedSince, syncListOf } from '../sync/cursor.js';
import { answerList } from '../http/list-pipeline.js';
import { changeWatermark } from '../lists/watermark.js';
import { tableList } from '../lists/table.js';
import { iso } from '../shared/decimal.js';
import { syncList } from '../sync/lists.js';

type AccountTable = PgTable & {
  id: AnyPgColumn;
  organizationId: AnyPgColumn;
  changeXid: AnyPgColumn;
  updatedAt: AnyPgColumn;
};

interface AccountListRoute<T extends AccountTable, Dto, F extends z.ZodRawShape> {
  path: string;
  tag: string;
  operationId: string;
  summary: string;
  description: string;
  /** The list's exact-match filters; organizationId among them. */
  filters: z.ZodObject<F>;
  where: (q: z.output<z.ZodObject<F>>) => (SQL | undefined)[];
  entity: z.ZodObject;
  tombstone: z.ZodType;
  table: T;
  /** entity_type of the tombstones. */
  entityType: 'user' | 'client';
  /** The export's file name, without extension. */
  name: string;
  orderBy: AnyPgColumn[];
  toDto: (row: T['$inferSelect']) => Dto;
}

export function accountListRoute<T extends AccountTable, Dto, F extends z.ZodRawShape>(
  app: FastifyInstance,
  db: Db,
  o: AccountListRoute<T, Dto, F>,
) {
  const { table, toDto } = o;
  const querystring = ListQuery.extend({
    ...o.filters.shape,
    ...ListExportQueryShape,
    updatedSince: UpdatedSince.optional(),
  });
  app.withTypeProvider<ZodTypeProvider>().get(o.path, {
    config: { access: access.admin },
    schema: {
      tags: [o.tag],
      operationId: o.operationId,
      summary: o.summary,
      description: o.description + exportEtagDescription,
      querystring,
      response: {
        200: syncListOf(o.entity, o.tombstone),
        304: NOT_MODIFIED,
        ...errorResponses(400, 401, 403, 410),
        ...exportBusyResponses,
      },
    },
    handler: async (request, reply) => {
      // Validated against `querystring` above; generic filters defeat the type provider's inference.
      const q = request.query as Parameters<typeof answerList>[3] & { organizationId?: string };
      const where = o.where(request.query as z.output<z.ZodObject<F>>);
      return answerList(
        request,
        reply,
        {
          db,
          list: tableList({ table, where, orderBy: o.orderBy, toDto }),
          export: {
            name: o.name,
            columns: columnsOf<Dto>(o.entity),
            watermark: (d) =>
              changeWatermark(d, [sql`${table.changeXid}`], sql`from ${table} where ${and(...where) ?? sql`true`}`),
          },
          sync: {
            read: (s) =>
              syncList(db, {
                table,
                entityType: o.entityType,
                liveConditions: where,
                // A tombstone remembers the organization; other filters apply to live rows only.
                deadConditions: [q.organizationId ? eq(syncDeletions.parentId, q.organizationId) : undefined],
                ...s,
                toDto,
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
}
