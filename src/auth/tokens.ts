/**
 * Access tokens: JWTs (RFC 9068 profile, typ "at+jwt") signed with the key store's current key.
 * Verification pins the algorithm to the one of the key the `kid` names, and checks issuer,
 * audience, typ, expiry and not-before; anything else about the token is decided by the claims
 * schema below. A token's role and organization are informative for other systems: this service
 * re-reads them for every request (see directory.ts), so a demotion takes effect at once.
 */
import { randomUUID } from 'node:crypto';
import type { JWTPayload } from 'jose';
import { SignJWT, errors, jwtVerify } from 'jose';
import { z } from 'zod';
import type { Config } from '../config.js';
import type { Role } from '../shared/actor.js';
import type { KeyStore } from './keys.js';
import { SIGNING_ALGORITHMS } from './keys.js';
import { VerifiedTokenCache } from './verified-tokens.js';

export const ACCESS_TOKEN_TYPE = 'at+jwt';
/** Tolerated clock difference between this service and the callers that check exp/nbf too. */
export const CLOCK_TOLERANCE_SECONDS = 30;

export interface TokenSubject {
  kind: 'user' | 'client';
  id: string;
  role: Role;
  organizationId: string | null;
  /** Users: users.session_version when the token is issued (claim `sv`); see directory.ts. */
  sessionVersion?: number;
}

const Claims = z.object({
  sub: z.uuid(),
  jti: z.string().min(1),
  role: z.enum(['admin', 'editor', 'viewer']),
  org: z.uuid().optional(),
  client_id: z.uuid().optional(),
  // Absent in tokens issued before the claim existed: they count as version 0.
  sv: z.number().int().min(0).optional(),
});

export interface VerifiedToken {
  kind: 'user' | 'client';
  id: string;
  role: Role;
  organizationId: string | null;
  jti: string;
  /** The user's session version the token was issued at (0 for clients and older tokens). */
  sessionVersion: number;
}

export class InvalidToken extends Error {
  constructor(readonly reason: 'expired' | 'invalid') {
    super(reason === 'expired' ? 'The access token has expired.' : 'The access token is not valid.');
  }
}

export type TokenConfig = Pick<Config, 'JWT_ISSUER' | 'JWT_AUDIENCE' | 'ACCESS_TOKEN_TTL_SECONDS'>;

/** Verified tokens remembered per process (each entry holds the token string: ~0.5 KB). */
const VERIFIED_CACHE_ENTRIES = 10_000;

export class TokenService {
  private readonly verified = new VerifiedTokenCache<VerifiedToken>(VERIFIED_CACHE_ENTRIES, CLOCK_TOLERANCE_SECONDS);

  constructor(
    private readonly keys: KeyStore,
    private readonly config: TokenConfig,
  ) {}

  get ttlSeconds() {
    return this.config.ACCESS_TOKEN_TTL_SECONDS;
  }

  async sign(
    subject: TokenSubject,
    ttlSeconds = this.config.ACCESS_TOKEN_TTL_SECONDS,
  ): Promise<{ token: string; expiresIn: number }> {
    const key = await this.keys.signingKey();
    const now = Math.floor(Date.now() / 1000);
    const claims: JWTPayload = { role: subject.role };
    if (subject.organizationId) claims.org = subject.organizationId;
    // RFC 9068: for the client-credentials grant the subject is the client itself.
    if (subject.kind === 'client') claims.client_id = subject.id;
    else if (subject.sessionVersion) claims.sv = subject.sessionVersion;
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: ACCESS_TOKEN_TYPE })
      .setIssuer(this.config.JWT_ISSUER)
      .setAudience(this.config.JWT_AUDIENCE)
      .setSubject(subject.id)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + ttlSeconds)
      .setJti(randomUUID())
      .sign(key.privateKey!);
    return { token, expiresIn: ttlSeconds };
  }

  /** A token this process verified before, if its time claims and its key still hold. */
  async remembered(token: string): Promise<VerifiedToken | undefined> {
    const cached = this.verified.get(token, Math.floor(Date.now() / 1000));
    if (!cached) return undefined;
    // The key that signed it must still be trusted (a withdrawn key ends its tokens at once).
    if (await this.keys.verificationKey(cached.kid)) return cached.value;
    this.verified.delete(token);
    throw new InvalidToken('invalid');
  }

  async verify(token: string): Promise<VerifiedToken> {
    const remembered = await this.remembered(token);
    if (remembered) return remembered;
    let payload: JWTPayload;
    let kid = '';
    try {
      ({ payload } = await jwtVerify(
        token,
        async (header) => {
          const key = header.kid ? await this.keys.verificationKey(header.kid) : undefined;
          // The key decides the algorithm: a token naming another one is refused (no alg confusion).
          if (!key || header.alg !== key.alg) throw new InvalidToken('invalid');
          kid = key.kid;
          return key.publicKey;
        },
        {
          algorithms: SIGNING_ALGORITHMS,
          issuer: this.config.JWT_ISSUER,
          audience: this.config.JWT_AUDIENCE,
          typ: ACCESS_TOKEN_TYPE,
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          requiredClaims: ['sub', 'exp', 'iat', 'jti'],
        },
      ));
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw new InvalidToken('expired');
      throw new InvalidToken('invalid');
    }
    const claims = Claims.safeParse(payload);
    if (!claims.success) throw new InvalidToken('invalid');
    const { sub, jti, role, org, client_id, sv } = claims.data;
    if (client_id !== undefined && client_id !== sub) throw new InvalidToken('invalid');
    const verified: VerifiedToken = {
      kind: client_id ? 'client' : 'user',
      id: sub,
      role,
      organizationId: org ?? null,
      jti,
      sessionVersion: sv ?? 0,
    };
    // exp and iat are required claims (checked above); nbf is optional and then no bound.
    this.verified.set(token, { value: verified, kid, exp: payload.exp!, nbf: payload.nbf ?? -Infinity });
    return verified;
  }
}
