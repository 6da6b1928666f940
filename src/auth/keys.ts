/**
 * Where access tokens are signed and verified from.
 *
 * - JWT_PRIVATE_KEY configured (Ed25519 or P-256; PKCS8 PEM or JWK): that key signs, and
 *   JWT_PREVIOUS_PUBLIC_KEYS stays verifiable; rotation is the operator's (change both variables).
 * - Otherwise the key lives in the `signing_keys` table: generated on first start (under an
 *   advisory lock, so replicas starting together agree on one), shared by every replica, rotated
 *   by `npm run keys:rotate`. A retired key stays published and verifiable until every token it
 *   signed has expired, plus the time replicas need to notice the rotation.
 *
 * JWT_ALGORITHM (EdDSA by default, or ES256) picks which key signs. Each algorithm has at most one
 * current key in the table, generated when a replica configured for it first needs one; every
 * current key is published and verifies. So switching the algorithm is a restart with the new
 * value: replicas still on the old value keep signing with the old key, and tokens of either
 * verify everywhere. `npm run keys:rotate` retires every current key and leaves one of the
 * configured algorithm, which is how the unused algorithm's key leaves the JWKS after a switch.
 *
 * Replicas re-read the table every KEY_RELOAD_MS, and at once (throttled) when a token names a kid
 * they have not seen: a replica that rotated first must not make the others refuse its tokens.
 */
import { and, desc, eq, gt, isNull, lt, or, sql } from 'drizzle-orm';
import type { CryptoKey, JWK } from 'jose';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK } from 'jose';
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import { signingKeys } from '../db/schema.js';
import { openBytes, sealBytes } from '../shared/sealed.js';
import type { Sealed, SealPurpose } from '../shared/sealed.js';
import type { SigningAlg } from './key-material.js';
import { DEFAULT_SIGNING_ALGORITHM, KeyError, algOf, configuredKeyAlgorithm, parsePrivateKey } from './key-material.js';

export type { SigningAlg } from './key-material.js';
export { SIGNING_ALGORITHMS } from './key-material.js';

export interface LoadedKey {
  kid: string;
  alg: SigningAlg;
  publicJwk: JWK;
  publicKey: CryptoKey;
  /** Only current (unretired) keys have their private half loaded. */
  privateKey?: CryptoKey;
  /** Unset while the key signs. */
  retiredAt?: Date;
}

export type KeyConfig = Pick<
  Config,
  | 'JWT_PRIVATE_KEY'
  | 'JWT_KEY_ID'
  | 'JWT_PREVIOUS_PUBLIC_KEYS'
  | 'JWT_KEY_ENCRYPTION_SECRET'
  | 'ACCESS_TOKEN_TTL_SECONDS'
  | 'JWT_ALGORITHM'
>;

export const KEY_RELOAD_MS = 60_000;
const UNKNOWN_KID_RELOAD_MS = 5_000;
const RELOAD_RETRY_MS = 5_000;
// Arbitrary but fixed: every replica must agree on it (differs from the migration lock).
const KEY_LOCK = 727_001_2017;

export class KeyStore {
  private keys: LoadedKey[] = [];
  private loadedAt = 0;
  private lastUnknownKidReload = 0;
  private loading: Promise<void> | undefined;
  readonly source: 'config' | 'database';
  /** The algorithm new tokens are signed with (for a configured key, the key's own: see init). */
  private alg: SigningAlg;

  constructor(
    private readonly db: Db,
    private readonly config: KeyConfig,
  ) {
    this.source = config.JWT_PRIVATE_KEY ? 'config' : 'database';
    this.alg = config.JWT_ALGORITHM ?? DEFAULT_SIGNING_ALGORITHM;
  }

  get algorithm(): SigningAlg {
    return this.alg;
  }

  /** How long after retirement a key must still verify: the longest token, plus reload lag and skew. */
  get retentionMs(): number {
    return (this.config.ACCESS_TOKEN_TTL_SECONDS + 120) * 1000 + KEY_RELOAD_MS;
  }

  async init(): Promise<void> {
    if (this.source === 'config') {
      this.keys = await keysFromConfig(this.config);
      this.alg = this.keys[0]!.alg;
      this.loadedAt = Date.now();
      return;
    }
    await this.ensureDatabaseKey();
    await this.reload();
  }

