import { exportBusyResponses } from '../http/export-guard.js';
import type { SQL } from 'drizzle-orm';
import { ListExportQueryShape, columnsOf } from '../exports/tabular.js';
import { answerList } from '../http/list-pipeline.js';
import { tableList } from '../lists/table.js';
import { and, eq, gte, lt, sql } from 'drizzle-orm';
import { NOT_MODIFIED } from '../http/conditional.js';
import { exportEtagDescription } from '../http/export-etag.js';
import { changeWatermark } from '../lists/watermark.js';
import { badRequest } from '../http/problem.js';
import { SyncCursorField, UpdatedSince } from '../sync/cursor.js';
import { auditSync } from '../sync/audit.js';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import type { Db } from '../db/client.js';
import { auditLog } from '../db/schema.js';
import { access } from '../http/access.js';
import { decodeCursor } from '../http/pagination.js';
import { errorResponses } from '../http/responses.js';
import { MeasurementParams } from '../measurements/schemas.js';
import { ListQuery, listOf } from '../shared/schemas.js';
import { AuditEntry, AuditQuery } from './schemas.js';

type Row = typeof auditLog.$inferSelect;

type AuditEntryDto = z.output<typeof AuditEntry>;

const toDto = (row: Row): AuditEntryDto => ({
  ...row,
  at: row.at.toISOString(),
  actorType: row.actorType as z.output<typeof AuditEntry>['actorType'],
  action: row.action as z.output<typeof AuditEntry>['action'],
});

/** The id an ordinary audit cursor carries; anything but a whole number is a 400, never a SQL error. */
function auditCursor(cursor: string): [number] {
  const id = Number(decodeCursor(cursor, 1)[0]);
  if (!Number.isSafeInteger(id)) {
    throw badRequest('The cursor is not valid for this list; start again without it.', [
      { path: 'query.cursor', message: 'invalid cursor' },
    ]);
  }
  return [id];
}

export function auditRoutes(app: FastifyInstance, db: Db) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get('/audit', {
    config: { access: access.admin },
    schema: {
      tags: ['Audit'],
      operationId: 'listAudit',
      summary: 'The audit trail, newest first',
      description:
        'Every change with who made it, when, and the entity before and after. Filters combine. ?format=csv|xlsx answers a file ' +
        '(every match, streamed, without ?limit; before/after as JSON text).' +
        exportEtagDescription +
        ' Incremental sync (?updatedSince=, or a cursor from a previous sync; JSON only): entries recorded at or after that instant, ' +
        'in commit order (oldest first, not newest first), with `syncCursor` on the last page to pass as ?cursor= next time; ' +
        'an entry committed late is never skipped. The trail is append-only: there are no tombstones, and no retention ' +
        'horizon applies (never 410).',
      querystring: AuditQuery.extend({ ...ListExportQueryShape, updatedSince: UpdatedSince.optional() }),
      response: {
        200: listOf(AuditEntry).extend({ syncCursor: SyncCursorField }),
        304: NOT_MODIFIED,
        ...errorResponses(400, 401, 403),
        ...exportBusyResponses,
      },
    },
    handler: async (request, reply) => {
      const q = request.query;
      const where: (SQL | undefined)[] = [
        q.entityType ? eq(auditLog.entityType, q.entityType) : undefined,
        q.entityId ? eq(auditLog.entityId, q.entityId) : undefined,
        q.actorId ? eq(auditLog.actorId, q.actorId) : undefined,
        q.from ? gte(auditLog.at, new Date(q.from)) : undefined,
        q.to ? lt(auditLog.at, new Date(q.to)) : undefined,
      ];
      return answerList(
        request,
        reply,
        {
          db,
          list: tableList({
            table: auditLog,
            where,
            orderBy: [auditLog.id],
            direction: 'desc',
            toDto,
            decodeCursor: auditCursor,
          }),
          export: {
            name: 'audit',
            columns: columnsOf<AuditEntryDto>(AuditEntry),
            // Append-only: a new entry changes the count and max, nothing else can change.
            watermark: (d) =>
              changeWatermark(
                d,
                [sql`${auditLog.changeXid}`],
                sql`from ${auditLog} where ${and(...where) ?? sql`true`}`,
              ),
          },
          sync: {
            read: async (s) => {
              const synced = await auditSync(db, where, s);
              return { items: synced.rows.map(toDto), nextCursor: synced.nextCursor, syncCursor: synced.syncCursor };
            },
          },
        },
        q,
      );
    },
  });

  r.get('/indicators/:id/measurements/:year/history', {
    config: { access: access.viewer },
    schema: {
      tags: ['Audit'],
      operationId: 'getMeasurementHistory',
      summary: "Every change of an indicator's measurement for a year, oldest first",
      params: MeasurementParams,
      querystring: ListQuery,
      response: { 200: listOf(AuditEntry), ...errorResponses(400, 401, 403) },
    },
    handler: async (request, reply) => {
      const { id, year } = request.params;
      const where = [eq(auditLog.entityKey, `${id}/${year}`)];
      const list = tableList({ table: auditLog, where, orderBy: [auditLog.id], toDto, decodeCursor: auditCursor });
      return answerList(request, reply, { db, list }, request.query);
    },
  });
}
