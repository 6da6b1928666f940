import { z } from 'zod';
import { YearApproval } from '../approvals/schemas.js';
import { BetterWhen, ValueType } from '../indicators/schemas.js';
import { LangQuery } from '../shared/lang.js';
import { ListQuery, LocalizedText, Uuid, Year } from '../shared/schemas.js';
import { UpdatedSince } from '../sync/cursor.js';
import { ExportQueryShape } from '../exports/tabular.js';
import { EvaluationRules } from '../evaluation-methods/schemas.js';

export const AchievementStatus = z.enum(['achieved', 'not_achieved', 'pending', 'no_target']).meta({
  id: 'AchievementStatus',
  description:
    'Derived, never typed in: no plan value -> no_target; plan but no fact -> pending; betterWhen higher and ' +
    'fact >= plan, or betterWhen lower (ranks included) and fact <= plan -> achieved; otherwise not_achieved. ' +
    'Decimals compare exactly (plan 1.3, fact 1.3 is achieved).',
});

export const Trend = z.enum(['improved', 'worsened', 'unchanged']).meta({
  id: 'Trend',
  description: "This year's fact against the previous year's, judged with betterWhen; null without both.",
});

export const Summary = z
  .object({
    total: z.number().int().min(0),
    achieved: z.number().int().min(0),
    notAchieved: z.number().int().min(0),
    pending: z.number().int().min(0),
    noTarget: z.number().int().min(0),
    achievementRate: z
      .number()
      .nullable()
      .describe(
        'achieved / (achieved + notAchieved) x 100, rounded half away from zero to 2 decimals; null when both are 0.',
      ),
    // ---- evaluation methods (issue 18): kept as one block ----
    targetRate: z
      .number()
      .nullable()
      .describe(
        'achieved / every indicator with a target (achieved + notAchieved + pending) x 100, 2 decimals (14 of 19 = 73.68); null when none.',
      ),
    meanDegree: z
      .number()
      .nullable()
      .describe(
        "Mean of the indicators' (capped) degrees x 100, 2 decimals; overdue pending values count 0; null when none has one.",
      ),
    weightedDegree: z
      .number()
      .nullable()
      .describe(
        'The same mean weighted by indicator weight: sum(weight x degree) / sum(weight) x 100; null when the weights sum to 0.',
      ),
    score: z
      .number()
      .nullable()
      .describe(
        "The method's roll-up: achievementRate (rollUp share, the default), meanDegree (mean) or weightedDegree (weighted).",
      ),
    overdue: z
      .number()
      .int()
      .describe(
        "Pending values past the method's deadline, counted in notAchieved (always 0 under the default method).",
      ),
    atRisk: z
      .number()
      .int()
      .optional()
      .describe('Indicators whose final-year target is not on track on the current path (with ?forecast=true only).'),
  })
  .meta({ id: 'Summary' });

export const BandMatch = z
  .object({ code: z.string(), label: LocalizedText })
  .meta({ id: 'BandMatch', description: "The first of the method's bands whose min is at most the degree." });

export const Forecast = z
  .object({
    targetYear: z.number().int().describe("The plan's last year."),
    target: z.number().nullable().describe('The plan value for targetYear.'),
    projected: z
      .number()
      .nullable()
      .describe(
        'Least-squares line through the facts up to the asked year, at targetYear (2 decimals); null with fewer than 3 facts.',
      ),
    onTrack: z.boolean().nullable().describe('projected judged against target with betterWhen; null without either.'),
    points: z.number().int().describe('How many facts the line was fitted to.'),
    reason: LocalizedText.describe('The verdict in words a report can print (kk/ru/en).'),
  })
  .meta({ id: 'Forecast', description: 'Forecast of the final-year target from the facts so far.' });

const pct = (description: string) => z.number().nullable().describe(description);

