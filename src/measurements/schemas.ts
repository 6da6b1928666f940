import { z } from 'zod';
import {
  DecimalValue,
  EXACT_DECIMAL_NOTE,
  EntityMeta,
  ListQuery,
  LocalizedString,
  LocalizedText,
  Uuid,
  Year,
} from '../shared/schemas.js';
import { UpdatedSince, tombstoneOf } from '../sync/cursor.js';
import { ListExportQueryShape } from '../exports/tabular.js';

const valueFields = {
  plan: DecimalValue.nullable().describe('Target for the year; null when none was set.' + EXACT_DECIMAL_NOTE),
  fact: DecimalValue.nullable().describe('Actual value; null until known.' + EXACT_DECIMAL_NOTE),
  ratingSize: z
    .number()
    .int()
    .min(1)
    .max(100_000)
    .nullable()
    .describe('Rank indicators: how many places the rating had that year.'),
  score: DecimalValue.nullable().describe(
    "Rank indicators: the rating's own score, e.g. CPI points." + EXACT_DECIMAL_NOTE,
  ),
  note: LocalizedText.nullable().describe('Explanation, e.g. why a target was not achieved.'),
};

export const Measurement = z.object({ ...EntityMeta, indicatorId: Uuid, year: Year, ...valueFields }).meta({
  id: 'Measurement',
  description: 'Planned and actual value of one indicator in one year.',
  example: {
    id: '3f0e6a52-8d3c-4a7e-9d58-6c1f2b7a9e01',
    version: 1,
    createdAt: '2016-11-22T09:00:00.000Z',
    updatedAt: '2016-11-22T09:00:00.000Z',
    indicatorId: '0b7f3c1e-2a4d-4f6b-8e9a-1c2d3e4f5a6b',
    year: 2016,
    plan: 9,
    fact: 6.3,
    ratingSize: null,
    score: null,
    note: { kk: 'Орындалды', ru: 'Исполнено', en: 'Achieved' },
  },
});
export type Measurement = z.infer<typeof Measurement>;

export const MeasurementPut = z
  .strictObject({
    plan: valueFields.plan.default(null),
    fact: valueFields.fact.default(null),
    ratingSize: valueFields.ratingSize.default(null),
    score: valueFields.score.default(null),
    note: valueFields.note.default(null),
  })
  .describe('The whole measurement: omitted fields become null (PUT replaces).');

/**
 * PATCH body, a JSON merge patch (RFC 7396) of the measurement: a member sent replaces the stored
 * value, null clears it, an omitted one stays. `note` merges per language ({"en": "..."} keeps kk and
 * ru; {"ru": null} removes Russian). The merged measurement is then validated by MeasurementPut.
 */
export const MeasurementPatch = z
  .strictObject({
    plan: valueFields.plan.optional(),
    fact: valueFields.fact.optional(),
    ratingSize: valueFields.ratingSize.optional(),
    score: valueFields.score.optional(),
    note: z
      .strictObject({
        kk: LocalizedString.nullable().optional(),
        ru: LocalizedString.nullable().optional(),
        en: LocalizedString.nullable().optional(),
      })
      .nullable()
      .optional()
      .describe('Merged per language: a language sent replaces, null removes it; note: null clears the whole note.'),
  })
  .refine((p) => Object.keys(p).length > 0, { message: 'send at least one field to change' })
  .describe('JSON merge patch (RFC 7396): fields sent replace, null clears, omitted fields are kept.');

export const MeasurementParams = z.strictObject({
  id: Uuid,
  year: z.coerce.number().int().min(1900).max(2200),
});

export const MeasurementListQuery = ListQuery.extend({
  yearFrom: z.coerce.number().int().optional().describe('Only years >= this.'),
  yearTo: z.coerce.number().int().optional().describe('Only years <= this.'),
  updatedSince: UpdatedSince.optional(),
  ...ListExportQueryShape,
});

export const MeasurementTombstone = tombstoneOf('Measurement', { indicatorId: Uuid, year: Year });
export type MeasurementTombstone = z.infer<typeof MeasurementTombstone>;
