/** Every SQL statement of evaluation methods. */
import { and, asc, count, eq, sql } from 'drizzle-orm';
import type { EvaluationRules } from '../achievement/methods.js';
import type { Db } from '../db/client.js';
import type { Tx } from '../db/tx.js';
import type { LocalizedTextColumn } from '../db/schema.js';
import { evaluationMethods, evaluationMethodVersions, plans, yearApprovals } from '../db/schema.js';
import { tableList } from '../lists/table.js';
import { iso } from '../shared/decimal.js';
import type { EvaluationMethod, EvaluationMethodVersion } from './schemas.js';

export type MethodRow = typeof evaluationMethods.$inferSelect;
export type MethodVersionRow = typeof evaluationMethodVersions.$inferSelect;
type Executor = Db | Tx;

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

export async function findMethod(executor: Executor, id: string, forUpdate = false): Promise<MethodRow | undefined> {
  const q = executor.select().from(evaluationMethods).where(eq(evaluationMethods.id, id)).limit(1);
  const rows = forUpdate ? await q.for('update') : await q;
  return rows[0];
}

export async function methodExists(executor: Executor, id: string, lock = false): Promise<boolean> {
  const q = executor.select({ id: evaluationMethods.id }).from(evaluationMethods).where(eq(evaluationMethods.id, id));
  // A share lock: a concurrent delete of the method waits for the plan write that names it.
  return (lock ? await q.for('share') : await q).length > 0;
}

/** GET /evaluation-methods through the list pipeline: ordered by code, keyset-paged on (code, id). */
export const methodList = tableList({
  table: evaluationMethods,
  where: [],
  orderBy: [evaluationMethods.code, evaluationMethods.id],
  toDto: toMethodDto,
});

export async function insertMethod(
  tx: Tx,
  values: { code: string; name: LocalizedTextColumn; rules: EvaluationRules },
): Promise<MethodRow> {
  const [row] = await tx.insert(evaluationMethods).values(values).returning();
  await insertVersion(tx, row!);
  return row!;
}

export async function updateMethod(
  tx: Tx,
  id: string,
  values: { code: string; name: LocalizedTextColumn; rules: EvaluationRules },
): Promise<MethodRow> {
  const [row] = await tx
    .update(evaluationMethods)
    .set({ ...values, version: sql`${evaluationMethods.version} + 1`, updatedAt: sql`now()` })
    .where(eq(evaluationMethods.id, id))
    .returning();
  await insertVersion(tx, row!);
  return row!;
}

/** Every version is written once, never updated: what an approved year was scored with. */
async function insertVersion(tx: Tx, row: MethodRow): Promise<void> {
  await tx
    .insert(evaluationMethodVersions)
    .values({ methodId: row.id, version: row.version, name: row.name, rules: row.rules });
}

export async function deleteMethod(tx: Tx, id: string): Promise<void> {
  await tx.delete(evaluationMethods).where(eq(evaluationMethods.id, id));
}

export function listVersions(db: Db, methodId: string) {
  return db
    .select()
    .from(evaluationMethodVersions)
    .where(eq(evaluationMethodVersions.methodId, methodId))
    .orderBy(asc(evaluationMethodVersions.version));
}

/** How many plans name the method and how many approved years were scored with one of its versions. */
export async function usesOf(tx: Tx, methodId: string): Promise<{ plans: number; approvals: number }> {
  const [p] = await tx.select({ n: count() }).from(plans).where(eq(plans.evaluationMethodId, methodId));
  const [a] = await tx
    .select({ n: count() })
    .from(yearApprovals)
    .innerJoin(evaluationMethodVersions, eq(evaluationMethodVersions.id, yearApprovals.evaluationMethodVersionId))
    .where(eq(evaluationMethodVersions.methodId, methodId));
  return { plans: p?.n ?? 0, approvals: a?.n ?? 0 };
}

/** The method's current version row (id and rules), for a plan that names it. */
export async function currentVersion(executor: Executor, methodId: string): Promise<MethodVersionRow | undefined> {
  const rows = await executor
    .select({ v: evaluationMethodVersions })
    .from(evaluationMethodVersions)
    .innerJoin(
      evaluationMethods,
      and(
        eq(evaluationMethods.id, evaluationMethodVersions.methodId),
        eq(evaluationMethods.version, evaluationMethodVersions.version),
      ),
    )
    .where(eq(evaluationMethods.id, methodId))
    .limit(1);
  return rows[0]?.v;
}

/** Every version of every method with whether it is the current one: methods are few (admin-managed). */
export function allVersions(executor: Executor) {
  return executor
    .select({
      id: evaluationMethodVersions.id,
      methodId: evaluationMethodVersions.methodId,
      rules: evaluationMethodVersions.rules,
      current: sql<boolean>`(${evaluationMethodVersions.version} = ${evaluationMethods.version})`,
    })
    .from(evaluationMethodVersions)
    .innerJoin(evaluationMethods, eq(evaluationMethods.id, evaluationMethodVersions.methodId));
}
