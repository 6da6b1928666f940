/**
 * Every write records its audit rows through here, inside the write's own transaction, so a
 * change and its record commit or roll back together. The actor says who acted in which request;
 * no HTTP types, so services, imports and command-line tools record the same way.
 */
import type { SQL } from 'drizzle-orm';
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import type { Tx } from '../db/tx.js';
import { auditLog } from '../db/schema.js';
import type { Actor } from '../shared/actor.js';

export type AuditAction = 'create' | 'update' | 'delete' | 'approve' | 'reopen';

/** A JSON document already serialized (a hot path's hand-written JSON.stringify); see auditJson. */
export interface AuditJson {
  readonly auditJson: string;
}

/** Marks `text` (one JSON document, as JSON.stringify would write it) for storing as it is. */
export const auditJson = (text: string): AuditJson => ({ auditJson: text });

export interface AuditEntry {
  entityType: string;
  entityId: string;
  /** Stable name across delete/re-create, e.g. "<indicatorId>/<year>" for measurements. */
  entityKey?: string;
  action: AuditAction;
  before?: object | null;
  after?: object | null;
}

const isRaw = (value: object): value is AuditJson => typeof (value as Partial<AuditJson>).auditJson === 'string';

/** Dates become ISO strings and undefined disappears, as they would in the API's JSON. */
function jsonText(value: object | null | undefined): string | null {
  if (!value) return null;
  return isRaw(value) ? value.auditJson : JSON.stringify(value);
}

const plain = (value: object | null | undefined) => {
  const text = jsonText(value);
  return text === null ? null : (JSON.parse(text) as Record<string, unknown>);
};

export async function recordAudit(tx: Tx | Db, actor: Actor, entry: AuditEntry): Promise<void> {
  await tx.insert(auditLog).values({
    actorType: actor.kind,
    actorId: actor.id,
    entityType: entry.entityType,
    entityId: entry.entityId,
    entityKey: entry.entityKey ?? null,
    action: entry.action,
    before: plain(entry.before),
    after: plain(entry.after),
    requestId: actor.requestId,
    correlationId: actor.correlationId,
  });
}

/**
 * Text values one per line, split back by string_to_array(..., E'\n', '') with '' for null: one
 * parameter per column whatever the number of rows, and each JSON document parsed once by the
 * server (a jsonb[] parameter would have every quote escaped by the driver and unescaped again).
 * Ids, keys, names and JSON.stringify output never hold a raw line break.
 */
const lines = (values: (string | null)[]) => values.map((v) => v ?? '').join('\n');

/**
 * Many audit rows of one actor in one statement: what bulk writes, imports and cascade deletes
 * use, so a write of 10,000 rows costs one insert rather than 10,000.
 */
export async function recordAuditMany(tx: Tx | Db, actor: Actor, entries: readonly AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  if (entries.length === 1) return recordAudit(tx, actor, entries[0]!);
  await tx.execute(auditInsertSql(actor, entries));
}

/**
 * recordAuditMany's INSERT as SQL, for a set-based write that records its audit in its own
 * statement: prefixed by the write's data-modifying CTEs (`with input as (...), updated as
 * (update ...) <this>`), the rows and their audit travel in one round trip and one statement (the
 * bulk batch: a second statement was a round trip, a parse and a plan per batch). `entries` must
 * not be empty. The rows are the same as recordAuditMany writes, in the order of `entries`.
 */
export function auditInsertSql(actor: Actor, entries: readonly AuditEntry[]): SQL {
  const column = (f: (e: AuditEntry) => string | null) =>
    sql`string_to_array(${lines(entries.map(f))}::text, E'\n', '')`;
  return sql`
    insert into ${auditLog} (actor_type, actor_id, entity_type, entity_id, entity_key, action, before, after, request_id, correlation_id)
    select ${actor.kind}, ${actor.id}, r.entity_type, r.entity_id, r.entity_key, r.action, r.before, r.after, ${actor.requestId},
      ${actor.correlationId}
    from unnest(${column((e) => e.entityType)}, ${column((e) => e.entityId)}, ${column((e) => e.entityKey ?? null)},
      ${column((e) => e.action)}, ${column((e) => jsonText(e.before))}::jsonb[], ${column((e) => jsonText(e.after))}::jsonb[])
      with ordinality as r(entity_type, entity_id, entity_key, action, before, after, ord)
    order by r.ord
  `;
}
