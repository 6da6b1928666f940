/** The signature block of a plan's report for a year: read, upsert, delete. */
import { and, eq, getTableColumns, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import type { Tx } from '../db/tx.js';
import { registerChild } from '../db/hierarchy.js';
import { plans, reportSignatures } from '../db/schema.js';
import { iso } from '../shared/decimal.js';
import type { ReportSignature, ReportSignaturePut } from './signature-schemas.js';

// Signatures hang under plans: a plan delete with ?cascade=true removes them, without it they answer 409.
registerChild(plans, {
  table: reportSignatures,
  parentColumn: reportSignatures.planId,
  entityType: 'reportSignature',
  describe: (row) => ({ before: toSignatureDto(row as unknown as Row), entityKey: `${String(row.planId)}/${String(row.year)}` }),
});

type Row = typeof reportSignatures.$inferSelect;

export const toSignatureDto = (row: Row): ReportSignature => ({
  id: row.id,
  planId: row.planId,
  year: row.year,
  position: row.position,
  name: row.name,
  remark: row.remark ?? null,
  editionNotes: row.editionNotes ?? null,
  version: row.version,
  createdAt: iso(row.createdAt),
  updatedAt: iso(row.updatedAt),
});

export async function findSignature(executor: Db | Tx, planId: string, year: number, forUpdate = false) {
  let query = executor
    .select()
    .from(reportSignatures)
    .where(and(eq(reportSignatures.planId, planId), eq(reportSignatures.year, year)))
    .$dynamic();
  if (forUpdate) query = query.for('update');
  return (await query)[0];
}

/** Insert or replace; `created` tells which (xmax = 0 only for a freshly inserted tuple). */
export async function upsertSignature(tx: Tx, planId: string, year: number, body: ReportSignaturePut) {
  const values = { position: body.position, name: body.name, remark: body.remark ?? null, editionNotes: body.editionNotes ?? null };
  const [row] = await tx
    .insert(reportSignatures)
    .values({ planId, year, ...values })
    .onConflictDoUpdate({
      target: [reportSignatures.planId, reportSignatures.year],
      set: { ...values, version: sql`${reportSignatures.version} + 1`, updatedAt: sql`now()` },
    })
    .returning({ ...getTableColumns(reportSignatures), created: sql<boolean>`(xmax = 0)` });
  return row!;
}

export function deleteSignature(tx: Tx, planId: string, year: number) {
  return tx.delete(reportSignatures).where(and(eq(reportSignatures.planId, planId), eq(reportSignatures.year, year)));
}
