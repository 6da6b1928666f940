/**
 * Approved years lock data. Writers check with assertYearOpen inside their transaction, after
 * taking a share lock on the plan row; approving takes an update lock on it, so an approval and
 * a write to the same plan never interleave.
 */
import { and, eq, gt } from 'drizzle-orm';
import { plans } from '../db/schema.js';
import type { Db } from '../db/client.js';
import type { Tx } from '../db/tx.js';
import { yearApprovals } from '../db/schema.js';
import { conflict, notFound } from '../shared/errors.js';
import { tableList } from '../lists/table.js';
import { iso } from '../shared/decimal.js';
import type { YearApproval } from './schemas.js';

type Row = typeof yearApprovals.$inferSelect;

export const toApprovalDto = (row: Row): YearApproval => ({
  id: row.id,
  planId: row.planId,
  year: row.year,
  document: row.document,
  date: row.date,
  approvedBy: row.approvedBy,
  evaluationMethodVersionId: row.evaluationMethodVersionId ?? null,
  version: row.version,
  createdAt: iso(row.createdAt),
  updatedAt: iso(row.updatedAt),
});

export async function findApproval(executor: Db | Tx, planId: string, year: number) {
  const rows = await executor
    .select()
    .from(yearApprovals)
    .where(and(eq(yearApprovals.planId, planId), eq(yearApprovals.year, year)))
    .limit(1);
  return rows[0];
}

/** A plan's approvals by year; `after` a year and up to `limit` rows when paging. */
export function listApprovals(executor: Db | Tx, planId: string, o: { after?: number; limit?: number } = {}) {
  const query = executor
    .select()
    .from(yearApprovals)
    .where(and(eq(yearApprovals.planId, planId), o.after !== undefined ? gt(yearApprovals.year, o.after) : undefined))
    .orderBy(yearApprovals.year)
    .$dynamic();
  return o.limit !== undefined ? query.limit(o.limit) : query;
}

/** A plan's approved years as a list, by year (one approval per year: the year alone is the key). */
export const approvalList = (planId: string) =>
  tableList({
    table: yearApprovals,
    where: [eq(yearApprovals.planId, planId)],
    orderBy: [yearApprovals.year],
    toDto: toApprovalDto,
  });

function describe(row: Row): string {
  const doc = row.document.en ?? row.document.ru ?? row.document.kk ?? 'an approving act';
  return `${doc} of ${row.date}`;
}

/** 409 naming the approval when `year` of the plan is approved. */
export async function assertYearOpen(tx: Tx | Db, planId: string, year: number): Promise<void> {
  const approval = await findApproval(tx, planId, year);
  if (approval) {
    throw conflict(
      `Year ${year} of this plan is approved (${describe(approval)}); an admin must reopen it before it can change.`,
    );
  }
}

/** 409 when the plan has any approved year: its structure is evidence of those reports. */
export async function assertNoApprovedYears(tx: Tx | Db, planId: string, what: string): Promise<void> {
  const rows = await listApprovals(tx, planId);
  if (rows.length > 0) {
    const years = rows.map((r) => r.year).join(', ');
    throw conflict(`Cannot ${what}: the plan has approved years (${years}); an admin must reopen them first.`);
  }
}

/** The plan row locked for update: approving and reopening wait for, and block, every writer of the plan. */
/** Whether the plan exists (a list's parent check). */
export async function planExists(db: Db | Tx, planId: string): Promise<boolean> {
  return (await db.select({ id: plans.id }).from(plans).where(eq(plans.id, planId)).limit(1)).length > 0;
}

export async function lockPlanForApproval(tx: Tx, planId: string) {
  const rows = await tx.select().from(plans).where(eq(plans.id, planId)).for('update');
  if (!rows[0]) throw notFound('plan', planId);
  return rows[0];
}

export async function insertApproval(tx: Tx, values: typeof yearApprovals.$inferInsert) {
  const [row] = await tx.insert(yearApprovals).values(values).returning();
  return row!;
}

export async function deleteApproval(tx: Tx, id: string) {
  await tx.delete(yearApprovals).where(eq(yearApprovals.id, id));
}
