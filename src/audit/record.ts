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
const jsonText = (value: object | null | undefined): string | null => (value ? JSON.stringify(value) : null);

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

/** The columns of an audit row that differ from row to row, as SQL expressions over a set-based source. */
export interface AuditColumnsSql {
  entityType: SQL;
  entityId: SQL;
  entityKey: SQL;
  action: SQL;
  before: SQL;
  after: SQL;
}

/**
 * The recorder's INSERT over any set-based source: `from` (a FROM clause, with its WHERE) yields one
 * audit row per source row, `columns` say what each column is, and the rows are recorded (their ids
 * drawn) in `orderBy`'s order. The actor's columns are the recorder's own. Prefixed by a write's
 * data-modifying CTEs, the rows and their audit travel in one statement; a source that builds the
 * before/after documents in SQL (the bulk batch: src/measurements/bulk.ts) sends no document at all.
 */
export function auditInsertSelect(actor: Actor, columns: AuditColumnsSql, from: SQL, orderBy: SQL): SQL {
  return sql`
    insert into ${auditLog} (actor_type, actor_id, entity_type, entity_id, entity_key, action, before, after, request_id, correlation_id)
    select ${actor.kind}, ${actor.id}, ${columns.entityType}, ${columns.entityId}, ${columns.entityKey}, ${columns.action},
      ${columns.before}, ${columns.after}, ${actor.requestId}, ${actor.correlationId}
    from ${from}
    order by ${orderBy}
  `;
}

/**
 * recordAuditMany's INSERT as SQL (entries travel as one text parameter per column). `entries` must
 * not be empty. The rows are the same as recordAuditMany writes, in the order of `entries`.
 */
function auditInsertSql(actor: Actor, entries: readonly AuditEntry[]): SQL {
  const column = (f: (e: AuditEntry) => string | null) =>
    sql`string_to_array(${lines(entries.map(f))}::text, E'\n', '')`;
  return auditInsertSelect(
    actor,
    {
      entityType: sql`r.entity_type`,
      entityId: sql`r.entity_id`,
      entityKey: sql`r.entity_key`,
      action: sql`r.action`,
      before: sql`r.before`,
      after: sql`r.after`,
    },
    sql`unnest(${column((e) => e.entityType)}, ${column((e) => e.entityId)}, ${column((e) => e.entityKey ?? null)},
      ${column((e) => e.action)}, ${column((e) => jsonText(e.before))}::jsonb[], ${column((e) => jsonText(e.after))}::jsonb[])
      with ordinality as r(entity_type, entity_id, entity_key, action, before, after, ord)`,
    sql`r.ord`,
  );
}
