/** Loads the demo dataset into a database in one transaction; a second run changes nothing. */
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import {
  analyticalNotes,
  directions,
  goals,
  indicators,
  measurements,
  organizations,
  plans,
  reportSignatures,
  risks,
} from '../db/schema.js';
import { numberToDecimal } from '../shared/decimal.js';
import { loadDemoDataset } from './dataset.js';

export interface SeedResult {
  loaded: boolean;
  organizationId: string;
  planId?: string;
}

export async function seedDemo(db: Db): Promise<SeedResult> {
  const data = loadDemoDataset();
  return db.transaction(async (tx) => {
    const existing = await tx
      .select({ id: organizations.id })
      .from(organizations)
      .where(eq(organizations.code, data.organization.code));
    if (existing[0]) return { loaded: false, organizationId: existing[0].id };

    const [org] = await tx.insert(organizations).values(data.organization).returning({ id: organizations.id });
    const [plan] = await tx
      .insert(plans)
      .values({ ...data.plan, organizationId: org!.id })
      .returning({ id: plans.id });
    for (const d of data.directions) {
      const [direction] = await tx
        .insert(directions)
        .values({ planId: plan!.id, code: d.code, title: d.title, position: d.position ?? 0 })
        .returning({ id: directions.id });
      for (const g of d.goals) {
        const [goal] = await tx
          .insert(goals)
          .values({ directionId: direction!.id, code: g.code, title: g.title, position: g.position ?? 0 })
          .returning({ id: goals.id });
        if (g.risks.length > 0) {
          await tx.insert(risks).values(
            g.risks.map((r, n) => ({
              ...r,
              goalId: goal!.id,
              position: r.position ?? n + 1,
              actualMeasures: r.actualMeasures ?? null,
              note: r.note ?? null,
            })),
          );
        }
        for (const i of g.indicators) {
          const { measurements: values, reportVerdict: _verdict, ...fields } = i;
          const [indicator] = await tx
            .insert(indicators)
            .values({
              ...fields,
              goalId: goal!.id,
              position: fields.position ?? 0,
              weight: fields.weight === undefined ? undefined : String(fields.weight),
            })
            .returning({ id: indicators.id });
          if (values.length > 0) {
            await tx.insert(measurements).values(
              values.map((m) => ({
                indicatorId: indicator!.id,
                year: m.year,
                plan: numberToDecimal(m.plan),
                fact: numberToDecimal(m.fact),
                ratingSize: m.ratingSize,
                score: numberToDecimal(m.score),
                note: m.note,
              })),
            );
          }
        }
      }
    }
    if (data.analyticalNote) {
      await tx
        .insert(analyticalNotes)
        .values({ planId: plan!.id, year: data.analyticalNote.year, blocks: data.analyticalNote.blocks });
    }
    if (data.reportSignature) {
      const { year, position, name, remark, editionNotes } = data.reportSignature;
      await tx
        .insert(reportSignatures)
        .values({ planId: plan!.id, year, position, name, remark: remark ?? null, editionNotes: editionNotes ?? null });
    }
    return { loaded: true, organizationId: org!.id, planId: plan!.id };
  });
}

export async function isEmpty(db: Db): Promise<boolean> {
  const rows = await db.select({ id: organizations.id }).from(organizations).limit(1);
  return rows.length === 0;
}