  /** The key that signs new tokens. */
  async signingKey(): Promise<LoadedKey> {
    if (this.source === 'database' && Date.now() - this.loadedAt > KEY_RELOAD_MS) await this.reload();
    let key = this.currentKey();
    if (!key && this.source === 'database' && this.loadedAt > 0) {
      // A replica configured for the other algorithm rotated: every current key is of that one now.
      await this.ensureDatabaseKey();
      this.loadedAt = 0;
      await this.reload();
      key = this.currentKey();
    }
    if (!key) throw new KeyError('No signing key is loaded; was the key store initialised?');
    return key;
  }

  private currentKey(): LoadedKey | undefined {
    return this.keys.find((k) => !k.retiredAt && k.privateKey && k.alg === this.alg);
  }

  /** The public key for `kid`, if it is still trusted. */
  async verificationKey(kid: string): Promise<LoadedKey | undefined> {
    if (this.source === 'database') {
      const now = Date.now();
      const stale = now - this.loadedAt > KEY_RELOAD_MS;
      const unknown = !this.keys.some((k) => k.kid === kid);
      if (stale || (unknown && now - this.lastUnknownKidReload > UNKNOWN_KID_RELOAD_MS)) {
        if (unknown) this.lastUnknownKidReload = now;
        await this.reload();
      }
    }
    return this.keys.find((k) => k.kid === kid && this.stillTrusted(k));
  }

  /** The JWKS document: every key that may verify a live token. */
  async jwks(): Promise<{ keys: JWK[] }> {
    if (this.source === 'database' && Date.now() - this.loadedAt > KEY_RELOAD_MS) await this.reload();
    return { keys: this.keys.filter((k) => this.stillTrusted(k)).map((k) => k.publicJwk) };
  }

  /**
   * Adds a new signing key of the configured algorithm and retires every current one (they stay
   * verifiable for retentionMs). Keys retired long enough ago are deleted. Database keys only.
   */
  async rotate(): Promise<{ kid: string; retired: string[]; deleted: string[] }> {
    if (this.source === 'config') {
      throw new KeyError(
        'JWT_PRIVATE_KEY is configured: rotate by setting a new JWT_PRIVATE_KEY and listing the old public key in JWT_PREVIOUS_PUBLIC_KEYS.',
      );
    }
    const fresh = await generateKey(this.config, this.alg);
    const result = await this.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${KEY_LOCK})`);
      const retired = await tx
        .update(signingKeys)
        .set({ retiredAt: sql`now()` })
        .where(isNull(signingKeys.retiredAt))
        .returning({ kid: signingKeys.kid });
      await tx.insert(signingKeys).values(fresh);
      const cutoff = new Date(Date.now() - this.retentionMs - 86_400_000);
      const deleted = await tx
        .delete(signingKeys)
        .where(lt(signingKeys.retiredAt, cutoff))
        .returning({ kid: signingKeys.kid });
      return { kid: fresh.kid, retired: retired.map((r) => r.kid), deleted: deleted.map((r) => r.kid) };
    });
    await this.reload();
    return result;
  }

  private stillTrusted(key: LoadedKey): boolean {
    return !key.retiredAt || Date.now() - key.retiredAt.getTime() < this.retentionMs;
  }

  private async ensureDatabaseKey(): Promise<void> {
    const current = and(isNull(signingKeys.retiredAt), eq(signingKeys.alg, this.alg));
    const existing = await this.db.select({ kid: signingKeys.kid }).from(signingKeys).where(current).limit(1);
    if (existing.length > 0) return;
    const fresh = await generateKey(this.config, this.alg);
    await this.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${KEY_LOCK})`);
      const again = await tx.select({ kid: signingKeys.kid }).from(signingKeys).where(current).limit(1);
      if (again.length === 0) await tx.insert(signingKeys).values(fresh);
    });
  }

  private reload(): Promise<void> {
    // Concurrent requests share one reload.
    this.loading ??= this.readDatabaseKeys()
      .catch((error: unknown) => {
        // A database blip must not fail verification while the keys we hold are still good: keep
        // them and try again shortly. Only the very first load has nothing to fall back on.
        if (this.keys.length === 0) throw error;
        this.loadedAt = Date.now() - KEY_RELOAD_MS + RELOAD_RETRY_MS;
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }

  private async readDatabaseKeys(): Promise<void> {
    const cutoff = new Date(Date.now() - this.retentionMs);
    const rows = await this.db
      .select()
      .from(signingKeys)
      .where(or(isNull(signingKeys.retiredAt), gt(signingKeys.retiredAt, cutoff)))
      .orderBy(desc(signingKeys.createdAt));
    const loaded: LoadedKey[] = [];
    for (const row of rows) {
      const alg = algOf(row.publicJwk as JWK);
      const publicJwk = publicPart(row.publicJwk as JWK, row.kid, alg);
      const key: LoadedKey = {
        kid: row.kid,
        alg,
        publicJwk,
        publicKey: (await importJWK(publicJwk, alg)) as CryptoKey,
      };
      if (row.retiredAt) key.retiredAt = row.retiredAt;
      else {
        const privateJwk = openPrivateJwk(row.privateJwk, this.config.JWT_KEY_ENCRYPTION_SECRET);
        key.privateKey = (await importJWK(privateJwk, alg)) as CryptoKey;
      }
      loaded.push(key);
    }
    this.keys = loaded;
    this.loadedAt = Date.now();
  }
}

function publicPart(jwk: JWK, kid: string, alg: SigningAlg): JWK {
  const out: JWK = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid, alg, use: 'sig' };
  if (jwk.y) out.y = jwk.y;
  return out;
}

