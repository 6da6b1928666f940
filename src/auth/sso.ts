/**
 * Optional trust of an external identity provider (e.g. the national SSO). Off unless SSO_JWKS_URL,
 * SSO_ISSUER and SSO_AUDIENCE are set. Its tokens are verified against its published JWKS
 * (fetched and cached by jose, refetched on an unknown kid, rate-limited by the cooldown), with
 * algorithms, issuer and audience pinned. Its users are not stored here: the role comes from a
 * claim (SSO_ROLE_CLAIM, mapped through SSO_ROLE_MAP) and the organization from another
 * (SSO_ORGANIZATION_CLAIM: an organization id or code). Deactivation is the provider's business.
 */
import type { JWTPayload } from 'jose';
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import type { Config } from '../config.js';
import type { Role } from '../shared/actor.js';
import type { PrincipalDirectory } from './directory.js';
import { roleAtLeast } from './principal.js';
import type { Principal } from './principal.js';
import { CLOCK_TOLERANCE_SECONDS, InvalidToken } from './tokens.js';

export type SsoConfig = Pick<
  Config,
  | 'SSO_JWKS_URL'
  | 'SSO_ISSUER'
  | 'SSO_AUDIENCE'
  | 'SSO_ALGORITHMS'
  | 'SSO_ROLE_CLAIM'
  | 'SSO_ROLE_MAP'
  | 'SSO_ORGANIZATION_CLAIM'
>;

/** A valid provider token whose claims grant no role here: authenticated, but not allowed (403). */
export class NoRoleGranted extends Error {}

export interface SsoVerifier {
  issuer: string;
  verify(token: string): Promise<Principal>;
}

const ROLES: Role[] = ['admin', 'editor', 'viewer'];

/** Reads `a.b.c` out of nested claims (Keycloak puts roles in realm_access.roles). */
export function claimAt(payload: JWTPayload, path: string): unknown {
  let current: unknown = payload;
  for (const part of path.split('.')) {
    if (!current || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** The highest role any of the claim's values maps to. */
export function roleFromClaim(value: unknown, map: Record<string, Role> | undefined): Role | undefined {
  const values = Array.isArray(value) ? value : typeof value === 'string' ? value.split(' ') : [];
  let best: Role | undefined;
  for (const v of values) {
    if (typeof v !== 'string') continue;
    const role = map ? map[v] : ROLES.find((r) => r === v);
    if (role && (!best || roleAtLeast(role, best))) best = role;
  }
  return best;
}

export function createSsoVerifier(config: SsoConfig, directory: PrincipalDirectory): SsoVerifier | undefined {
  if (!config.SSO_JWKS_URL || !config.SSO_ISSUER || !config.SSO_AUDIENCE) return undefined;
  const jwks = createRemoteJWKSet(new URL(config.SSO_JWKS_URL), {
    timeoutDuration: 5_000,
    cooldownDuration: 30_000,
    cacheMaxAge: 10 * 60_000,
  });
  const issuer = config.SSO_ISSUER;
  const audience = config.SSO_AUDIENCE;
  return {
    issuer,
    async verify(token) {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, jwks, {
          issuer,
          audience,
          algorithms: config.SSO_ALGORITHMS,
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          requiredClaims: ['sub', 'exp'],
        }));
      } catch (error) {
        throw new InvalidToken(error instanceof errors.JWTExpired ? 'expired' : 'invalid');
      }
      const role = roleFromClaim(claimAt(payload, config.SSO_ROLE_CLAIM), config.SSO_ROLE_MAP);
      if (!role) throw new NoRoleGranted('The identity provider grants this account no role in Nysana.');
      const organizationClaim = claimAt(payload, config.SSO_ORGANIZATION_CLAIM);
      const organizationId =
        typeof organizationClaim === 'string' && organizationClaim.length <= 200
          ? await directory.organizationId(organizationClaim)
          : null;
      const principal: Principal = { kind: 'sso', id: payload.sub!, role, organizationId };
      if (typeof payload.jti === 'string') principal.tokenId = payload.jti;
      return principal;
    },
  };
}
