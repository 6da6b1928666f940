/**
 * User writes. Rules beyond the schema, checked in the write's transaction: an editor needs an
 * existing organization, and the last active admin cannot be demoted, deactivated or deleted
 * (409), or nobody could administer the service any more. Deactivating a user or setting a
 * password revokes every refresh token of the user, and this replica forgets its cached view of
 * the user, so the user's access tokens stop working at once.
 */
import { sql } from 'drizzle-orm';
import { accountWrites, checkOrganization } from '../accounts/service.js';
import { assertOrganizationExists } from '../accounts/repository.js';
import { hashPassword } from '../auth/passwords.js';
import type { PrincipalDirectory } from '../auth/directory.js';
import type { RefreshTokens } from '../auth/refresh-tokens.js';
import type { Db } from '../db/client.js';
import type { Tx } from '../db/tx.js';
import { users } from '../db/schema.js';
import type { Actor } from '../shared/actor.js';
import { conflict, notFound } from '../shared/errors.js';
import type { IfMatch } from '../shared/if-match.js';
import { checkIfMatch } from '../shared/if-match.js';
import type { UserRow } from './repository.js';
import { findUser, isActiveAdmin, lockForChange, toUserDto } from './repository.js';
import type { z } from 'zod';
import type { UserCreate, UserPatch } from './schemas.js';

const lastAdmin = () => conflict('This is the last active admin; make another user admin first.');

export function userService(deps: {
  db: Db;
  refreshTokens: Pick<RefreshTokens, 'revokeAll'>;
  directory: Pick<PrincipalDirectory, 'invalidate'>;
}) {
  const { db, refreshTokens, directory } = deps;
  const writes = accountWrites({ entityType: 'user', table: users, toDto: toUserDto });

  /** The target locked with every active admin (src/users/repository.ts), If-Match checked. */
  async function lock(tx: Tx, id: string, ifMatch: IfMatch) {
    const { target, otherAdmins } = await lockForChange(tx, id);
    if (!target) throw notFound('user', id);
    checkIfMatch(ifMatch, target.version);
    return { target, otherAdmins };
  }

  return {
    async get(id: string): Promise<UserRow> {
      const row = await findUser(db, id);
      if (!row) throw notFound('user', id);
      return row;
    },

    /** The password is stored as an argon2id hash and never returned. */
    async create(actor: Actor, input: z.output<typeof UserCreate>): Promise<UserRow> {
      const { password, ...fields } = input;
      const passwordHash = await hashPassword(password);
      return db.transaction(async (tx) => {
        await assertOrganizationExists(tx, fields.organizationId);
        return writes.insert(tx, actor, { ...fields, organizationId: fields.organizationId ?? null, passwordHash });
      });
    },

    async update(actor: Actor, id: string, patch: z.output<typeof UserPatch>, ifMatch: IfMatch): Promise<UserRow> {
      const { password, ...changes } = patch;
      const passwordHash = password ? await hashPassword(password) : undefined;
      const updated = await db.transaction(async (tx) => {
        const { target, otherAdmins } = await lock(tx, id, ifMatch);
        const next = { ...target, ...changes };
        await checkOrganization(tx, next, changes.organizationId);
        if (isActiveAdmin(target) && !isActiveAdmin(next) && otherAdmins === 0) throw lastAdmin();
        // A new password also ends the user's access tokens (src/auth/directory.ts).
        const secret = passwordHash ? { passwordHash, sessionVersion: sql`${users.sessionVersion} + 1` } : {};
        // The DTO never holds the hash; a password change shows as passwordChanged.
        const row = await writes.update(
          tx,
          actor,
          target,
          { ...changes, ...secret },
          passwordHash ? { passwordChanged: true } : {},
        );
        if (passwordHash || (target.active && !next.active)) await refreshTokens.revokeAll(tx, id);
        return row;
      });
      directory.invalidate('user', id);
      return updated;
    },

    /** Ends every session of the user; the last active admin cannot be deleted (409). */
    async remove(actor: Actor, id: string, ifMatch: IfMatch): Promise<void> {
      await db.transaction(async (tx) => {
        const { target, otherAdmins } = await lock(tx, id, ifMatch);
        if (isActiveAdmin(target) && otherAdmins === 0) throw lastAdmin();
        await writes.remove(tx, actor, target);
      });
      directory.invalidate('user', id);
    },
  };
}
