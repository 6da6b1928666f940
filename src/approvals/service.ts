/**
 * Approving and reopening a plan year: the plan row locked for update (so no write to the plan's
 * data interleaves, see repository.ts), the rules checked, the change and its audit row in one
 * transaction. No HTTP here: the caller passes the actor.
 */
import { recordAudit } from '../audit/record.js';
import type { Db } from '../db/client.js';
import { versionInForce } from '../evaluation-methods/service.js';
import type { Actor } from '../shared/actor.js';
import { NotFoundError, conflict, invalid } from '../shared/errors.js';
import { deleteApproval, findApproval, insertApproval, lockPlanForApproval, toApprovalDto } from './repository.js';
import type { YearApproval } from './schemas.js';

export interface ApprovalInput {
  document: YearApproval['document'];
  date: string;
}

export function approvalService(deps: { db: Db }) {
  const { db } = deps;
  return {
    /** Approves `year` of the plan by an act; a ConflictError when it is approved already. */
    async approve(actor: Actor, planId: string, year: number, input: ApprovalInput): Promise<YearApproval> {
      return db.transaction(async (tx) => {
        const plan = await lockPlanForApproval(tx, planId);
        if (year < plan.startYear || year > plan.endYear) {
          throw invalid(`Only the plan's own years ${plan.startYear}..${plan.endYear} are approved.`, [
            { path: 'params.year', message: `must lie in ${plan.startYear}..${plan.endYear}` },
          ]);
        }
        if (await findApproval(tx, planId, year)) throw conflict(`Year ${year} of this plan is already approved.`);
        const dto = toApprovalDto(
          await insertApproval(tx, {
            planId,
            year,
            ...input,
            approvedBy: actor.id,
            // The method version in force now: this year keeps answering with it whatever changes later.
            evaluationMethodVersionId: await versionInForce(tx, plan.evaluationMethodId ?? null),
          }),
        );
        await recordAudit(tx, actor, {
          entityType: 'yearApproval',
          entityId: dto.id,
          entityKey: `${planId}/${year}`,
          action: 'approve',
          after: dto,
        });
        return dto;
      });
    },

    /** Reopens an approved year with a reason; a NotFoundError when it is not approved. */
    async reopen(actor: Actor, planId: string, year: number, reason: string) {
      return db.transaction(async (tx) => {
        await lockPlanForApproval(tx, planId);
        const approval = await findApproval(tx, planId, year);
        if (!approval) throw new NotFoundError(`Year ${year} of plan ${planId} is not approved.`);
        await deleteApproval(tx, approval.id);
        const result = { planId, year, reason, reopenedBy: actor.id };
        await recordAudit(tx, actor, {
          entityType: 'yearApproval',
          entityId: approval.id,
          entityKey: `${planId}/${year}`,
          action: 'reopen',
          before: toApprovalDto(approval),
          after: result,
        });
        return result;
      });
    },
  };
}
