/** Risks of section 1 of the annual report: the single source of validation, responses and OpenAPI. */
import { ListExportQueryShape } from '../exports/tabular.js';
import { z } from 'zod';
import { RISK_EXECUTION_STATUSES } from '../db/schema.js';
import { LangQuery } from '../shared/lang.js';
import { UpdatedSince } from '../sync/cursor.js';
import { EntityMeta, ListQuery, LocalizedText, Position, Uuid, Year } from '../shared/schemas.js';

export const ExecutionStatus = z.enum(RISK_EXECUTION_STATUSES).meta({
  id: 'RiskExecutionStatus',
  description:
    'Whether the planned mitigation measures were carried out in the year: executed, not_executed, or in_progress ' +
    '(still under way). Typed by the analyst: unlike an indicator verdict it is not computed from numbers.',
});
export type ExecutionStatus = z.infer<typeof ExecutionStatus>;

const riskFields = {
  year: Year.describe('The reporting year the risk is managed in; one of the plan years (startYear..endYear).'),
  position: Position.describe('Order among the risks of the goal; defaults to after the last one.'),
  risk: LocalizedText.describe('The potential risk (column 1 of the report table).'),
  plannedMeasures: LocalizedText.describe('Planned risk management measures (column 2).'),
  actualMeasures: LocalizedText.nullable().describe('What was actually done (column 3); null until reported.'),
  executionStatus: ExecutionStatus,
  note: LocalizedText.nullable().describe('Further explanation printed in column 4 after the execution status.'),
};

export const Risk = z
  .object({ ...EntityMeta, goalId: Uuid, ...riskFields })
  .meta({ id: 'Risk', description: 'A risk to a goal in one year, with its mitigation measures and their execution.' });
export type Risk = z.infer<typeof Risk>;

export const RiskCreate = z.strictObject({
  ...riskFields,
  position: riskFields.position.optional(),
  actualMeasures: riskFields.actualMeasures.optional(),
  executionStatus: ExecutionStatus.default('in_progress').describe('Defaults to in_progress.'),
  note: riskFields.note.optional(),
});

export const RiskPatch = z
  .strictObject(riskFields)
  .partial()
  .refine((p) => Object.keys(p).length > 0, { message: 'send at least one field to change' });

const YearFilter = z.coerce.number().int().min(1900).max(2200);

export const RiskFilters = z.object({
  year: YearFilter.optional().describe('Only risks of this year.'),
  executionStatus: ExecutionStatus.optional(),
});

/** A risk in the plan-wide register: with where it sits in the plan, and text resolved to ?lang. */
export const PlanRisk = Risk.extend({
  goalCode: z.string(),
  directionId: Uuid,
  directionCode: z.string(),
  riskText: z.string().nullable().optional().describe('risk resolved to ?lang (only when a language was asked for).'),
  plannedMeasuresText: z.string().nullable().optional(),
  actualMeasuresText: z.string().nullable().optional(),
  noteText: z.string().nullable().optional(),
}).meta({ id: 'PlanRisk', description: 'A risk with its goal and direction codes, as listed for a whole plan.' });
export type PlanRisk = z.infer<typeof PlanRisk>;

export const PlanRiskQuery = ListQuery.extend({
  ...RiskFilters.shape,
  ...LangQuery,
  ...ListExportQueryShape,
  updatedSince: UpdatedSince.optional(),
});
