/**
 * The auth pieces one app instance shares: keys, tokens, the subject directory, optional single
 * sign-on, rate limits, refresh tokens, and the table of routes with their access rules.
 */
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import type { AccessRule } from './access-rule.js';
import { PrincipalDirectory } from './directory.js';
import { KeyStore } from './keys.js';
import type { Principal } from './principal.js';
import type { AuthLimits } from './rate-limit.js';
import { createAuthLimits } from './rate-limit.js';
import type { Counters } from '../shared/rate-counters.js';
import { memoryCounters } from '../shared/rate-counters.js';
import { RefreshTokens } from './refresh-tokens.js';
import type { SsoVerifier } from './sso.js';
import { NoRoleGranted, createSsoVerifier } from './sso.js';
import type { VerifiedToken } from './tokens.js';
import { InvalidToken, TokenService } from './tokens.js';
import { decodeJwt } from 'jose';
import { PersonalTokenService, TokenScopeExceeded, isPersonalToken } from '../personal-tokens/service.js';
import { BASIC_CHALLENGE, basicPassword } from './basic-credentials.js';

export type AuthConfig = Pick<
  Config,
  | 'JWT_ISSUER'
  | 'JWT_AUDIENCE'
  | 'ACCESS_TOKEN_TTL_SECONDS'
  | 'REFRESH_TOKEN_TTL_SECONDS'
  | 'SESSION_MAX_AGE_SECONDS'
  | 'JWT_PRIVATE_KEY'
  | 'JWT_KEY_ID'
  | 'JWT_ALGORITHM'
  | 'JWT_PREVIOUS_PUBLIC_KEYS'
  | 'JWT_KEY_ENCRYPTION_SECRET'
  | 'PRINCIPAL_CACHE_MS'
  | 'AUTH_RATE_LIMIT_PER_MINUTE'
  | 'AUTH_MAX_FAILURES'
  | 'AUTH_LOCKOUT_SECONDS'
  | 'SSO_JWKS_URL'
  | 'SSO_ISSUER'
  | 'SSO_AUDIENCE'
  | 'SSO_ALGORITHMS'
  | 'SSO_ROLE_CLAIM'
  | 'SSO_ROLE_MAP'
  | 'SSO_ORGANIZATION_CLAIM'
>;

/** One registered route and its rule, as collected by the plugin's onRoute hook. */
export interface RouteAccess {
  method: string;
  url: string;
  access: AccessRule | undefined;
}

/** Authentication failed (401) or succeeded with a role that grants nothing (403). */
export class AuthFailure extends Error {
  constructor(
    readonly status: 401 | 403,
    readonly detail: string,
    readonly wwwAuthenticate: string,
  ) {
    super(detail);
  }
}

export const REALM = 'Bearer realm="nysana"';
const MAX_TOKEN_LENGTH = 8192;
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

export class AuthService {
  readonly keys: KeyStore;
  readonly tokens: TokenService;
  readonly directory: PrincipalDirectory;
  readonly sso: SsoVerifier | undefined;
  readonly limits: AuthLimits;
  readonly refreshTokens: RefreshTokens;
  readonly personalTokens: PersonalTokenService;
  /** Every route of the app with its access rule (filled while routes register). */
  readonly routes: RouteAccess[] = [];

  constructor(
    readonly db: Db,
    readonly config: AuthConfig,
    /** The rate-limit counters (src/shared/rate-counters.ts); default: this process's memory. */
    counters: Counters = memoryCounters(),
  ) {
    this.keys = new KeyStore(db, config);
    this.tokens = new TokenService(this.keys, config);
    this.directory = new PrincipalDirectory(db, config.PRINCIPAL_CACHE_MS);
    this.sso = createSsoVerifier(config, this.directory);
    this.limits = createAuthLimits(config, counters);
    this.refreshTokens = new RefreshTokens(db, config);
    this.personalTokens = new PersonalTokenService(db);
  }

  /**
   * The caller named by an Authorization header: a bearer access token or personal access token, or
   * HTTP Basic with a personal access token as the password. `method` decides whether a read-only
   * personal access token may proceed. Throws AuthFailure.
   */
  async authenticate(header: string | undefined, method = 'GET'): Promise<Principal> {
    if (!header) throw new AuthFailure(401, 'A bearer token is required.', `${REALM}, ${BASIC_CHALLENGE}`);
    const basic = header.length <= MAX_TOKEN_LENGTH ? basicPassword(header) : undefined;
    if (basic === null || (basic !== undefined && !isPersonalToken(basic))) {
      throw invalid('HTTP Basic authentication takes a personal access token as the password (any user name).', true);
    }
    const match = basic === undefined && header.length <= MAX_TOKEN_LENGTH ? BEARER.exec(header.trim()) : null;
    if (basic === undefined && !match) throw invalid('The Authorization header must be "Bearer <access token>".');
    const token = basic ?? match![1]!;
    try {
      // Opaque and prefixed: looked up in the database on every request, never remembered here.
      if (isPersonalToken(token)) return await this.personalTokens.authenticate(token, method);
      // Only this service's own tokens are remembered (tokens.ts), so a hit needs no routing.
      const remembered = await this.tokens.remembered(token);
      if (remembered) return await this.principalOf(remembered);
      // Route by issuer before verifying: local tokens against our keys, the SSO's against its JWKS.
      // decodeJwt only reads; each branch then verifies signature, issuer and audience in full.
      let issuer: string | undefined;
      try {
        issuer = decodeJwt(token).iss;
      } catch {
        throw new InvalidToken('invalid');
      }
      if (this.sso && issuer === this.sso.issuer) return await this.sso.verify(token);
      return await this.principalOf(await this.tokens.verify(token));
    } catch (error) {
      if (error instanceof InvalidToken) throw invalid(error.message, basic !== undefined);
      if (error instanceof TokenScopeExceeded)
        throw new AuthFailure(403, error.message, `${REALM}, error="insufficient_scope"`);
      if (error instanceof NoRoleGranted)
        throw new AuthFailure(403, error.message, `${REALM}, error="insufficient_scope"`);
      throw error;
    }
  }

  /** The caller as it is now: role and organization re-read (cached briefly), not taken from the token. */
  private async principalOf(verified: VerifiedToken): Promise<Principal> {
    const state = await this.directory.state(verified.kind, verified.id, verified.sessionVersion);
    // Deleted or deactivated since the token was issued: refused now, not at expiry.
    if (!state?.active) throw new InvalidToken('invalid');
    // The password was changed after the token was issued: every session ended, this one too.
    if (verified.sessionVersion < state.sessionVersion) throw new InvalidToken('invalid');
    return {
      kind: verified.kind,
      id: verified.id,
      role: state.role,
      organizationId: state.organizationId,
      tokenId: verified.jti,
    };
  }
}

function invalid(detail: string, basic = false): AuthFailure {
  const bearer = `${REALM}, error="invalid_token", error_description="${detail.replace(/"/g, "'")}"`;
  // A Basic caller gets a Basic challenge too: clients such as .NET's wait for it before sending credentials.
  return new AuthFailure(401, detail, basic ? `${bearer}, ${BASIC_CHALLENGE}` : bearer);
}
