/**
 * Evaluation methods: admin-managed, versioned, audited. Every change writes a new immutable
 * version; plans name a method (null = the built-in default); approving a year records the
 * version in force, and that year keeps answering with it (rulesFor below).
 */
import type { EvaluationRules } from '../achievement/methods.js';
import { DEFAULT_RULES } from '../achievement/methods.js';
import type { AuditContext } from '../audit/record.js';
import { recordAudit } from '../audit/record.js';
import type { Principal } from '../auth/principal.js';
import type { Db } from '../db/client.js';
import type { Tx } from '../db/hierarchy.js';
import { decodeCursor, page } from '../http/pagination.js';
import { badRequest, conflict, notFound, preconditionFailed } from '../http/problem.js';
import { iso } from '../shared/decimal.js';
import type { MethodRow, MethodVersionRow } from './repository.js';
import * as repo from './repository.js';
import type { EvaluationMethod, EvaluationMethodCreate, EvaluationMethodPatch, EvaluationMethodVersion } from './schemas.js';

/** Who acts: the authenticated caller and the request id the audit trail records. */
export interface Actor {
  principal: Principal | null;
  requestId: string;
  correlationId?: string | null;
}

const auditContext = (actor: Actor): AuditContext => ({ principal: actor.principal, id: actor.requestId, correlationId: actor.correlationId ?? null });

export const toMethodDto = (row: MethodRow): EvaluationMethod => ({
  id: row.id,
  code: row.code,
  name: row.name,
  rules: row.rules as EvaluationRules,
  version: row.version,
  createdAt: iso(row.createdAt),
  updatedAt: iso(row.updatedAt),
});

export const toVersionDto = (row: MethodVersionRow): EvaluationMethodVersion => ({
  id: row.id,
  methodId: row.methodId,
  version: row.version,
  name: row.name,
  rules: row.rules as EvaluationRules,
  createdAt: iso(row.createdAt),
});

export class EvaluationMethodService {
  constructor(private readonly db: Db) {}

  async list(q: { limit: number; cursor?: string }): Promise<{ items: EvaluationMethod[]; nextCursor: string | null }> {
    const rows = await repo.listMethods(this.db, { limit: q.limit, cursor: q.cursor ? decodeCursor(q.cursor, 2) : undefined });
    const result = page(rows, q.limit, (row) => [row.code, row.id]);
    return { items: result.items.map(toMethodDto), nextCursor: result.nextCursor };
  }

  async get(id: string): Promise<EvaluationMethod> {
    const row = await repo.findMethod(this.db, id);
    if (!row) throw notFound('evaluation method', id);
    return toMethodDto(row);
  }

  async versions(id: string): Promise<EvaluationMethodVersion[]> {
    const rows = await repo.listVersions(this.db, id);
    if (rows.length === 0) throw notFound('evaluation method', id);
    return rows.map(toVersionDto);
  }

  async create(actor: Actor, input: EvaluationMethodCreate): Promise<EvaluationMethod> {
    return this.db.transaction(async (tx) => {
      const dto = toMethodDto(await repo.insertMethod(tx, input));
      await recordAudit(tx, auditContext(actor), { entityType: 'evaluationMethod', entityId: dto.id, action: 'create', after: dto });
      return dto;
    });
  }

  /** A new version; approved years keep theirs. `ifMatch`: the version If-Match named (-1 malformed). */
  async update(actor: Actor, id: string, patch: EvaluationMethodPatch, ifMatch: number | undefined): Promise<EvaluationMethod> {
    return this.db.transaction(async (tx) => {
      const row = await repo.findMethod(tx, id, true);
      if (!row) throw notFound('evaluation method', id);
      if (ifMatch !== undefined && ifMatch !== row.version) throw preconditionFailed(row.version);
      const before = toMethodDto(row);
      const next = { code: patch.code ?? row.code, name: patch.name ?? row.name, rules: patch.rules ?? (row.rules as EvaluationRules) };
      const dto = toMethodDto(await repo.updateMethod(tx, id, next));
      await recordAudit(tx, auditContext(actor), { entityType: 'evaluationMethod', entityId: id, action: 'update', before, after: dto });
      return dto;
    });
  }

  /** 409 while a plan names the method or an approved year was scored with one of its versions. */
  async delete(actor: Actor, id: string, ifMatch: number | undefined): Promise<void> {
    await this.db.transaction(async (tx) => {
      const row = await repo.findMethod(tx, id, true);
      if (!row) throw notFound('evaluation method', id);
      if (ifMatch !== undefined && ifMatch !== row.version) throw preconditionFailed(row.version);
      const uses = await repo.usesOf(tx, id);
      if (uses.plans > 0 || uses.approvals > 0) {
        throw conflict(`The method is in use by ${uses.plans} plan(s) and ${uses.approvals} approved year(s); switch those plans to another method first.`);
      }
      await repo.deleteMethod(tx, id);
      await recordAudit(tx, auditContext(actor), { entityType: 'evaluationMethod', entityId: id, action: 'delete', before: toMethodDto(row) });
    });
  }
}

/** For plan writes: a named method must exist (400 otherwise), share-locked until the write commits. */
export async function assertMethodExists(tx: Tx, methodId: string | null | undefined): Promise<void> {
  if (methodId === null || methodId === undefined) return;
  if (!(await repo.methodExists(tx, methodId, true))) {
    throw badRequest('The evaluation method does not exist.', [{ path: 'body.evaluationMethodId', message: 'unknown evaluation method' }]);
  }
}

/** For approvals: the version id in force for a plan's method now (null = the built-in default). */
export async function versionInForce(tx: Tx, methodId: string | null): Promise<string | null> {
  if (methodId === null) return null;
  return (await repo.currentVersion(tx, methodId))?.id ?? null;
}

// Versions never change, so their rules are cached for the life of the process (bounded: methods are few).
const versionCache = new Map<string, EvaluationRules>();
const MAX_CACHED_VERSIONS = 1000;

/**
 * The rules a plan year is scored by: the approved year's recorded version, else the plan's
 * method as it is now, else the default. No read at all for a plan without a method whose year
 * was approved without one: the default path stays as fast as before.
 */
export async function rulesFor(db: Db, source: { approved: boolean; approvalVersionId: string | null; methodId: string | null }): Promise<EvaluationRules> {
  if (source.approved) {
    if (source.approvalVersionId === null) return DEFAULT_RULES;
    const cached = versionCache.get(source.approvalVersionId);
    if (cached) return cached;
    const version = await repo.findVersion(db, source.approvalVersionId);
    if (!version) return DEFAULT_RULES;
    if (versionCache.size >= MAX_CACHED_VERSIONS) versionCache.clear();
    versionCache.set(version.id, version.rules as EvaluationRules);
    return version.rules as EvaluationRules;
  }
  if (source.methodId === null) return DEFAULT_RULES;
  const current = await repo.currentVersion(db, source.methodId);
  return current ? (current.rules as EvaluationRules) : DEFAULT_RULES;
}