export const IndicatorStatus = z
  .object({
    indicatorId: Uuid,
    planId: Uuid,
    goalId: Uuid,
    directionId: Uuid,
    organizationId: Uuid,
    code: z.string(),
    name: LocalizedText,
    nameText: z.string().nullable().optional().describe('name resolved to ?lang (only when a language was asked for).'),
    unit: LocalizedText,
    unitText: z.string().nullable().optional(),
    group: LocalizedText.nullable(),
    valueType: ValueType,
    betterWhen: BetterWhen,
    year: Year,
    plan: z.number().nullable(),
    fact: z.number().nullable(),
    ratingSize: z.number().int().min(1).nullable(),
    score: z.number().nullable(),
    note: LocalizedText.nullable(),
    status: AchievementStatus,
    approved: z.boolean().describe('Whether this plan year is approved (its values are locked).'),
    achievementPercent: pct(
      'fact/plan x 100 when higher is better, plan/fact x 100 when lower is better; rounded half away from zero to 2 decimals; ' +
        'null when the divisor is zero, either value is negative, or a value is missing.',
    ),
    deviation: pct('fact - plan (signed), rounded half away from zero to 2 decimals; null without both.'),
    previousFact: z.number().nullable().describe("The previous year's fact."),
    trend: Trend.nullable(),
    percentile: pct(
      'Ranks with ratingSize: (ratingSize - rank) / (ratingSize - 1) x 100, so 100 is first place; null otherwise.',
    ),
    previousPercentile: pct("The same for the previous year's rank and rating size."),
    // ---- evaluation methods (issue 18): kept as one block ----
    weight: z.number().describe("The indicator's weight in weighted roll-ups (1 unless set)."),
    degree: pct(
      'Degree of achievement as a fraction (1 = as planned), 4 decimals: fact/plan or plan/fact by betterWhen (ranks by places, or ' +
        "(ratingSize - fact) / (ratingSize - plan) under rankDegree percentile), then the method's cap; null where achievementPercent is.",
    ),
    band: BandMatch.nullable().describe("The method's band for the degree; null without bands or without a degree."),
    gap: pct(
      "Direction-aware gap in the indicator's unit: fact - plan when higher is better, plan - fact when lower; positive = better than planned.",
    ),
    scoreTrend: Trend.nullable().describe(
      "Ranks with a score (e.g. CPI points): the score's own trend, higher is better; null otherwise.",
    ),
    overdue: z
      .boolean()
      .describe(
        "Pending past the method's deadline (counted as not achieved in roll-ups); always false under the default.",
      ),
    forecast: Forecast.optional().describe(
      'GET /plans/{id}/status?forecast=true: the forecast of the final-year target.',
    ),
  })
  .meta({
    id: 'IndicatorStatus',
    description: 'One indicator in one year with its derived achievement.',
    example: {
      indicatorId: '0b7f3c1e-2a4d-4f6b-8e9a-1c2d3e4f5a6b',
      planId: '7f1c1c7e-1111-4a3b-9a43-0d5cbd7e2a10',
      goalId: '5d6e7f80-1a2b-4c3d-8e4f-5a6b7c8d9e0f',
      directionId: '2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f',
      organizationId: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
      code: '3.2.1',
      name: { kk: 'Сыбайлас жемқорлықты қабылдау индексін көтеру', en: 'Raising the Corruption Perceptions Index' },
      unit: { kk: 'Рейтингтегі Қазақстанның орны', en: "Kazakhstan's place in the rating" },
      group: null,
      valueType: 'rank',
      betterWhen: 'lower',
      year: 2016,
      plan: 120,
      fact: 131,
      ratingSize: 176,
      score: 29,
      note: null,
      status: 'not_achieved',
      approved: false,
      achievementPercent: 91.6,
      deviation: 11,
      previousFact: 123,
      trend: 'worsened',
      percentile: 25.71,
      previousPercentile: 26.95,
      weight: 1,
      degree: 0.916,
      band: null,
      gap: -11,
      scoreTrend: 'improved',
      overdue: false,
    },
  });
export type IndicatorStatus = z.infer<typeof IndicatorStatus>;

const section = {
  id: Uuid,
  code: z.string(),
  title: LocalizedText,
  titleText: z.string().nullable().optional(),
  position: z.number().int(),
  summary: Summary,
};

export const GoalStatus = z.object({ ...section, indicators: z.array(IndicatorStatus) }).meta({ id: 'GoalStatus' });
export const DirectionStatus = z.object({ ...section, goals: z.array(GoalStatus) }).meta({ id: 'DirectionStatus' });
export const PlanStatus = z
  .object({
    planId: Uuid,
    year: Year,
    approval: YearApproval.nullable().describe('The approval of this plan year, when it is approved.'),
    evaluationMethod: z
      .object({
        methodId: Uuid.nullable().describe("The plan's method (null: the built-in default)."),
        versionId: Uuid.nullable().describe(
          "The method version the answer uses: the approved year's, else the current one; null = the default.",
        ),
        rules: EvaluationRules,
      })
      .describe('How this answer was scored.'),
    summary: Summary,
    directions: z.array(DirectionStatus),
  })
  .meta({ id: 'PlanStatus', description: 'A plan in one year, with counts rolled up per goal, direction and plan.' });
