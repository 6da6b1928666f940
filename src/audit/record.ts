/**
 * Every write records one audit row through here, inside the write's own transaction, so a
 * change and its record commit or roll back together.
 */
import type { FastifyRequest } from 'fastify';
import type { Db } from '../db/client.js';
import type { Tx } from '../db/hierarchy.js';
import { auditLog } from '../db/schema.js';

export type AuditAction = 'create' | 'update' | 'delete' | 'approve' | 'reopen';

export interface AuditEntry {
  entityType: string;
  entityId: string;
  /** Stable name across delete/re-create, e.g. "<indicatorId>/<year>" for measurements. */
  entityKey?: string;
  action: AuditAction;
  before?: object | null;
  after?: object | null;
}

/** Dates become ISO strings and undefined disappears, as they would in the API's JSON. */
const plain = (value: object | null | undefined) =>
  value ? (JSON.parse(JSON.stringify(value)) as Record<string, unknown>) : null;

/** Who acts and in which request: a Fastify request, or the same fields from a service. */
export type AuditContext = Pick<FastifyRequest, 'principal' | 'id'> & { correlationId?: string | null };

export async function recordAudit(tx: Tx | Db, request: AuditContext, entry: AuditEntry): Promise<void> {
  const principal = request.principal;
  await tx.insert(auditLog).values({
    actorType: principal?.kind ?? 'system',
    actorId: principal?.id ?? null,
    entityType: entry.entityType,
    entityId: entry.entityId,
    entityKey: entry.entityKey ?? null,
    action: entry.action,
    before: plain(entry.before),
    after: plain(entry.after),
    requestId: request.id,
    correlationId: request.correlationId ?? null,
  });
}
