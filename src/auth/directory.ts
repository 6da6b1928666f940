/**
 * The current state of a token's subject (active, role, organization), read for every request.
 *
 * Why per request: a token carries the role it was issued with for up to ACCESS_TOKEN_TTL; reading
 * the row means deactivating a user or client, demoting or moving them, takes effect on their next
 * request instead of when the token expires. The read is one primary-key lookup of a prepared
 * statement; a small per-process cache (PRINCIPAL_CACHE_MS, default 1 s, 0 disables) absorbs bursts.
 * The replica that makes a change drops its own entry at once; other replicas follow within the TTL.
 *
 * The same read carries users.session_version, which a password change raises: an access token
 * issued at a smaller version (claim `sv`) is refused, so "setting a password ends every session"
 * holds for access tokens too, with no extra query. A cached state older than the token (a token
 * issued after the cache entry, at a newer version) is read again rather than trusted.
 */
import { eq, sql } from 'drizzle-orm';
import type { Role } from '../shared/actor.js';
import type { Db } from '../db/client.js';
import { organizations, serviceClients, users } from '../db/schema.js';

export interface SubjectState {
  active: boolean;
  role: Role;
  organizationId: string | null;
  /** users.session_version (0 for clients): tokens issued at a smaller one are refused. */
  sessionVersion: number;
}

const MAX_ENTRIES = 10_000;
const ORGANIZATION_TTL_MS = 60_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Entry<T> {
  value: T;
  expires: number;
}

class TtlCache<T> {
  private entries = new Map<string, Entry<T>>();
  constructor(private readonly ttlMs: number) {}

  get(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expires <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: T) {
    if (this.ttlMs <= 0) return;
    // Bounded: dropping everything now and then is cheaper than LRU bookkeeping on a hot path.
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(key, { value, expires: Date.now() + this.ttlMs });
  }

  delete(key: string) {
    this.entries.delete(key);
  }
}

export class PrincipalDirectory {
  private readonly cache: TtlCache<SubjectState | null>;
  private readonly organizationCache = new TtlCache<string | null>(ORGANIZATION_TTL_MS);
  private readonly userQuery;
  private readonly clientQuery;

  constructor(
    private readonly db: Db,
    cacheMs: number,
  ) {
    this.cache = new TtlCache(cacheMs);
    this.userQuery = db
      .select({
        active: users.active,
        role: users.role,
        organizationId: users.organizationId,
        sessionVersion: users.sessionVersion,
      })
      .from(users)
      .where(eq(users.id, sql.placeholder('id')))
      .prepare('auth_user_state');
    this.clientQuery = db
      .select({
        active: serviceClients.active,
        role: serviceClients.role,
        organizationId: serviceClients.organizationId,
        sessionVersion: sql<number>`0`,
      })
      .from(serviceClients)
      .where(eq(serviceClients.id, sql.placeholder('id')))
      .prepare('auth_client_state');
  }

  /**
   * undefined when the user or client no longer exists. `tokenSessionVersion`: a cached state older
   * than the token asking (written before the password change the token was issued after) is read again.
   */
  async state(kind: 'user' | 'client', id: string, tokenSessionVersion = 0): Promise<SubjectState | undefined> {
    const key = `${kind}:${id}`;
    const cached = this.cache.get(key);
    if (cached === null) return undefined;
    if (cached !== undefined && cached.sessionVersion >= tokenSessionVersion) return cached;
    const rows = await (kind === 'user' ? this.userQuery : this.clientQuery).execute({ id });
    const row = rows[0];
    const state: SubjectState | null = row
      ? {
          active: row.active,
          role: row.role,
          organizationId: row.organizationId,
          sessionVersion: Number(row.sessionVersion),
        }
      : null;
    this.cache.set(key, state);
    return state ?? undefined;
  }

  /** Call after changing a user or client, so this replica stops trusting its cached state now. */
  invalidate(kind: 'user' | 'client', id: string) {
    this.cache.delete(`${kind}:${id}`);
  }

  /** An organization named by id or code (single sign-on claims carry either); null if unknown. */
  async organizationId(idOrCode: string): Promise<string | null> {
    const cached = this.organizationCache.get(idOrCode);
    if (cached !== undefined) return cached;
    const rows = await this.db
      .select({ id: organizations.id })
      .from(organizations)
      .where(UUID.test(idOrCode) ? eq(organizations.id, idOrCode) : eq(organizations.code, idOrCode))
      .limit(1);
    const id = rows[0]?.id ?? null;
    this.organizationCache.set(idOrCode, id);
    return id;
  }
}
