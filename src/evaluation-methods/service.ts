/**
 * Evaluation methods: admin-managed, versioned, audited. Every change writes a new immutable
 * version; plans name a method (null = the built-in default); approving a year records the
 * version in force, and that year keeps answering with it (rulesFor below).
 */
import type { EvaluationRules } from '../achievement/methods.js';
import { DEFAULT_RULES } from '../achievement/methods.js';
import { recordAudit } from '../audit/record.js';
import type { Db } from '../db/client.js';
import type { Tx } from '../db/tx.js';
import type { Actor } from '../shared/actor.js';
import { invalid, conflict, notFound, preconditionFailed } from '../shared/errors.js';
import * as repo from './repository.js';
import { toMethodDto, toVersionDto } from './repository.js';
import type {
  EvaluationMethod,
  EvaluationMethodCreate,
  EvaluationMethodPatch,
  EvaluationMethodVersion,
} from './schemas.js';

export class EvaluationMethodService {
  constructor(private readonly db: Db) {}

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
      await recordAudit(tx, actor, { entityType: 'evaluationMethod', entityId: dto.id, action: 'create', after: dto });
      return dto;
    });
  }

  /** A new version; approved years keep theirs. `ifMatch`: the version If-Match named (-1 malformed). */
  async update(
    actor: Actor,
    id: string,
    patch: EvaluationMethodPatch,
    ifMatch: number | undefined,
  ): Promise<EvaluationMethod> {
    return this.db.transaction(async (tx) => {
      const row = await repo.findMethod(tx, id, true);
      if (!row) throw notFound('evaluation method', id);
      if (ifMatch !== undefined && ifMatch !== row.version) throw preconditionFailed(row.version);
      const before = toMethodDto(row);
      const next = {
        code: patch.code ?? row.code,
        name: patch.name ?? row.name,
        rules: patch.rules ?? (row.rules as EvaluationRules),
      };
      const dto = toMethodDto(await repo.updateMethod(tx, id, next));
      await recordAudit(tx, actor, {
        entityType: 'evaluationMethod',
        entityId: id,
        action: 'update',
        before,
        after: dto,
      });
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
        throw conflict(
          `The method is in use by ${uses.plans} plan(s) and ${uses.approvals} approved year(s); switch those plans to another method first.`,
        );
      }
      await repo.deleteMethod(tx, id);
      await recordAudit(tx, actor, {
        entityType: 'evaluationMethod',
        entityId: id,
        action: 'delete',
        before: toMethodDto(row),
      });
    });
  }
}

/** For plan writes: a named method must exist (400 otherwise), share-locked until the write commits. */
export async function assertMethodExists(tx: Tx, methodId: string | null | undefined): Promise<void> {
  if (methodId === null || methodId === undefined) return;
  if (!(await repo.methodExists(tx, methodId, true))) {
    throw invalid('The evaluation method does not exist.', [
      { path: 'body.evaluationMethodId', message: 'unknown evaluation method' },
    ]);
  }
}

/** For approvals: the version id in force for a plan's method now (null = the built-in default). */
export async function versionInForce(tx: Tx, methodId: string | null): Promise<string | null> {
  if (methodId === null) return null;
  return (await repo.currentVersion(tx, methodId))?.id ?? null;
}

/** Where a status row's rules come from: its plan's method and its year's approval. */
export interface RuleSource {
  approved: boolean;
  /** The version the year was approved with (null: approved under the default, or not approved). */
  approvalMethodVersionId: string | null;
  planMethodId: string | null;
}

/** The rules of every method version, read once per request that needs them. */
export interface RuleBook {
  byVersion: Map<string, EvaluationRules>;
  /** The current version of each method. */
  byMethod: Map<string, { versionId: string; rules: EvaluationRules }>;
}

/** Whether any row needs more than the built-in default (else no read at all: the default path stays as fast as before). */
export const needsRuleBook = (sources: Iterable<RuleSource>): boolean => {
  for (const s of sources) if (s.planMethodId !== null || s.approvalMethodVersionId !== null) return true;
  return false;
};

export async function loadRuleBook(db: Db): Promise<RuleBook> {
  const book: RuleBook = { byVersion: new Map(), byMethod: new Map() };
  for (const v of await repo.allVersions(db)) {
    const rules = v.rules as EvaluationRules;
    book.byVersion.set(v.id, rules);
    if (v.current) book.byMethod.set(v.methodId, { versionId: v.id, rules });
  }
  return book;
}

/** The rules a row is scored by and the version they come from (null = the built-in default). */
export function rulesOf(
  book: RuleBook | undefined,
  s: RuleSource,
): { versionId: string | null; rules: EvaluationRules } {
  if (s.approved) {
    // An approved year answers with the version it was approved with, whatever the plan names now.
    const rules = s.approvalMethodVersionId === null ? undefined : book?.byVersion.get(s.approvalMethodVersionId);
    return rules ? { versionId: s.approvalMethodVersionId, rules } : { versionId: null, rules: DEFAULT_RULES };
  }
  const current = s.planMethodId === null ? undefined : book?.byMethod.get(s.planMethodId);
  return current ?? { versionId: null, rules: DEFAULT_RULES };
}

/** The rule book when some source needs one. */
export async function ruleBookFor(db: Db, sources: Iterable<RuleSource>): Promise<RuleBook | undefined> {
  return needsRuleBook(sources) ? loadRuleBook(db) : undefined;
}
