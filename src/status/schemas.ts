import { z } from 'zod';
import { YearApproval } from '../approvals/schemas.js';
import { BetterWhen, ValueType } from '../indicators/schemas.js';
import { LangQuery } from '../shared/lang.js';
import { ListQuery, LocalizedText, Uuid } from '../shared/schemas.js';
import { UpdatedSince } from '../sync/cursor.js';
import { ExportQueryShape } from '../exports/tabular.js';

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
    total: z.number().int(),
    achieved: z.number().int(),
    notAchieved: z.number().int(),
    pending: z.number().int(),
    noTarget: z.number().int(),
    achievementRate: z
      .number()
      .nullable()
      .describe('achieved / (achieved + notAchieved) x 100, rounded half away from zero to 2 decimals; null when both are 0.'),
  })
  .meta({ id: 'Summary' });

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
    year: z.number().int(),
    plan: z.number().nullable(),
    fact: z.number().nullable(),
    ratingSize: z.number().int().nullable(),
    score: z.number().nullable(),
    note: LocalizedText.nullable(),
    status: AchievementStatus,
    approved: z.boolean().describe("Whether this plan year is approved (its values are locked)."),
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
  })
  .meta({ id: 'IndicatorStatus', description: 'One indicator in one year with its derived achievement.' });
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
    year: z.number().int(),
    approval: YearApproval.nullable().describe('The approval of this plan year, when it is approved.'),
    summary: Summary,
    directions: z.array(DirectionStatus),
  })
  .meta({ id: 'PlanStatus', description: 'A plan in one year, with counts rolled up per goal, direction and plan.' });
export type PlanStatus = z.infer<typeof PlanStatus>;

const StatusYear = z.coerce.number().int().min(1900).max(2200);

export const PlanStatusQuery = z.object({ year: StatusYear, ...LangQuery });
export const IndicatorStatusQuery = z.object({ year: StatusYear.optional(), ...LangQuery });

export const StatusFeedQuery = ListQuery.extend({
  year: StatusYear.optional().describe(
    'With a year: every indicator of plans running that year, plus any indicator measured that year. Without: every stored measurement.',
  ),
  organizationId: Uuid.optional(),
  planId: Uuid.optional(),
  status: AchievementStatus.optional(),
  valueType: ValueType.optional(),
  format: z
    .enum(['json', 'csv', 'xlsx'])
    .optional()
    .describe('csv answers text/csv (as does Accept: text/csv), xlsx an Excel workbook (as does its Accept type).'),
  ...ExportQueryShape,
  updatedSince: UpdatedSince.optional(),
  ...LangQuery,
});
