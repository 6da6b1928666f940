/**
 * Refresh tokens with rotation and reuse detection (OAuth 2.0 Security BCP, section 4.14).
 *
 * A login starts a family. Each refresh atomically marks the presented token used and issues the
 * next one in the family. A token presented after it was used means two parties hold it (a
 * thief, or a client that lost a race): the whole family is revoked, so both must log in again.
 * Each token expires after REFRESH_TOKEN_TTL of disuse, and never after the family's session
 * limit (SESSION_MAX_AGE from login), however often it is rotated.
 */
import { and, eq, gt, isNull, lt, sql } from 'drizzle-orm';
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import { refreshTokens, users } from '../db/schema.js';
import type { Role } from '../shared/actor.js';
import { REFRESH_TOKEN_PREFIX, newSecret, sha256 } from './secrets.js';

type Executor = Pick<Db, 'insert' | 'update' | 'select' | 'delete'>;

export interface IssuedRefresh {
  refreshToken: string;
  refreshExpiresIn: number;
}

export type RotateResult =
  | {
      ok: true;
      user: { id: string; role: Role; organizationId: string | null; sessionVersion: number };
      issued: IssuedRefresh;
    }
  | { ok: false; reason: 'unknown' | 'expired' | 'revoked' | 'reused' | 'inactive' };

const PURGE_EVERY_MS = 3_600_000;
const KEEP_EXPIRED_MS = 86_400_000;

export class RefreshTokens {
  private nextPurge = 0;

  constructor(
    private readonly db: Db,
    private readonly config: Pick<Config, 'REFRESH_TOKEN_TTL_SECONDS' | 'SESSION_MAX_AGE_SECONDS'>,
  ) {}

  /** Starts a new family (a login), or continues one (a refresh). */
  async issue(
    executor: Executor,
    userId: string,
    family?: { id: string; sessionExpiresAt: Date },
  ): Promise<IssuedRefresh> {
    const now = Date.now();
    const sessionExpiresAt = family?.sessionExpiresAt ?? new Date(now + this.config.SESSION_MAX_AGE_SECONDS * 1000);
    const expiresAt = new Date(
      Math.min(now + this.config.REFRESH_TOKEN_TTL_SECONDS * 1000, sessionExpiresAt.getTime()),
    );
    const refreshToken = newSecret(REFRESH_TOKEN_PREFIX);
    await executor.insert(refreshTokens).values({
      userId,
      familyId: family?.id ?? crypto.randomUUID(),
      tokenHash: sha256(refreshToken),
      expiresAt,
      sessionExpiresAt,
    });
    return { refreshToken, refreshExpiresIn: Math.max(0, Math.floor((expiresAt.getTime() - now) / 1000)) };
  }

  async rotate(refreshToken: string): Promise<RotateResult> {
    const tokenHash = sha256(refreshToken);
    // Returned, not thrown: a detected reuse must commit its revocation before we answer 401.
    return this.db.transaction(async (tx): Promise<RotateResult> => {
      const [claimed] = await tx
        .update(refreshTokens)
        .set({ usedAt: sql`now()` })
        .where(
          and(
            eq(refreshTokens.tokenHash, tokenHash),
            isNull(refreshTokens.usedAt),
            isNull(refreshTokens.revokedAt),
            gt(refreshTokens.expiresAt, sql`now()`),
          ),
        )
        .returning();
      if (!claimed) {
        const [row] = await tx.select().from(refreshTokens).where(eq(refreshTokens.tokenHash, tokenHash)).limit(1);
        if (!row) return { ok: false, reason: 'unknown' };
        if (row.usedAt) {
          await revokeFamily(tx, row.familyId);
          return { ok: false, reason: 'reused' };
        }
        return { ok: false, reason: row.revokedAt ? 'revoked' : 'expired' };
      }
      const [user] = await tx
        .select({
          id: users.id,
          active: users.active,
          role: users.role,
          organizationId: users.organizationId,
          sessionVersion: users.sessionVersion,
        })
        .from(users)
        .where(eq(users.id, claimed.userId))
        .limit(1);
      if (!user?.active) {
        await revokeFamily(tx, claimed.familyId);
        return { ok: false, reason: 'inactive' };
      }
      const issued = await this.issue(tx, user.id, {
        id: claimed.familyId,
        sessionExpiresAt: claimed.sessionExpiresAt,
      });
      return {
        ok: true,
        user: {
          id: user.id,
          role: user.role,
          organizationId: user.organizationId,
          sessionVersion: user.sessionVersion,
        },
        issued,
      };
    });
  }

  /** Logout: revokes the family of `refreshToken` when it belongs to `userId`; says nothing otherwise. */
  async revoke(refreshToken: string, userId: string): Promise<void> {
    const [row] = await this.db
      .select({ familyId: refreshTokens.familyId })
      .from(refreshTokens)
      .where(and(eq(refreshTokens.tokenHash, sha256(refreshToken)), eq(refreshTokens.userId, userId)))
      .limit(1);
    if (row) await revokeFamily(this.db, row.familyId);
  }

  /** Every session of a user: logout everywhere, password change, deactivation. */
  async revokeAll(executor: Executor, userId: string): Promise<void> {
    await executor
      .update(refreshTokens)
      .set({ revokedAt: sql`now()` })
      .where(and(eq(refreshTokens.userId, userId), isNull(refreshTokens.revokedAt)));
  }

  /** Deletes rows expired for a day (at most hourly); a day keeps reuse of just-expired tokens visible. */
  async purgeExpired(): Promise<void> {
    if (Date.now() < this.nextPurge) return;
    this.nextPurge = Date.now() + PURGE_EVERY_MS;
    await this.db.delete(refreshTokens).where(lt(refreshTokens.expiresAt, new Date(Date.now() - KEEP_EXPIRED_MS)));
  }
}

async function revokeFamily(executor: Executor, familyId: string) {
  await executor
    .update(refreshTokens)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(refreshTokens.familyId, familyId), isNull(refreshTokens.revokedAt)));
}
