/** Everything one report needs, in a fixed number of queries whatever the plan's size. */
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { joinUp } from '../db/plan-tree.js';
import { directions, indicators, organizations, plans } from '../db/schema.js';
import { findNote } from '../notes/repository.js';
import { planRisks } from '../risks/repository.js';
import { readPlanStatus } from '../status/queries.js';
import { planScoring } from '../status/scoring.js';
import { findSignature } from './signature.js';

export async function findPlanWithOrganization(db: Db, planId: string) {
  const rows = await db
    .select({ plan: plans, organization: organizations })
    .from(plans)
    .innerJoin(organizations, eq(organizations.id, plans.organizationId))
    .where(eq(plans.id, planId))
    .limit(1);
  return rows[0];
}

/** Information sources of the plan's indicators (the status tree does not carry them). */
function indicatorSources(db: Db, planId: string) {
  return joinUp(db.select({ id: indicators.id, source: indicators.source }).from(indicators).$dynamic(), indicators, directions).where(
    eq(directions.planId, planId),
  );
}

export async function loadReportData(db: Db, planId: string, year: number) {
  const [status, sources, risks, note, signature] = await Promise.all([
    readPlanStatus(db, planId, year),
    indicatorSources(db, planId),
    planRisks(db, planId, { year }),
    findNote(db, planId, year),
    findSignature(db, planId, year),
  ]);
  // The report is scored like GET /plans/{id}/status: by the plan's evaluation method (or the approved year's version).
  const scoring = status ? await planScoring(db, status, year, new Date(), false) : undefined;
  return { tree: status?.rows ?? [], scoring, sources: new Map(sources.map((s) => [s.id, s.source])), risks, note, signature };
}
export type ReportData = Awaited<ReturnType<typeof loadReportData>>;
