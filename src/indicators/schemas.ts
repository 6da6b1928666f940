import { z } from 'zod';
import { Code, EntityMeta, LocalizedText, Position, Uuid } from '../shared/schemas.js';

export const ValueType = z.enum(['percent', 'number', 'rank']).meta({
  id: 'ValueType',
  description: 'percent and number are plain values; rank is a place in a rating (whole number >= 1, lower is better).',
});
export const BetterWhen = z.enum(['higher', 'lower']).meta({
  id: 'BetterWhen',
  description: 'Which way is better. Never inferred from the unit: staff turnover is a lower-is-better percentage.',
});

/** Weight in weighted roll-ups of evaluation methods (issue 18); at most 4 decimals. */
export const IndicatorWeight = z
  .number()
  .min(0)
  .max(1_000_000)
  .refine((w) => Number(w.toFixed(4)) === w, { message: 'at most 4 decimals' })
  .describe(
    'Weight of the indicator in weighted roll-ups (evaluation methods with rollUp "weighted"); >= 0, default 1.',
  );

const indicatorFields = {
  code: Code.describe('Code as printed in the plan, unique within the goal, e.g. "1.1.3".'),
  name: LocalizedText,
  unit: LocalizedText.describe('Unit of measure, e.g. "%".'),
  source: LocalizedText.describe('Information source.'),
  valueType: ValueType,
  betterWhen: BetterWhen,
  group: LocalizedText.nullable().optional().describe('Sub-heading the indicator sits under within its goal.'),
  position: Position,
  weight: IndicatorWeight.optional(),
};

export const Indicator = z
  .object({ ...EntityMeta, goalId: Uuid, ...indicatorFields, group: LocalizedText.nullable(), weight: z.number() })
  .meta({
    id: 'Indicator',
    description: 'A target indicator of a goal.',
    example: {
      id: '0b7f3c1e-2a4d-4f6b-8e9a-1c2d3e4f5a6b',
      version: 1,
      createdAt: '2016-11-22T09:00:00.000Z',
      updatedAt: '2016-11-22T09:00:00.000Z',
      goalId: '5d6e7f80-1a2b-4c3d-8e4f-5a6b7c8d9e0f',
      code: '1.1.1',
      name: {
        kk: 'Мемлекеттік қызметшілердің таза ауысымдылығы',
        ru: 'Чистая текучесть государственных служащих',
        en: 'Net turnover of civil servants',
      },
      unit: { kk: '%', ru: '%', en: '%' },
      source: { kk: 'Мониторинг нәтижелері', ru: 'Результаты мониторинга', en: 'Monitoring results' },
      valueType: 'percent',
      betterWhen: 'lower',
      group: null,
      position: 1,
      weight: 1,
    },
  });
export type Indicator = z.infer<typeof Indicator>;

const rankIsLower = (i: { valueType?: string; betterWhen?: string }) =>
  !(i.valueType === 'rank' && i.betterWhen === 'higher');
const rankMessage = { message: 'a rank is always betterWhen "lower" (a lower place is better)', path: ['betterWhen'] };

export const IndicatorCreate = z
  .strictObject({
    ...indicatorFields,
    betterWhen: BetterWhen.optional().describe('Required unless valueType is "rank", where it defaults to "lower".'),
    position: Position.optional(),
  })
  .refine(rankIsLower, rankMessage)
  .refine((i) => i.valueType === 'rank' || i.betterWhen !== undefined, {
    message: 'betterWhen is required: say whether a higher or a lower value is better',
    path: ['betterWhen'],
  })
  .transform((i) => ({ ...i, betterWhen: i.betterWhen ?? ('lower' as const) }));

export const IndicatorPatch = z
  .strictObject(indicatorFields)
  .partial()
  .refine((p) => Object.keys(p).length > 0, { message: 'send at least one field to change' })
  .refine(rankIsLower, rankMessage);

export const IndicatorFilters = z.object({
  code: Code.optional(),
  valueType: ValueType.optional(),
  betterWhen: BetterWhen.optional(),
});
