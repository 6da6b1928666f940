import { z } from 'zod';
import { DecimalValue, EntityMeta, ListQuery, LocalizedText, Uuid, Year } from '../shared/schemas.js';
import { UpdatedSince, tombstoneOf } from '../sync/cursor.js';

const valueFields = {
  plan: DecimalValue.nullable().describe('Target for the year; null when none was set.'),
  fact: DecimalValue.nullable().describe('Actual value; null until known.'),
  ratingSize: z.number().int().min(1).max(100_000).nullable().describe('Rank indicators: how many places the rating had that year.'),
  score: DecimalValue.nullable().describe("Rank indicators: the rating's own score, e.g. CPI points."),
  note: LocalizedText.nullable().describe('Explanation, e.g. why a target was not achieved.'),
};

export const Measurement = z
  .object({ ...EntityMeta, indicatorId: Uuid, year: Year, ...valueFields })
  .meta({ id: 'Measurement', description: 'Planned and actual value of one indicator in one year.' });
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

export const MeasurementParams = z.strictObject({
  id: Uuid,
  year: z.coerce.number().int().min(1900).max(2200),
});

export const MeasurementListQuery = ListQuery.extend({
  yearFrom: z.coerce.number().int().optional().describe('Only years >= this.'),
  yearTo: z.coerce.number().int().optional().describe('Only years <= this.'),
  updatedSince: UpdatedSince.optional(),
});

export const MeasurementTombstone = tombstoneOf('Measurement', { indicatorId: Uuid, year: Year });
export type MeasurementTombstone = z.infer<typeof MeasurementTombstone>;
