/**
 * Personal access tokens: what BI tools and scripts hold instead of a 15-minute access token.
 *
 * A token is `nys_pat_` + 32 random bytes (base64url): the prefix lets secret scanners find
 * leaked ones and lets the auth layer tell it from a JWT without parsing. Only its sha-256 is
 * stored (secrets.ts explains why a fast hash is right for 256 random bits). It acts as its owner,
 * with the owner's role and organization as they are at each request; its scope can only narrow
 * that (read: safe methods only). Creating and revoking tokens needs a login, not a token, so a
 * leaked token cannot mint a longer-lived or wider one.
 */
import { recordAudit } from '../audit/record.js';
import type { Actor as AuditActor } from '../shared/actor.js';
import type { Principal } from '../auth/principal.js';
import { newSecret, sha256 } from '../auth/secrets.js';
import { InvalidToken } from '../auth/tokens.js';
import type { Db } from '../db/client.js';
import { ForbiddenError, conflict, notFound, preconditionFailed } from '../shared/errors.js';
import type { KeysetList } from '../lists/keyset.js';
import { iso } from '../shared/decimal.js';
import type { CredentialQueries, TokenOwner, TokenRow } from './repository.js';
import {
  countLive,
  deleteToken,
  findToken,
  insertToken,
  lockOwner,
  ownerExists,
  prepareCredentialQueries,
  tokenList,
} from './repository.js';
import type { PersonalAccessToken, PersonalAccessTokenCreate } from './schemas.js';

export const PERSONAL_TOKEN_PREFIX = 'nys_pat_';
const TOKEN_SHAPE = /^nys_pat_[A-Za-z0-9_-]{43}$/;
/** Prefix plus four random characters: enough to tell tokens apart in a list, useless to guess with. */
const HINT_LENGTH = PERSONAL_TOKEN_PREFIX.length + 4;
/** Live (unexpired) tokens one owner may hold: bounds what a runaway script can create. */
export const MAX_LIVE_TOKENS = 100;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Who acts: the authenticated caller and the request id the audit trail records. */
export interface Actor {
  principal: Principal;
  requestId: string;
}

/** A token used beyond its scope (a read-only token on a write): 403, not 401. */
export class TokenScopeExceeded extends Error {}

/** A rejected personal access token; a 401 like any invalid token, worded for this kind. */
export class InvalidPersonalToken extends InvalidToken {
  constructor(reason: 'expired' | 'invalid') {
    super(reason);
    this.message =
      reason === 'expired' ? 'The personal access token has expired.' : 'The personal access token is not valid.';
  }
}

export const isPersonalToken = (credential: string) => credential.startsWith(PERSONAL_TOKEN_PREFIX);

export const toTokenDto = (row: TokenRow): PersonalAccessToken => ({
  id: row.id,
  name: row.name,
  scope: row.scope,
  owner: row.userId ? { kind: 'user', id: row.userId } : { kind: 'client', id: row.clientId! },
  tokenHint: row.tokenHint,
  expiresAt: iso(row.expiresAt),
  lastUsedAt: row.lastUsedAt ? iso(row.lastUsedAt) : null,
  version: row.version,
  createdAt: iso(row.createdAt),
});

const auditContext = (actor: Actor): AuditActor => ({
  kind: actor.principal.kind,
  id: actor.principal.id,
  organizationId: actor.principal.organizationId,
  role: actor.principal.role,
  requestId: actor.requestId,
  correlationId: null,
});

export class PersonalTokenService {
  private readonly credentials: CredentialQueries;

  constructor(private readonly db: Db) {
    this.credentials = prepareCredentialQueries(db);
  }

  /** The owner /me/tokens manages: the calling user. Clients get theirs from an admin; SSO users have no row to own one. */
  static selfOwner(principal: Principal): TokenOwner {
    if (principal.kind !== 'user') {
      throw new ForbiddenError(
        'Personal access tokens belong to users of this service; an admin creates tokens for service clients.',
      );
    }
    return { kind: 'user', id: principal.id };
  }