async function generateKey(config: KeyConfig, alg: SigningAlg) {
  const { privateKey } = await generateKeyPair(
    alg,
    alg === 'EdDSA' ? { crv: 'Ed25519', extractable: true } : { extractable: true },
  );
  const privateJwk = await exportJWK(privateKey);
  const publicJwk: JWK = {
    kty: privateJwk.kty,
    crv: privateJwk.crv,
    x: privateJwk.x,
    ...(privateJwk.y ? { y: privateJwk.y } : {}),
  };
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    kid,
    alg,
    publicJwk: publicJwk as Record<string, unknown>,
    privateJwk: sealPrivateJwk(privateJwk, config.JWT_KEY_ENCRYPTION_SECRET),
  };
}

async function keysFromConfig(config: KeyConfig): Promise<LoadedKey[]> {
  const privateJwk = parsePrivateKey(config.JWT_PRIVATE_KEY!);
  const alg = configuredKeyAlgorithm(config.JWT_PRIVATE_KEY!, config.JWT_ALGORITHM);
  const bare: JWK = {
    kty: privateJwk.kty,
    crv: privateJwk.crv,
    x: privateJwk.x,
    ...(privateJwk.y ? { y: privateJwk.y } : {}),
  };
  const kid = config.JWT_KEY_ID ?? (await calculateJwkThumbprint(bare));
  const publicJwk = publicPart(bare, kid, alg);
  const keys: LoadedKey[] = [
    {
      kid,
      alg,
      publicJwk,
      publicKey: (await importJWK(publicJwk, alg)) as CryptoKey,
      privateKey: (await importJWK({ ...privateJwk, alg }, alg)) as CryptoKey,
    },
  ];
  for (const raw of config.JWT_PREVIOUS_PUBLIC_KEYS?.keys ?? []) {
    const jwk = raw as JWK;
    const previousAlg = algOf(jwk);
    const previousBare: JWK = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, ...(jwk.y ? { y: jwk.y } : {}) };
    const previousKid = jwk.kid ?? (await calculateJwkThumbprint(previousBare));
    if (keys.some((k) => k.kid === previousKid)) continue;
    const previous = publicPart(previousBare, previousKid, previousAlg);
    // Never retired by time: the operator removes it from the variable when its tokens are gone.
    keys.push({
      kid: previousKid,
      alg: previousAlg,
      publicJwk: previous,
      publicKey: (await importJWK(previous, previousAlg)) as CryptoKey,
    });
  }
  return keys;
}

// ---- private keys at rest -------------------------------------------------------------------

interface Envelope extends Sealed {
  enc: 'A256GCM';
}

const PRIVATE_JWK: SealPurpose = { salt: 'nysana-signing-keys', info: 'private-jwk-v1' };

function sealPrivateJwk(jwk: JWK, secret: string | undefined): Record<string, unknown> {
  if (!secret) return jwk as Record<string, unknown>;
  const envelope: Envelope = {
    enc: 'A256GCM',
    ...sealBytes(Buffer.from(JSON.stringify(jwk), 'utf8'), secret, PRIVATE_JWK),
  };
  return envelope as unknown as Record<string, unknown>;
}

function openPrivateJwk(stored: Record<string, unknown>, secret: string | undefined): JWK {
  if (stored.enc !== 'A256GCM') return stored as JWK;
  if (!secret) throw new KeyError('The signing key in the database is encrypted; set JWT_KEY_ENCRYPTION_SECRET.');
  try {
    return JSON.parse(openBytes(stored as unknown as Envelope, secret, PRIVATE_JWK).toString('utf8')) as JWK;
  } catch {
    throw new KeyError('JWT_KEY_ENCRYPTION_SECRET does not decrypt the signing key in the database.');
  }
}
