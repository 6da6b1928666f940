/** Request and response shapes of evaluation methods (issue 18); the rules they carry are src/achievement/methods.ts. */
import { z } from 'zod';
import { validateBands } from '../achievement/bands.js';
import type { EvaluationRules as Rules } from '../achievement/methods.js';
import { Code, EntityMeta, LocalizedText, Uuid } from '../shared/schemas.js';

export const EvaluationBand = z
  .strictObject({
    code: Code.describe('The band\'s code, e.g. "high".'),
    min: z
      .number()
      .min(0)
      .max(1_000_000)
      .describe('The lowest (capped) degree in the band, as a fraction (0.9 = 90%).'),
    label: LocalizedText.describe('What a report prints for the band.'),
  })
  .meta({ id: 'EvaluationBand' });

const PendingTreatment = z
  .discriminatedUnion('treatment', [
    z.strictObject({ treatment: z.literal('excluded') }),
    z.strictObject({
      treatment: z.literal('not_achieved_after'),
      deadline: z
        .string()
        .max(5)
        .regex(/^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'MM-DD')
        .describe(
          'MM-DD of the year after the evaluated year; from the next day a pending value counts as not achieved.',
        ),
    }),
  ])
  .meta({
    id: 'PendingTreatment',
    description:
      'excluded (as today): pending values are not decided; not_achieved_after: counted as not achieved after a deadline.',
  });

export const EvaluationRules = z
  .strictObject({
    rankDegree: z
      .enum(['places', 'percentile'])
      .describe(
        'Ranks: places = plan/fact (as today); percentile = (ratingSize - fact) / (ratingSize - plan), rating-size-aware.',
      ),
    cap: z
      .number()
      .min(0)
      .max(1_000_000)
      .nullable()
      .describe('The degree is taken as at most this (e.g. 1); null = uncapped.'),
    bands: z
      .array(EvaluationBand)
      .max(20)
      .describe(
        'Ordered by min, highest first, no two equal; the last starts at 0; first match wins. Empty = no bands.',
      ),
    rollUp: z
      .enum(['share', 'mean', 'weighted'])
      .describe(
        'How goals, directions and the plan are scored: share achieved (as today), mean degree, or mean weighted by indicator weight.',
      ),
    pending: PendingTreatment,
  })
  .superRefine((rules, ctx) => {
    for (const problem of validateBands(rules.bands)) {
      ctx.addIssue({
        code: 'custom',
        message: problem.message,
        path: problem.path.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p)),
      });
    }
  })
  .meta({
    id: 'EvaluationRules',
    description:
      'The degree of achievement is fact/plan (higher is better) or plan/fact (lower is better) as a fraction, then capped; the ' +
      "built-in default is { rankDegree: places, cap: null, bands: [], rollUp: share, pending: excluded }, exactly today's rule.",
    example: {
      rankDegree: 'places',
      cap: 1,
      rollUp: 'weighted',
      pending: { treatment: 'excluded' },
      bands: [
        { code: 'high', min: 1, label: { kk: 'Жоғары', ru: 'Высокий', en: 'High' } },
        { code: 'medium', min: 0.9, label: { kk: 'Орташа', ru: 'Средний', en: 'Medium' } },
        { code: 'low', min: 0, label: { kk: 'Төмен', ru: 'Низкий', en: 'Low' } },
      ],
    },
  });

// The zod output and the pure rules' type must stay the same shape.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameShape: Same<z.output<typeof EvaluationRules>, Rules> = true;
void sameShape;

const methodFields = {
  code: Code.describe('Unique, e.g. "capped-banded-2016".'),
  name: LocalizedText,
  rules: EvaluationRules,
};

export const EvaluationMethod = z.object({ ...EntityMeta, ...methodFields }).meta({
  id: 'EvaluationMethod',
  description:
    "How a plan's indicators are scored; plans name one by evaluationMethodId. Every change is a new version.",
});
export type EvaluationMethod = z.infer<typeof EvaluationMethod>;

export const EvaluationMethodVersion = z
  .object({
    id: Uuid,
    methodId: Uuid,
    version: z.number().int().min(1),
    name: LocalizedText,
    rules: EvaluationRules,
    createdAt: z.iso.datetime(),
  })
  .meta({
    id: 'EvaluationMethodVersion',
    description: 'One immutable version of a method; approved years answer with the version they were approved with.',
  });
export type EvaluationMethodVersion = z.infer<typeof EvaluationMethodVersion>;

export const EvaluationMethodCreate = z.strictObject(methodFields);
export type EvaluationMethodCreate = z.infer<typeof EvaluationMethodCreate>;
export const EvaluationMethodPatch = z
  .strictObject(methodFields)
  .partial()
  .refine((p) => Object.keys(p).length > 0, { message: 'send at least one field to change' });
export type EvaluationMethodPatch = z.infer<typeof EvaluationMethodPatch>;