export type PlanStatus = z.infer<typeof PlanStatus>;

const StatusYear = z.coerce.number().int().min(1900).max(2200);

export const PlanStatusQuery = z.object({
  year: StatusYear,
  forecast: z
    .enum(['true', 'false'])
    .optional()
    .describe(
      "true: each indicator's forecast of the plan's final-year target, and atRisk in the summaries (one more query).",
    ),
  ...LangQuery,
});
export const IndicatorStatusQuery = z.object({ year: StatusYear.optional(), ...LangQuery });

export const StatusFeedQuery = ListQuery.extend({
  year: StatusYear.optional().describe(
    'With a year: every indicator of plans running that year, plus any indicator measured that year. Without: every stored measurement.',
  ),
  organizationId: Uuid.optional(),
  planId: Uuid.optional(),
  status: AchievementStatus.optional(),
  valueType: ValueType.optional(),
  // issue 15
  goalId: Uuid.optional().describe('Only indicators of this goal (an unknown id matches nothing).'),
  directionId: Uuid.optional().describe('Only indicators of goals of this direction (an unknown id matches nothing).'),
  code: z
    .string()
    .max(64)
    .optional()
    .describe('Only indicators with exactly this code (plans may share codes: combine with planId).'),
  yearFrom: StatusYear.optional().describe(
    'Rows of this year and later: stored measurements without ?year. Not with ?year.',
  ),
  yearTo: StatusYear.optional().describe('Rows of this year and earlier; at least yearFrom. Not with ?year.'),
  format: z
    .enum(['json', 'csv', 'xlsx'])
    .optional()
    .describe('csv answers text/csv (as does Accept: text/csv), xlsx an Excel workbook (as does its Accept type).'),
  ...ExportQueryShape,
  decimal: z
    .enum(['comma', 'point'])
    .optional()
    .describe('Decimal mark of CSV numbers. Default: comma with sep=";" (Kazakh and Russian Excel), point with ",".'),
  updatedSince: UpdatedSince.optional(),
  ...LangQuery,
});

// --- issue 15: analysis-ready flat rows ------------------------------------------------------------

const localizedTextOf = (field: string) =>
  z.string().nullable().optional().describe(`${field} resolved to ?lang (only when a language was asked for).`);

/** Where a flat status row sits, by code and name, next to the ids IndicatorStatus carries. */
const StatusPlacement = {
  organizationCode: z.string(),
  organizationName: LocalizedText,
  organizationNameText: localizedTextOf('organizationName'),
  planCode: z.string(),
  planTitle: LocalizedText,
  planTitleText: localizedTextOf('planTitle'),
  directionCode: z.string(),
  directionTitle: LocalizedText,
  directionTitleText: localizedTextOf('directionTitle'),
  goalCode: z.string(),
  goalTitle: LocalizedText,
  goalTitleText: localizedTextOf('goalTitle'),
};

export const FlatIndicatorStatus = IndicatorStatus.extend(StatusPlacement).meta({
  id: 'FlatIndicatorStatus',
  description:
    'A row of the flat status feed (GET /status): one indicator in one year with its derived achievement, and the codes and ' +
    'names of its organization, plan, direction and goal.',
  example: {
    ...(IndicatorStatus.meta()?.example as object),
    organizationCode: 'ACSA',
    organizationName: { kk: 'Мемлекеттік қызмет істері агенттігі', en: 'Agency for Civil Service Affairs' },
    planCode: '2014-2018',
    planTitle: { kk: '2014-2018 жылдарға арналған стратегиялық жоспар', en: 'Strategic Plan 2014-2018' },
    directionCode: '3',
    directionTitle: { kk: 'Сыбайлас жемқорлыққа қарсы іс-қимыл', en: 'Countering corruption' },
    goalCode: '3.2',
    goalTitle: { kk: 'Сыбайлас жемқорлық деңгейін төмендету', en: 'Lowering the level of corruption' },
  },
});
export type FlatIndicatorStatus = z.infer<typeof FlatIndicatorStatus>;
