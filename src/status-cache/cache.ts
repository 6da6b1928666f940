/**
 * The status cache: serialized status answers (body and ETag) by key, bounded by an estimate of the
 * memory they hold, least recently used evicted first. It knows which plans each answer was
 * computed from, so a notification naming a plan evicts exactly those answers (invalidation.ts).
 *
 * Correctness rules (issue 21, item 3):
 * - It answers only while invalidation is live (`resume()`); while the listening connection is lost
 *   (`suspend()`) it is empty and refuses to store, so every read is computed fresh.
 * - An answer is stored only if nothing was evicted between the moment its computation started
 *   (`stamp()`) and the store: a computation that raced a commit whose notification has already
 *   been handled may hold the old state, and storing it would outlive the eviction meant for it.
 *   One generation for all plans keeps this trivially right; writes are a few a day, so the
 *   answers a write keeps from being stored elsewhere cost little.
 */
export interface CachedAnswer {
  body: string;
  etag: string;
  headers?: Record<string, string>;
}

/** What an answer was computed from: the plans, or every plan (feed pages span plans). */
export type AnswerScope = { planIds: readonly string[] } | { feed: true };

interface Entry extends CachedAnswer {
  bytes: number;
  scope: AnswerScope;
}

export interface StatusCacheStats {
  hits: number;
  misses: number;
  /** Entries dropped to stay within maxBytes (LRU). */
  evictions: number;
  /** Entries dropped because a notification said their plan changed (or the listener was lost). */
  invalidations: number;
  /** Reads answered uncached because invalidation was not live. */
  bypasses: number;
  /** Notifications naming changed plans (one per plan per committed transaction). */
  notifications: number;
  /** Answers not stored because an eviction happened while they were computed (they may hold the old state). */
  raced: number;
  entries: number;
  bytes: number;
  maxBytes: number;
  live: boolean;
}

// Map bookkeeping, the entry object and its key, beside the two strings (UTF-16: 2 bytes a char).
const ENTRY_OVERHEAD_BYTES = 160;

export function entryBytes(key: string, answer: CachedAnswer): number {
  return ENTRY_OVERHEAD_BYTES + 2 * (key.length + answer.body.length + answer.etag.length);
}

export class StatusCache {
  /** Insertion order is recency order: a hit moves its entry to the end. */
  private readonly entries = new Map<string, Entry>();
  private readonly keysByPlan = new Map<string, Set<string>>();
  private readonly feedKeys = new Set<string>();
  private generation = 0;
  private live = false;
  private bytes = 0;
  private hits = 0;
  private misses = 0;
  private evictions = 0;
  private invalidations = 0;
  private bypasses = 0;
  private notifications = 0;
  private raced = 0;

  constructor(readonly maxBytes: number) {}

  get isLive(): boolean {
    return this.live;
  }

  /** Taken before an answer's database reads start; `store()` refuses it if anything was evicted since. */
  stamp(): number | undefined {
    return this.live ? this.generation : undefined;
  }

  get(key: string): CachedAnswer | undefined {
    if (!this.live) {
      this.bypasses++;
      return undefined;
    }
    const entry = this.entries.get(key);
    if (!entry) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  /** Stores `answer` unless invalidation is not live or something was evicted since `stamp`. Returns whether it did. */
  store(key: string, answer: CachedAnswer, stamp: number | undefined, scope: AnswerScope): boolean {
    if (!this.live || stamp === undefined) return false;
    if (stamp !== this.generation) {
      this.raced++;
      return false;
    }
    const bytes = entryBytes(key, answer);
    if (bytes > this.maxBytes) return false;
    this.remove(key);
    this.entries.set(key, { ...answer, bytes, scope });
    this.bytes += bytes;
    if ('feed' in scope) this.feedKeys.add(key);
    else for (const planId of scope.planIds) this.keysOf(planId).add(key);
    for (const oldest of this.entries.keys()) {
      if (this.bytes <= this.maxBytes) break;
      this.remove(oldest);
      this.evictions++;
    }
    return true;
  }

  /**
   * A commit changed these plans: their answers go, and so does every feed page (a feed page's rows
   * come from any plan its filter matches, and a change can move a row onto or off any page of it,
   * so no smaller set of pages is safe to keep).
   */
  evictPlans(planIds: Iterable<string>): void {
    this.generation++;
    this.notifications++;
    for (const planId of planIds) {
      const keys = this.keysByPlan.get(planId);
      if (!keys) continue;
      for (const key of [...keys]) this.invalidate(key);
    }
    for (const key of [...this.feedKeys]) this.invalidate(key);
  }

  /** Drops every answer (notifications may have been missed). */
  clear(): void {
    this.generation++;
    for (const key of [...this.entries.keys()]) this.invalidate(key);
  }

  /** The listening connection is lost: empty, and answer nothing until `resume()`. */
  suspend(): void {
    this.live = false;
    this.clear();
  }

  /** LISTEN is in effect again: start empty (what changed while deaf is unknown). */
  resume(): void {
    this.clear();
    this.live = true;
  }

  stats(): StatusCacheStats {
    return {
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
      invalidations: this.invalidations,
      bypasses: this.bypasses,
      notifications: this.notifications,
      raced: this.raced,
      entries: this.entries.size,
      bytes: this.bytes,
      maxBytes: this.maxBytes,
      live: this.live,
    };
  }

  private keysOf(planId: string): Set<string> {
    let keys = this.keysByPlan.get(planId);
    if (!keys) this.keysByPlan.set(planId, (keys = new Set()));
    return keys;
  }

  private invalidate(key: string) {
    if (this.remove(key)) this.invalidations++;
  }

  private remove(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
    if ('feed' in entry.scope) this.feedKeys.delete(key);
    else {
      for (const planId of entry.scope.planIds) {
        const keys = this.keysByPlan.get(planId);
        keys?.delete(key);
        if (keys?.size === 0) this.keysByPlan.delete(planId);
      }
    }
    return true;
  }
}
