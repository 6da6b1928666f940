/**
 * The list route of a CRUD entity (src/http/crud.ts): its rows as a table list (src/lists/table.ts)
 * under the parent and the filters, answered by the one list pipeline (src/http/list-pipeline.ts):
 * JSON pages, CSV/XLSX exports, and incremental sync for the tables that carry change_xid.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { SQL } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { syncDeletions } from '../db/schema.js';
import { ListExportQueryShape, columnsOf } from '../exports/tabular.js';
import { tableList } from '../lists/table.js';
import { iso } from '../shared/decimal.js';
import { ListQuery, listOf } from '../shared/schemas.js';
import { UpdatedSince, syncListDescription, syncListOf, tombstoneOf } from '../sync/cursor.js';
import { isSyncTable, syncList } from '../sync/lists.js';
import { access } from './access.js';
import type { CrudSpec, CrudTable } from './crud.js';
import { exportEtagDescription } from './export-etag.js';
import { changeWatermark } from '../lists/watermark.js';
import { exportBusyResponses } from './export-guard.js';
import type { ListSync } from './list-pipeline.js';
import { answerList } from './list-pipeline.js';
import { notFound } from './problem.js';
import { errorResponses } from './responses.js';

export function registerCrudList<
  E extends z.ZodObject,
  C extends z.ZodType,
  P extends z.ZodType,
  F extends z.ZodObject,
  T extends CrudTable,
>(app: FastifyInstance, db: Db, spec: CrudSpec<E, C, P, F, T>, names: { title: string; pluralTitle: string }) {
  const table = spec.table;
  const parent = spec.parent;
  const syncable = isSyncTable(table);
  const tombstone = tombstoneOf(names.title, parent ? { [parent.param]: z.uuid() } : {});
  const parentParams = parent ? z.strictObject({ [parent.param]: z.uuid() }) : undefined;
  const query = ListQuery.extend({
    ...spec.filters.shape,
    ...(syncable ? { updatedSince: UpdatedSince.optional() } : {}),
    ...ListExportQueryShape,
  });
  type Query = z.output<typeof ListQuery> &
    z.output<F> & { updatedSince?: string; format?: 'json' | 'csv' | 'xlsx'; sep?: ',' | ';'; delimiter?: ',' | ';' };
  const columns = columnsOf<z.output<E>>(spec.entity);

  async function assertParent(id: string) {
    const p = parent!;
    const rows = await db.select({ id: p.table.id }).from(p.table).where(eq(p.table.id, id)).limit(1);
    if (rows.length === 0) throw notFound(p.name, id);
  }

  // Plain route options: the querystring's static type cannot be followed through this generic
  // factory (its shape is spread from F), so the handler reads it as Query; zod still validates it.
  app.withTypeProvider<ZodTypeProvider>().get(spec.collectionPath, {
    config: { access: access.viewer },
    schema: {
      tags: [spec.tag],
      operationId: `list${names.pluralTitle}`,
      summary: `List ${spec.plural}`,
      description:
        (spec.listDescription ??
          `Cursor-paginated, ordered by ${spec.hasPosition ? 'position, code' : 'code'}; filters are exact matches.`) +
        (syncable ? syncListDescription : '') +
        ' ?format=csv (UTF-8 with BOM, ?sep=, or ;) or ?format=xlsx answers a file with one column per field (localized text ' +
        'one per language); without ?limit it holds every matching row, streamed.' +
        (syncable ? exportEtagDescription : ''),
      ...(parentParams ? { params: parentParams } : {}),
      querystring: query,
      response: {
        200: syncable ? syncListOf(spec.entity, tombstone) : listOf(spec.entity),
        ...errorResponses(...(syncable ? [400, 401, 403, 404, 410] : [400, 401, 403, 404])),
        ...exportBusyResponses,
      },
    },
    handler: async (request, reply) => {
      const q = request.query as Query;
      const parentId = parent ? (request.params as Record<string, string>)[parent.param] : undefined;
      const where: (SQL | undefined)[] = [
        ...spec.filterConditions(q),
        parent && parentId ? eq(parent.column, parentId) : undefined,
      ];
      const list = tableList({ table, where, orderBy: spec.orderBy, toDto: spec.toDto });
      const sync: ListSync<unknown> | undefined = isSyncTable(table)
        ? {
            read: (s) =>
              syncList(db, {
                table,
                entityType: spec.name,
                liveConditions: where,
                deadConditions: [
                  parentId ? eq(syncDeletions.parentId, parentId) : undefined,
                  tombstoneFilter(spec.name, q),
                ],
                ...s,
                toDto: (row) => spec.toDto(row),
                toTombstone: (d) => ({
                  id: d.entityId,
                  deleted: true,
                  updatedAt: iso(d.deletedAt),
                  ...(parent ? { [parent.param]: d.parentId } : {}),
                }),
              }),
          }
        : undefined;
      return answerList(
        request,
        reply,
        {
          db,
          list,
          parent: parentId ? () => assertParent(parentId) : undefined,
          export: {
            name: spec.plural,
            columns,
            watermark: isSyncTable(table)
              ? (d) =>
                  changeWatermark(d, [sql`${table.changeXid}`], sql`from ${table} where ${and(...where) ?? sql`true`}`)
              : undefined,
          },
          sync,
        },
        q,
      );
    },
  });
}

/** A plan's tombstone records its organization, so ?organizationId= filters plan tombstones too. */
function tombstoneFilter(entityType: string, query: Record<string, unknown>): SQL | undefined {
  const organizationId = query.organizationId;
  return entityType === 'plan' && typeof organizationId === 'string'
    ? eq(syncDeletions.parentId, organizationId)
    : undefined;
}
