/**
 * Remembers access tokens whose signature and claims were verified, so a caller polling with the
 * same token is not re-verified on every request. Ed25519 verification was about 6% of the CPU of
 * a plan-status request (node --cpu-prof, docs/benchmarks.md); a Map lookup is nothing.
 *
 * Safe because a verified JWT's signature cannot change: on a hit the time claims are re-checked
 * against the clock (an entry never outlives its token's exp), and the signing key must still be
 * trusted (a withdrawn key stops its tokens at once, as without the cache). Whether the subject is
 * still active and its role are re-read per request anyway (directory.ts). Failures are never
 * cached: a bad token costs a full verification every time, as before.
 */
export interface CachedToken<T> {
  value: T;
  kid: string;
  /** Seconds since the epoch, as in the token. */
  exp: number;
  nbf: number;
}

export class VerifiedTokenCache<T> {
  private readonly entries = new Map<string, CachedToken<T>>();

  constructor(
    private readonly maxEntries: number,
    private readonly clockToleranceSeconds: number,
  ) {}

  /** The cached verification of `token`, if its time claims still hold at `nowSeconds`. */
  get(token: string, nowSeconds: number): CachedToken<T> | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    const tolerance = this.clockToleranceSeconds;
    if (nowSeconds >= entry.exp + tolerance || nowSeconds < entry.nbf - tolerance) {
      this.entries.delete(token);
      return undefined;
    }
    return entry;
  }

  set(token: string, entry: CachedToken<T>): void {
    if (this.maxEntries <= 0) return;
    // Oldest first out (Map keeps insertion order): bounded memory whatever callers send.
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token, entry);
  }

  delete(token: string): void {
    this.entries.delete(token);
  }

  get size(): number {
    return this.entries.size;
  }
}
