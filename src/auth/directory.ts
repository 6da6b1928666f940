/**
 * The current state of a token's subject (active, role, organization), read for every request.
 *
 * Why per request: a token carries the role it was issued with for up to ACCESS_TOKEN_TTL; reading
 * the row means deactivating a user or client, demoting or moving them, takes effect on their next
 * request instead of when the token expires. The read is one primary-key lookup of a prepared
 * statement; a small per-process cache (PRINCIPAL_CACHE_MS, default 1 s, 0 disables) absorbs bursts.
 * The replica that makes a change drops its own entry at once; other replicas follow within the TTL.
 */
import { eq, sql } from 'drizzle-orm';
import type { Role } from '../http/access.js';
import type { Db } from '../db/client.js';
import { organizations, serviceClients, users } from '../db/schema.js';

export interface SubjectState {
  active: boolean;
  role: Role;
  organizationId: string | null;
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
      .select({ active: users.active, role: users.role, organizationId: users.organizationId })
      .from(users)
      .where(eq(users.id, sql.placeholder('id')))
      .prepare('auth_user_state');
    this.clientQuery = db
      .select({ active: serviceClients.active, role: serviceClients.role, organizationId: serviceClients.organizationId })
      .from(serviceClients)
      .where(eq(serviceClients.id, sql.placeholder('id')))
      .prepare('auth_client_state');
  }

  /** undefined when the user or client no longer exists. */
  async state(kind: 'user' | 'client', id: string): Promise<SubjectState | undefined> {
    const key = `${kind}:${id}`;
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const rows = await (kind === 'user' ? this.userQuery : this.clientQuery).execute({ id });
    const row = rows[0];
    const state: SubjectState | null = row ? { active: row.active, role: row.role, organizationId: row.organizationId } : null;
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
