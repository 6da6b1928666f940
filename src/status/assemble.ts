/** Turns query rows into IndicatorStatus objects and the plan tree; the rules live in achievement/. */
import { computeIndicatorStatus } from '../achievement/compute.js';
import type { Forecast } from '../achievement/forecast.js';
import type { EvaluationRules } from '../achievement/methods.js';
import { DEFAULT_RULES, evaluateWith } from '../achievement/methods.js';
import type { MethodSummary, RollUpItem } from '../achievement/rollup.js';
import { summarizeWith } from '../achievement/rollup.js';
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
  /** Evaluation methods (issue 18). */
  previousScore: string | null;
  weight: string | number;
}

export interface StatusContext {
  planId: string;
  directionId: string;
  organizationId: string;
  year: number;
  approved: boolean;
}

/** How a status answer is scored: the rules (DEFAULT_RULES for plans without a method) and "now" for pending deadlines. */
export interface Scoring {
  rules: EvaluationRules;
  now: Date;
}
export const defaultScoring = (): Scoring => ({ rules: DEFAULT_RULES, now: new Date() });

export function toIndicatorStatus(
  row: StatusRow,
  context: StatusContext,
  lang?: Lang,
  scoring: Scoring = defaultScoring(),
): IndicatorStatus {
  const input = {
    betterWhen: row.betterWhen,
    valueType: row.valueType,
    plan: row.plan,
    fact: row.fact,
    ratingSize: row.ratingSize,
    previousFact: row.previousFact,
    previousRatingSize: row.previousRatingSize,
    score: row.score,
    previousScore: row.previousScore,
    year: context.year,
  };
  const derived = computeIndicatorStatus(input);
  const method = evaluateWith(scoring.rules, input, derived, scoring.now);
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
    // ---- evaluation methods (issue 18) ----
    weight: Number(row.weight),
    degree: method.degree,
    band: method.band,
    gap: method.gap,
    scoreTrend: method.scoreTrend,
    overdue: method.overdue,
  };
}

const rollUpItem = (i: IndicatorStatus): RollUpItem => ({
  status: i.status,
  degree: i.degree,
  weight: i.weight,
  overdue: i.overdue,
  onTrack: i.forecast?.onTrack,
});

/** A roll-up of indicators under the method (today's counts and rate under the default). */
export function summaryOf(
  indicators: readonly IndicatorStatus[],
  rules: EvaluationRules,
  withForecast: boolean,
): MethodSummary {
  return summarizeWith(rules, indicators.map(rollUpItem), withForecast);
}

export interface PlanScoring extends Scoring {
  method: PlanStatus['evaluationMethod'];
  /** Forecasts by indicator id, when asked for. */
  forecasts?: Map<string, Forecast>;
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

/**
 * A flat feed row: its IndicatorStatus, then where it sits, names resolved to `lang` when one was asked for.
 * The place is added to the IndicatorStatus object field by field, in the answer's order: spreading
 * it into a new object (and spreading computed-key objects for the texts) cost 17x the IndicatorStatus
 * itself and most of a feed page's garbage (docs/benchmarks.md).
 */
export function toFlatIndicatorStatus(
  row: StatusRow & StatusContext & StatusPlacement,
  lang?: Lang,
  scoring?: Scoring,
): FlatIndicatorStatus {
  const flat = toIndicatorStatus(row, row, lang, scoring) as Writable<FlatIndicatorStatus>;
  flat.organizationCode = row.organizationCode;
  flat.organizationName = row.organizationName;
  if (lang) flat.organizationNameText = resolveText(row.organizationName, lang);
  flat.planCode = row.planCode;
  flat.planTitle = row.planTitle;
  if (lang) flat.planTitleText = resolveText(row.planTitle, lang);
  flat.directionCode = row.directionCode;
  flat.directionTitle = row.directionTitle;
  if (lang) flat.directionTitleText = resolveText(row.directionTitle, lang);
  flat.goalCode = row.goalCode;
  flat.goalTitle = row.goalTitle;
  if (lang) flat.goalTitleText = resolveText(row.goalTitle, lang);
  return flat;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

type DirectionNode = PlanStatus['directions'][number];
type GoalNode = DirectionNode['goals'][number];

/** Rows arrive ordered direction, goal, indicator (left-joined: empty sections come as nulls). */
export function buildPlanStatus(
  rows: PlanTreeRow[],
  plan: { id: string; organizationId: string },
  year: number,
  lang?: Lang,
  approval: YearApproval | null = null,
  scoring: PlanScoring = { ...defaultScoring(), method: { methodId: null, versionId: null, rules: DEFAULT_RULES } },
): PlanStatus {
  const withForecast = scoring.forecasts !== undefined;
  const empty = summaryOf([], scoring.rules, withForecast);
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
        summary: empty,
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
        summary: empty,
        indicators: [],
      };
      direction.goals.push(goal);
    }
    if (row.indicatorId === null) continue;
    const status = toIndicatorStatus(
      row as StatusRow,
      {
        planId: plan.id,
        directionId: direction.id,
        organizationId: plan.organizationId,
        year,
        approved: approval !== null,
      },
      lang,
      scoring,
    );
    const forecast = scoring.forecasts?.get(status.indicatorId);
    if (forecast) status.forecast = forecast;
    goal.indicators.push(status);
  }
  // Means cannot be merged from sub-means: each level is computed from its own indicators.
  const all: IndicatorStatus[] = [];
  for (const d of directions) {
    const inDirection: IndicatorStatus[] = [];
    for (const g of d.goals) {
      g.summary = summaryOf(g.indicators, scoring.rules, withForecast);
      inDirection.push(...g.indicators);
    }
    d.summary = summaryOf(inDirection, scoring.rules, withForecast);
    all.push(...inDirection);
  }
  const summary = summaryOf(all, scoring.rules, withForecast);
  return { planId: plan.id, year, approval, evaluationMethod: scoring.method, summary, directions };
}