  async create(
    actor: Actor,
    owner: TokenOwner,
    input: PersonalAccessTokenCreate,
  ): Promise<{ dto: PersonalAccessToken; token: string }> {
    assertSession(actor, 'create');
    const token = newSecret(PERSONAL_TOKEN_PREFIX);
    const row = await this.db.transaction(async (tx) => {
      if (!(await lockOwner(tx, owner))) throw notFound(owner.kind, owner.id);
      if ((await countLive(tx, owner)) >= MAX_LIVE_TOKENS) {
        throw conflict(
          `At most ${MAX_LIVE_TOKENS} unexpired personal access tokens per ${owner.kind}; revoke unused ones first.`,
        );
      }
      const created = await insertToken(tx, owner, {
        name: input.name,
        scope: input.scope,
        tokenHash: sha256(token),
        tokenHint: token.slice(0, HINT_LENGTH),
        expiresInDays: input.expiresInDays,
      });
      // The token itself never reaches the audit trail; its hint does.
      await recordAudit(tx, auditContext(actor), {
        entityType: 'personal_access_token',
        entityId: created.id,
        action: 'create',
        after: toTokenDto(created),
      });
      return created;
    });
    return { dto: toTokenDto(row), token };
  }

  /** The owner's tokens as a list for the list pipeline; `parent` answers 404 for an unknown owner (admins ask by client id). */
  list(owner: TokenOwner): { db: Db; list: KeysetList<TokenRow, PersonalAccessToken>; parent: () => Promise<void> } {
    return {
      db: this.db,
      list: tokenList(owner, toTokenDto),
      parent: async () => {
        if (!(await ownerExists(this.db, owner))) throw notFound(owner.kind, owner.id);
      },
    };
  }

  /** 404 when the owner does not exist either: a client id is as unknown as its token. */
  async get(owner: TokenOwner, id: string): Promise<PersonalAccessToken> {
    const row = await findToken(this.db, owner, id);
    if (!row) throw notFound('personal access token', id);
    return toTokenDto(row);
  }

  /** Deletes the token (its next request answers 401). `ifMatch`: the version If-Match named, -1 when malformed. */
  async revoke(actor: Actor, owner: TokenOwner, id: string, ifMatch: number | undefined): Promise<void> {
    assertSession(actor, 'revoke');
    await this.db.transaction(async (tx) => {
      const row = await findToken(tx, owner, id, true);
      if (!row) throw notFound('personal access token', id);
      if (ifMatch !== undefined && ifMatch !== row.version) throw preconditionFailed(row.version);
      await deleteToken(tx, id);
      await recordAudit(tx, auditContext(actor), {
        entityType: 'personal_access_token',
        entityId: id,
        action: 'delete',
        before: toTokenDto(row),
      });
    });
  }

  /**
   * The caller a token stands for, read from the database on every request. Throws
   * InvalidPersonalToken (401) for an unknown, revoked or expired token or an inactive owner, and
   * TokenScopeExceeded (403) for a read-only token on anything but a safe method.
   */
  async authenticate(token: string, method: string): Promise<Principal> {
    if (!TOKEN_SHAPE.test(token)) throw new InvalidPersonalToken('invalid');
    const credential = await this.credentials.byHash(sha256(token));
    if (!credential || !credential.active) throw new InvalidPersonalToken('invalid');
    if (credential.expired) throw new InvalidPersonalToken('expired');
    if (credential.scope === 'read' && !SAFE_METHODS.has(method)) {
      throw new TokenScopeExceeded(
        'This personal access token is read-only: it may only read (GET). Create a read_write token to change data.',
      );
    }
    // At most once a minute per token, so a busy refresh does not turn every read into a write.
    if (credential.stale) await this.credentials.touch(credential.id);
    return {
      kind: credential.ownerKind,
      id: credential.ownerId,
      role: credential.role,
      organizationId: credential.organizationId,
      tokenId: credential.id,
      personalToken: { id: credential.id, scope: credential.scope },
    };
  }
}

function assertSession(actor: Actor, what: 'create' | 'revoke') {
  if (actor.principal.personalToken) {
    throw new ForbiddenError(`Log in to ${what} personal access tokens: a personal access token cannot ${what} them.`);
  }
}
