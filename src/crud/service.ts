/**
 * The write half every planning entity shares, as a service factory: create under a parent,
 * patch with If-Match and the approved-year lock, delete with the children rule (409 unless
 * cascade, which audits every removed row). Each write owns its transaction and its audit rows.
 * Features supply the table, the row mapping and their cross-field rules (EntityWriteSpec);
 * src/http/crud.ts maps HTTP onto this, and any feature may call it service to service.
 */
import { isDeepStrictEqual } from 'node:util';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { assertNoApprovedYears } from '../approvals/repository.js';
import { recordAudit, recordAuditMany } from '../audit/record.js';
import type { Db } from '../db/client.js';
import { isForeignKeyViolation } from '../db/errors.js';
import { deleteDescendants } from '../db/hierarchy.js';
import type { Tx } from '../db/tx.js';
import type { Actor } from '../shared/actor.js';
import { conflict, notFound } from '../shared/errors.js';
import type { IfMatch } from '../shared/if-match.js';
import { checkIfMatch } from '../shared/if-match.js';
import { assertServable } from '../shared/servable.js';
import type { EntityRow, EntityTable } from './repository.js';
import { deleteEntity, findEntity, insertEntity, lockParent, nextPosition, updateEntity } from './repository.js';

export interface EntityParent {
  table: PgTable & { id: AnyPgColumn };
  column: AnyPgColumn;
  /** For messages: "plan", "goal". */
  name: string;
}

export interface EntityWriteSpec<Dto extends object, Create, Patch> {
  /** The audit trail's entityType and the messages' name: "plan". */
  name: string;
  table: EntityTable;
  parent?: EntityParent;
  /** The response schema: the answer of a write is checked against it before the write commits. */
  entity: { safeParse(value: unknown): { success: boolean; error?: unknown } };
  toDto: (row: EntityRow) => Dto;
  toInsert: (body: Create, parentId: string | undefined) => Record<string, unknown>;
  toUpdate: (patch: Patch) => Record<string, unknown>;
  /** Cross-field and cross-row rules on the row as it would be stored; throws a domain error. */
  validate?: (tx: Tx, candidate: EntityRow, previous: EntityRow | undefined) => Promise<void>;
  /** A new row without a position goes after the last one under its parent. */
  hasPosition?: boolean;
  /**
   * The plan a row belongs to: while that plan has approved years, the row cannot be deleted and
   * `lockedFields` (those that would change an approved verdict) cannot change.
   */
  planOf?: (tx: Tx, row: EntityRow) => Promise<string | undefined>;
  lockedFields?: string[];
}

export function entityWriteService<Dto extends object, Create, Patch>(
  deps: { db: Db },
  spec: EntityWriteSpec<Dto, Create, Patch>,
) {
  const { db } = deps;
  const { table } = spec;
  const served = (row: EntityRow) => assertServable(spec.entity, spec.toDto(row));

  return {
    /** Creates a row under `parentId` (when the entity has a parent); answers the stored row. */
    async create(actor: Actor, parentId: string | undefined, body: Create): Promise<EntityRow> {
      const values = spec.toInsert(body, parentId);
      return db.transaction(async (tx) => {
        const p = spec.parent;
        if (p && parentId && !(await lockParent(tx, p.table, parentId))) throw notFound(p.name, parentId);
        if (spec.hasPosition && values.position === undefined)
          values.position = nextPosition(table, p!.column, parentId);
        await spec.validate?.(tx, values as EntityRow, undefined);
        const row = await insertEntity(tx, table, values);
        await recordAudit(tx, actor, { entityType: spec.name, entityId: row.id, action: 'create', after: served(row) });
        return row;
      });
    },

    /** Applies a partial update; answers the stored row. */
    async update(actor: Actor, id: string, patch: Patch, ifMatch: IfMatch): Promise<EntityRow> {
      const changes = spec.toUpdate(patch);
      return db.transaction(async (tx) => {
        const current = await findEntity(tx, table, id, 'update');
        if (!current) throw notFound(spec.name, id);
        checkIfMatch(ifMatch, current.version);
        const locked = (spec.lockedFields ?? []).filter(
          (f) => f in changes && !isDeepStrictEqual(changes[f], current[f]),
        );
        if (locked.length > 0 && spec.planOf) {
          const planId = await spec.planOf(tx, current);
          if (planId) await assertNoApprovedYears(tx, planId, `change ${locked.join(', ')}`);
        }
        await spec.validate?.(tx, { ...current, ...changes } as EntityRow, current);
        const row = await updateEntity(tx, table, current.id, changes);
        const after = served(row);
        await recordAudit(tx, actor, {
          entityType: spec.name,
          entityId: row.id,
          action: 'update',
          before: spec.toDto(current),
          after,
        });
        return row;
      });
    },

    /**
     * Deletes a row; with `cascade` its descendants first, each recorded in the audit trail (deepest
     * first, the row itself last). Without it, children make it a ConflictError.
     */
    async remove(actor: Actor, id: string, options: { cascade: boolean; ifMatch: IfMatch }): Promise<void> {
      try {
        await db.transaction(async (tx) => {
          const current = await findEntity(tx, table, id, 'update');
          if (!current) throw notFound(spec.name, id);
          checkIfMatch(options.ifMatch, current.version);
          const planId = await spec.planOf?.(tx, current);
          if (planId) await assertNoApprovedYears(tx, planId, `delete this ${spec.name}`);
          const removed = options.cascade ? await deleteDescendants(tx, table, sql`(${id}::uuid)`) : [];
          await deleteEntity(tx, table, id);
          await recordAuditMany(tx, actor, [
            ...removed.map((r) => ({ ...r, action: 'delete' as const })),
            { entityType: spec.name, entityId: id, action: 'delete', before: spec.toDto(current) },
          ]);
        });
      } catch (error) {
        if (isForeignKeyViolation(error)) {
          throw conflict(`The ${spec.name} ${id} still has children; delete them first or pass ?cascade=true.`);
        }
        throw error;
      }
    },
  };
}
