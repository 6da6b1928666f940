/**
 * The account writes users and service clients share, each inside the caller's transaction:
 * the organization rule (an editor needs one, and a named one must exist), then the row written
 * and its audit row recorded. The features own their transactions and their own rules (the last
 * admin, passwords, secrets) in src/users/service.ts and src/clients/service.ts.
 */
import type { Tx } from '../db/tx.js';
import { recordAudit } from '../audit/record.js';
import type { EntityTable } from '../crud/repository.js';
import { deleteEntity, findEntity, insertEntity, updateEntity } from '../crud/repository.js';
import type { Actor } from '../shared/actor.js';
import { invalid, notFound } from '../shared/errors.js';
import type { IfMatch } from '../shared/if-match.js';
import { checkIfMatch } from '../shared/if-match.js';
import { assertOrganizationExists } from './repository.js';

interface AccountShape {
  id: string;
  version: number;
  role: string;
  organizationId: string | null;
}

export interface AccountKind<Row extends AccountShape, Dto extends object> {
  entityType: 'user' | 'client';
  table: EntityTable;
  toDto: (row: Row) => Dto;
}

/** An editor needs an organization, and an organization named by the write must exist. */
export async function checkOrganization(
  tx: Tx,
  next: Pick<AccountShape, 'role' | 'organizationId'>,
  named: string | null | undefined,
) {
  if (next.role === 'editor' && !next.organizationId) {
    throw invalid('An editor needs an organization.', [
      { path: 'body.organizationId', message: 'required for editors' },
    ]);
  }
  await assertOrganizationExists(tx, named);
}

export function accountWrites<Row extends AccountShape, Dto extends object>(kind: AccountKind<Row, Dto>) {
  const { entityType, table, toDto } = kind;
  return {
    /** The row locked for a change, If-Match checked; 404 when it does not exist. */
    async lock(tx: Tx, id: string, ifMatch: IfMatch): Promise<Row> {
      const row = (await findEntity(tx, table, id, 'update')) as unknown as Row | undefined;
      if (!row) throw notFound(entityType, id);
      checkIfMatch(ifMatch, row.version);
      return row;
    },

    async insert(tx: Tx, actor: Actor, values: Record<string, unknown>): Promise<Row> {
      const row = (await insertEntity(tx, table, values)) as unknown as Row;
      await recordAudit(tx, actor, { entityType, entityId: row.id, action: 'create', after: toDto(row) });
      return row;
    },

    /** `noted` joins the audit's after-image: facts the DTO does not show (a password or secret changed). */
    async update(
      tx: Tx,
      actor: Actor,
      before: Row,
      changes: Record<string, unknown>,
      noted: object = {},
    ): Promise<Row> {
      const row = (await updateEntity(tx, table, before.id, changes)) as unknown as Row;
      await recordAudit(tx, actor, {
        entityType,
        entityId: before.id,
        action: 'update',
        before: toDto(before),
        after: { ...toDto(row), ...noted },
      });
      return row;
    },

    async remove(tx: Tx, actor: Actor, before: Row): Promise<void> {
      await deleteEntity(tx, table, before.id);
      await recordAudit(tx, actor, { entityType, entityId: before.id, action: 'delete', before: toDto(before) });
    },
  };
}
