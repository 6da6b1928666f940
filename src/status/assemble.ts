/** Turns query rows into IndicatorStatus objects and the plan tree; the rules live in achievement/. */
import type { Summary } from '../achievement/compute.js';
import { computeIndicatorStatus, emptySummary, mergeSummaries, summarize } from '../achievement/compute.js';
import type { LocalizedTextColumn } from '../db/schema.js';
import { decimalToNumber } from '../shared/decimal.js';
import type { Lang } from '../shared/lang.js';
import { resolveText } from '../shared/lang.js';
import type { YearApproval } from '../approvals/schemas.js';
import type { PlanTreeRow } from './queries.js';
import type { FlatIndicatorStatus, IndicatorStatus, PlanStatus } from './schemas.js';

/** What every status query selects for one indicator and year. */
export interface StatusRow {
  indicatorId: string;
  goalId: string;
  code: string;
  name: LocalizedTextColumn;
  unit: LocalizedTextColumn;
  group: LocalizedTextColumn | null;
  valueType: 'percent' | 'number' | 'rank';
  betterWhen: 'higher' | 'lower';
  plan: string | null;
  fact: string | null;
  ratingSize: number | null;
  score: string | null;
  note: LocalizedTextColumn | null;
  previousFact: string | null;
  previousRatingSize: number | null;
}

export interface StatusContext {
  planId: string;
  directionId: string;
  organizationId: string;
  year: number;
  approved: boolean;
}

export function toIndicatorStatus(row: StatusRow, context: StatusContext, lang?: Lang): IndicatorStatus {
  const derived = computeIndicatorStatus({
    betterWhen: row.betterWhen,
    valueType: row.valueType,
    plan: row.plan,
    fact: row.fact,
    ratingSize: row.ratingSize,
    previousFact: row.previousFact,
    previousRatingSize: row.previousRatingSize,
  });
  return {
    indicatorId: row.indicatorId,
    planId: context.planId,
    goalId: row.goalId,
    directionId: context.directionId,
    organizationId: context.organizationId,
    code: row.code,
    name: row.name,
    ...(lang ? { nameText: resolveText(row.name, lang) } : {}),
    unit: row.unit,
    ...(lang ? { unitText: resolveText(row.unit, lang) } : {}),
    group: row.group ?? null,
    valueType: row.valueType,
    betterWhen: row.betterWhen,
    year: context.year,
    plan: decimalToNumber(row.plan),
    fact: decimalToNumber(row.fact),
    ratingSize: row.ratingSize,
    score: decimalToNumber(row.score),
    note: row.note ?? null,
    status: derived.status,
    approved: context.approved,
    achievementPercent: derived.achievementPercent,
    deviation: derived.deviation,
    previousFact: derived.previousFact,
    trend: derived.trend,
    percentile: derived.percentile,
    previousPercentile: derived.previousPercentile,
  };
}

// --- issue 15: analysis-ready flat rows ------------------------------------------------------------

/** Where a flat row sits (read-model.ts statusPlacementColumns). */
export interface StatusPlacement {
  organizationCode: string;
  organizationName: LocalizedTextColumn;
  planCode: string;
  planTitle: LocalizedTextColumn;
  directionCode: string;
  directionTitle: LocalizedTextColumn;
  goalCode: string;
  goalTitle: LocalizedTextColumn;
}

/** A flat feed row: its IndicatorStatus, then where it sits, names resolved to `lang` when one was asked for. */
export function toFlatIndicatorStatus(row: StatusRow & StatusContext & StatusPlacement, lang?: Lang): FlatIndicatorStatus {
  const text = (t: LocalizedTextColumn) => (lang ? resolveText(t, lang) : undefined);
  const named = <K extends string>(key: K, t: LocalizedTextColumn) => (lang ? ({ [`${key}Text`]: text(t) } as Record<`${K}Text`, string | null>) : {});
  return {
    ...toIndicatorStatus(row, row, lang),
    organizationCode: row.organizationCode,
    organizationName: row.organizationName,
    ...named('organizationName', row.organizationName),
    planCode: row.planCode,
    planTitle: row.planTitle,
    ...named('planTitle', row.planTitle),
    directionCode: row.directionCode,
    directionTitle: row.directionTitle,
    ...named('directionTitle', row.directionTitle),
    goalCode: row.goalCode,
    goalTitle: row.goalTitle,
    ...named('goalTitle', row.goalTitle),
  };
}

type DirectionNode = PlanStatus['directions'][number];
type GoalNode = DirectionNode['goals'][number];

/** Rows arrive ordered direction, goal, indicator (left-joined: empty sections come as nulls). */
export function buildPlanStatus(
  rows: PlanTreeRow[],
  plan: { id: string; organizationId: string },
  year: number,
  lang?: Lang,
  approval: YearApproval | null = null,
): PlanStatus {
  const directions: DirectionNode[] = [];
  let direction: DirectionNode | undefined;
  let goal: GoalNode | undefined;
  const text = (t: LocalizedTextColumn) => (lang ? { titleText: resolveText(t, lang) } : {});
  for (const row of rows) {
    if (direction?.id !== row.directionId) {
      direction = {
        id: row.directionId,
        code: row.directionCode,
        title: row.directionTitle,
        ...text(row.directionTitle),
        position: row.directionPosition,
        summary: emptySummary(),
        goals: [],
      };
      directions.push(direction);
      goal = undefined;
    }
    if (row.goalRowId === null) continue;
    if (goal?.id !== row.goalRowId) {
      goal = {
        id: row.goalRowId,
        code: row.goalCode!,
        title: row.goalTitle!,
        ...text(row.goalTitle!),
        position: row.goalPosition!,
        summary: emptySummary(),
        indicators: [],
      };
      direction.goals.push(goal);
    }
    if (row.indicatorId === null) continue;
    const status = toIndicatorStatus(row as StatusRow, { planId: plan.id, directionId: direction.id, organizationId: plan.organizationId, year, approved: approval !== null }, lang);
    goal.indicators.push(status);
  }
  let summary: Summary = emptySummary();
  for (const d of directions) {
    for (const g of d.goals) g.summary = summarize(g.indicators.map((i) => i.status));
    d.summary = d.goals.reduce((acc, g) => mergeSummaries(acc, g.summary), emptySummary());
    summary = mergeSummaries(summary, d.summary);
  }
  return { planId: plan.id, year, approval, summary, directions };
}
