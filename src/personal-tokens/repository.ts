/** Every SQL statement of personal access tokens. */
import { and, count, eq, gt, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import type { Tx } from '../db/tx.js';
import { personalAccessTokens, serviceClients, users } from '../db/schema.js';
import type { Role } from '../shared/actor.js';
import { tableList } from '../lists/table.js';
import type { TokenScope } from './schemas.js';

export type TokenRow = typeof personalAccessTokens.$inferSelect;

/** Whose tokens: a user's own, or a service client's (managed by admins). */
export interface TokenOwner {
  kind: 'user' | 'client';
  id: string;
}

const ownerColumn = (owner: TokenOwner) =>
  owner.kind === 'user' ? personalAccessTokens.userId : personalAccessTokens.clientId;
const ownedBy = (owner: TokenOwner) => eq(ownerColumn(owner), owner.id);

/**
 * Locks the owner's row for the rest of the transaction (so concurrent creations count one after
 * the other); false when the owner does not exist.
 */
export async function lockOwner(tx: Tx, owner: TokenOwner): Promise<boolean> {
  const rows =
    owner.kind === 'user'
      ? await tx.select({ id: users.id }).from(users).where(eq(users.id, owner.id)).for('update')
      : await tx
          .select({ id: serviceClients.id })
          .from(serviceClients)
          .where(eq(serviceClients.id, owner.id))
          .for('update');
  return rows.length > 0;
}

export async function ownerExists(db: Db, owner: TokenOwner): Promise<boolean> {
  const rows =
    owner.kind === 'user'
      ? await db.select({ id: users.id }).from(users).where(eq(users.id, owner.id))
      : await db.select({ id: serviceClients.id }).from(serviceClients).where(eq(serviceClients.id, owner.id));
  return rows.length > 0;
}

/** Tokens of the owner that have not expired yet. */
export async function countLive(tx: Tx, owner: TokenOwner): Promise<number> {
  const [row] = await tx
    .select({ n: count() })
    .from(personalAccessTokens)
    .where(and(ownedBy(owner), gt(personalAccessTokens.expiresAt, sql`now()`)));
  return row?.n ?? 0;
}

export async function insertToken(
  tx: Tx,
  owner: TokenOwner,
  values: { name: string; scope: TokenScope; tokenHash: string; tokenHint: string; expiresInDays: number },
): Promise<TokenRow> {
  const [row] = await tx
    .insert(personalAccessTokens)
    .values({
      userId: owner.kind === 'user' ? owner.id : null,
      clientId: owner.kind === 'client' ? owner.id : null,
      name: values.name,
      scope: values.scope,
      tokenHash: values.tokenHash,
      tokenHint: values.tokenHint,
      // The database clock decides, as it does when the token is checked.
      expiresAt: sql`now() + make_interval(days => ${values.expiresInDays}::int)`,
    })
    .returning();
  return row!;
}

/** The owner's tokens, oldest first, keyset-paginated on (createdAt, id). */
export const tokenList = <Dto>(owner: TokenOwner, toDto: (row: TokenRow) => Dto) =>
  tableList({
    table: personalAccessTokens,
    where: [ownedBy(owner)],
    orderBy: [personalAccessTokens.createdAt, personalAccessTokens.id],
    toDto,
  });

/** The owner's token `id`; another owner's token is as absent as a nonexistent one. */
export async function findToken(
  executor: Db | Tx,
  owner: TokenOwner,
  id: string,
  forUpdate = false,
): Promise<TokenRow | undefined> {
  let query = executor
    .select()
    .from(personalAccessTokens)
    .where(and(ownedBy(owner), eq(personalAccessTokens.id, id)))
    .$dynamic();
  if (forUpdate) query = query.for('update');
  return (await query)[0];
}

export async function deleteToken(tx: Tx, id: string): Promise<void> {
  await tx.delete(personalAccessTokens).where(eq(personalAccessTokens.id, id));
}

/** What authenticating with a token needs, in one indexed read: the token and its owner's current state. */
export interface TokenCredential {
  id: string;
  scope: TokenScope;
  expired: boolean;
  /** Whether last_used_at is unset or older than a minute (then it is worth writing). */
  stale: boolean;
  ownerKind: 'user' | 'client';
  ownerId: string;
  active: boolean;
  role: Role;
  organizationId: string | null;
}

export type CredentialQueries = ReturnType<typeof prepareCredentialQueries>;

/**
 * Prepared once per app: the lookup runs on every request made with a token. Time is compared in
 * the database (one clock for creation and checks), and nothing is cached in the process, so a
 * revoked, expired or deactivated owner's token is refused on its next request.
 */
export function prepareCredentialQueries(db: Db) {
  const byHash = db
    .select({
      id: personalAccessTokens.id,
      scope: personalAccessTokens.scope,
      expired: sql<boolean>`${personalAccessTokens.expiresAt} <= now()`,
      stale: sql<boolean>`coalesce(${personalAccessTokens.lastUsedAt} < now() - interval '1 minute', true)`,
      userId: personalAccessTokens.userId,
      clientId: personalAccessTokens.clientId,
      active: sql<boolean | null>`coalesce(${users.active}, ${serviceClients.active})`,
      role: sql<Role | null>`coalesce(${users.role}, ${serviceClients.role})`,
      organizationId: sql<string | null>`coalesce(${users.organizationId}, ${serviceClients.organizationId})`,
    })
    .from(personalAccessTokens)
    .leftJoin(users, eq(users.id, personalAccessTokens.userId))
    .leftJoin(serviceClients, eq(serviceClients.id, personalAccessTokens.clientId))
    .where(eq(personalAccessTokens.tokenHash, sql.placeholder('hash')))
    .prepare('pat_by_hash');
  // The condition repeats the staleness test so that concurrent requests write at most once.
  const touch = db
    .update(personalAccessTokens)
    .set({ lastUsedAt: sql`now()` })
    .where(
      and(
        eq(personalAccessTokens.id, sql.placeholder('id')),
        sql`coalesce(${personalAccessTokens.lastUsedAt} < now() - interval '1 minute', true)`,
      ),
    )
    .prepare('pat_touch');

  return {
    async byHash(hash: string): Promise<TokenCredential | undefined> {
      const [row] = await byHash.execute({ hash });
      if (!row) return undefined;
      const ownerKind = row.userId ? 'user' : 'client';
      return {
        id: row.id,
        scope: row.scope,
        expired: row.expired,
        stale: row.stale,
        ownerKind,
        ownerId: (row.userId ?? row.clientId)!,
        active: row.active === true,
        role: row.role ?? 'viewer',
        organizationId: row.organizationId,
      };
    },
    async touch(id: string): Promise<void> {
      await touch.execute({ id });
    },
  };
}
