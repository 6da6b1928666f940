import { z } from 'zod';
import { CalendarDate, Code, EntityMeta, LocalizedText, Uuid, Year } from '../shared/schemas.js';

export const Approval = z
  .strictObject({
    document: LocalizedText.describe('The approving act, e.g. "Order of the Chairman No. 63".'),
    date: CalendarDate.describe('Date of the act, YYYY-MM-DD.'),
  })
  .meta({ id: 'Approval' });

export const planFields = {
  code: Code.describe('Unique within the organization, e.g. "2014-2018".'),
  title: LocalizedText,
  startYear: Year,
  endYear: Year,
  approval: Approval.nullable().optional(),
  evaluationMethodId: Uuid.nullable()
    .optional()
    .describe(
      "The evaluation method the plan is scored by (GET /evaluation-methods); null = the built-in default, today's rule.",
    ),
};

export const Plan = z
  .object({
    ...EntityMeta,
    organizationId: Uuid,
    ...planFields,
    approval: Approval.nullable(),
    evaluationMethodId: Uuid.nullable(),
  })
  .meta({
    id: 'Plan',
    description: 'A multi-year strategic plan of one organization.',
    example: {
      id: '7f1c1c7e-1111-4a3b-9a43-0d5cbd7e2a10',
      version: 1,
      createdAt: '2016-11-22T09:00:00.000Z',
      updatedAt: '2016-11-22T09:00:00.000Z',
      organizationId: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
      code: '2014-2018',
      title: {
        ru: 'Стратегический план Агентства на 2014-2018 годы',
        en: 'Strategic Plan of the Agency for 2014-2018',
      },
      startYear: 2014,
      endYear: 2018,
      approval: { document: { en: 'Order of the Chairman No. 63' }, date: '2016-11-22' },
      evaluationMethodId: null,
    },
  });
export type Plan = z.infer<typeof Plan>;

const yearsInOrder = (p: { startYear?: number; endYear?: number }) =>
  p.startYear === undefined || p.endYear === undefined || p.startYear <= p.endYear;
const yearsMessage = { message: 'startYear must not be after endYear', path: ['endYear'] };

export const PlanCreate = z.strictObject({ organizationId: Uuid, ...planFields }).refine(yearsInOrder, yearsMessage);
export const PlanPatch = z
  .strictObject(planFields)
  .partial()
  .refine((p) => Object.keys(p).length > 0, { message: 'send at least one field to change' })
  .refine(yearsInOrder, yearsMessage);
export const PlanFilters = z.object({ organizationId: Uuid.optional(), code: Code.optional() });
