/**
 * Everything GET /plans/{id}/status needs in one statement: the plan, the year's approval and
 * the tree of directions, goals and indicators with the year's and previous year's values.
 * One round trip instead of three, hand-written SQL decoded by position (src/db/raw.ts): this is
 * the endpoint other systems poll, and bench/limit-server.ts runs the very same statement.
 *
 * Rows arrive ordered direction, goal, indicator; left joins, so a plan without directions gives
 * one row with a null direction, a direction without goals one with a null goal, and so on.
 */
import type { Db } from '../db/client.js';
import type { LocalizedTextColumn } from '../db/schema.js';
import type { NamedSql } from '../db/raw.js';
import { queryArrays } from '../db/raw.js';
import type { YearApproval } from '../approvals/schemas.js';
import type { StatusRow } from './assemble.js';

export const PLAN_STATUS_SQL: NamedSql = {
  name: 'plan_status_v1',
  text: `select p.organization_id, p.start_year, p.end_year,
    ya.id, ya.document, ya.date, ya.approved_by, ya.version,
    round(extract(epoch from ya.created_at) * 1000)::float8, round(extract(epoch from ya.updated_at) * 1000)::float8,
    d.id, d.code, d.title, d.position, g.id, g.code, g.title, g.position,
    i.id, i.code, i.name, i.unit, i."group", i.value_type, i.better_when,
    m.plan, m.fact, m.rating_size, m.score, m.note, pm.fact, pm.rating_size
  from plans p
  left join year_approvals ya on ya.plan_id = p.id and ya.year = $2::int
  left join directions d on d.plan_id = p.id
  left join goals g on g.direction_id = d.id
  left join indicators i on i.goal_id = g.id
  left join measurements m on m.indicator_id = i.id and m.year = $2::int
  left join measurements pm on pm.indicator_id = i.id and pm.year = $2::int - 1
  where p.id = $1::uuid
  order by d.position, d.code, g.position, g.code, i.position, i.code`,
};

/** One row of the tree: a direction, maybe a goal, maybe an indicator with its values. */
export type PlanTreeRow = {
  directionId: string;
  directionCode: string;
  directionTitle: LocalizedTextColumn;
  directionPosition: number;
  goalRowId: string | null;
  goalCode: string | null;
  goalTitle: LocalizedTextColumn | null;
  goalPosition: number | null;
} & (StatusRow | { [K in keyof StatusRow]: null });

export interface PlanStatusData {
  plan: { id: string; organizationId: string; startYear: number; endYear: number };
  approval: YearApproval | null;
  rows: PlanTreeRow[];
}

const iso = (epochMs: number) => new Date(epochMs).toISOString();

/** Decodes the statement's rows (column order above); undefined when the plan does not exist. */
export function decodePlanStatus(planId: string, year: number, rows: unknown[][]): PlanStatusData | undefined {
  const first = rows[0];
  if (!first) return undefined;
  const approval: YearApproval | null =
    first[3] === null
      ? null
      : {
          id: first[3] as string,
          planId,
          year,
          document: first[4] as YearApproval['document'],
          date: first[5] as string,
          approvedBy: first[6] as string | null,
          version: first[7] as number,
          createdAt: iso(first[8] as number),
          updatedAt: iso(first[9] as number),
        };
  const tree: PlanTreeRow[] = [];
  for (const r of rows) {
    if (r[10] === null) continue; // a plan without directions
    tree.push({
      directionId: r[10] as string,
      directionCode: r[11] as string,
      directionTitle: r[12] as LocalizedTextColumn,
      directionPosition: r[13] as number,
      goalRowId: r[14] as string | null,
      goalCode: r[15] as string | null,
      goalTitle: r[16] as LocalizedTextColumn | null,
      goalPosition: r[17] as number | null,
      indicatorId: r[18] as string,
      goalId: r[14] as string,
      code: r[19] as string,
      name: r[20] as LocalizedTextColumn,
      unit: r[21] as LocalizedTextColumn,
      group: r[22] as LocalizedTextColumn | null,
      valueType: r[23] as StatusRow['valueType'],
      betterWhen: r[24] as StatusRow['betterWhen'],
      plan: r[25] as string | null,
      fact: r[26] as string | null,
      ratingSize: r[27] as number | null,
      score: r[28] as string | null,
      note: r[29] as LocalizedTextColumn | null,
      previousFact: r[30] as string | null,
      previousRatingSize: r[31] as number | null,
    } as PlanTreeRow);
  }
  return {
    plan: { id: planId, organizationId: first[0] as string, startYear: first[1] as number, endYear: first[2] as number },
    approval,
    rows: tree,
  };
}

export async function readPlanStatus(db: Db, planId: string, year: number): Promise<PlanStatusData | undefined> {
  return decodePlanStatus(planId, year, await queryArrays(db, PLAN_STATUS_SQL, [planId, year]));
}
