/**
 * The documents a plan keeps one of per reporting year (the analytical note, the report's signature
 * block): PUT creates or replaces, DELETE removes, both checked the same way, written once here.
 * Each write locks the plan (share), checks the year is one of the plan's own, honours If-Match,
 * refuses an approved year (ConflictError), and records its audit row under "<planId>/<year>", all
 * in one transaction. The feature supplies its SQL and DTO (PlanYearDocumentSpec).
 */
import { assertYearOpen } from '../approvals/repository.js';
import { recordAudit } from '../audit/record.js';
import type { Db } from '../db/client.js';
import type { Tx } from '../db/tx.js';
import { planYearsOf } from '../notes/repository.js';
import { reportYearProblem } from '../reports/years.js';
import type { Actor } from '../shared/actor.js';
import { NotFoundError, invalid, notFound } from '../shared/errors.js';
import type { IfMatch } from '../shared/if-match.js';
import { checkIfMatch } from '../shared/if-match.js';

interface StoredDocument {
  id: string;
  version: number;
}

export interface PlanYearDocumentSpec<Row extends StoredDocument, Body, Dto extends object> {
  /** The audit trail's entityType: "note", "reportSignature". */
  entityType: string;
  /** "has no analytical note", for the NotFoundError of a missing document. */
  missing: (planId: string, year: number) => string;
  find: (executor: Db | Tx, planId: string, year: number, forUpdate: boolean) => Promise<Row | undefined>;
  /** Insert or replace; `created` tells which. */
  upsert: (tx: Tx, planId: string, year: number, body: Body) => Promise<Row & { created: boolean }>;
  remove: (tx: Tx, planId: string, year: number) => Promise<unknown>;
  toDto: (row: Row) => Dto;
}

export function planYearDocumentService<Row extends StoredDocument, Body, Dto extends object>(
  deps: { db: Db },
  spec: PlanYearDocumentSpec<Row, Body, Dto>,
) {
  const { db } = deps;
  const audit = (planId: string, year: number) => ({ entityType: spec.entityType, entityKey: `${planId}/${year}` });

  return {
    /** The stored document of `year`; NotFoundError for an unknown plan or a year without one. */
    async get(planId: string, year: number): Promise<Row> {
      const [plan, row] = await Promise.all([planYearsOf(db, planId), spec.find(db, planId, year, false)]);
      if (!plan) throw notFound('plan', planId);
      if (!row) throw new NotFoundError(spec.missing(planId, year));
      return row;
    },

    /** Creates or replaces the document of `year`; answers the stored row and whether it was created. */
    async put(actor: Actor, planId: string, year: number, body: Body, ifMatch: IfMatch) {
      return db.transaction(async (tx) => {
        const plan = await planYearsOf(tx, planId, true);
        if (!plan) throw notFound('plan', planId);
        const problem = reportYearProblem(plan, year, 'params.year');
        if (problem) throw invalid('The year is outside the plan.', [problem]);
        const current = await spec.find(tx, planId, year, true);
        checkIfMatch(ifMatch, current?.version);
        await assertYearOpen(tx, planId, year);
        const row = await spec.upsert(tx, planId, year, body);
        await recordAudit(tx, actor, {
          ...audit(planId, year),
          entityId: row.id,
          action: current ? 'update' : 'create',
          before: current ? spec.toDto(current) : null,
          after: spec.toDto(row),
        });
        return row;
      });
    },

    async remove(actor: Actor, planId: string, year: number, ifMatch: IfMatch): Promise<void> {
      await db.transaction(async (tx) => {
        if (!(await planYearsOf(tx, planId, true))) throw notFound('plan', planId);
        const current = await spec.find(tx, planId, year, true);
        if (!current) throw new NotFoundError(spec.missing(planId, year));
        checkIfMatch(ifMatch, current.version);
        await assertYearOpen(tx, planId, year);
        await spec.remove(tx, planId, year);
        await recordAudit(tx, actor, {
          ...audit(planId, year),
          entityId: current.id,
          action: 'delete',
          before: spec.toDto(current),
          after: null,
        });
      });
    },
  };
}
