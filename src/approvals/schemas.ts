import { z } from 'zod';
import { CalendarDate, EntityMeta, LocalizedText, Text, Uuid, Year } from '../shared/schemas.js';

export const YearApproval = z
  .object({
    ...EntityMeta,
    planId: Uuid,
    year: Year,
    document: LocalizedText.describe('The approving act, e.g. "Order of the Chairman No. 63".'),
    date: z.iso.date(),
    approvedBy: z.string().nullable().describe('Id of the user or client who recorded the approval.'),
    evaluationMethodVersionId: Uuid.nullable().describe(
      'The evaluation method version the year was approved with (GET /evaluation-methods/{id}/versions); null = the built-in default. ' +
        'The approved year keeps answering with it.',
    ),
  })
  .meta({ id: 'YearApproval', description: 'An approved plan year: its plan and fact values and risks are locked.' });
export type YearApproval = z.infer<typeof YearApproval>;

export const ApproveBody = z.strictObject({
  document: LocalizedText,
  date: CalendarDate.describe('Date of the approving act, YYYY-MM-DD.'),
});

export const ReopenBody = z.strictObject({
  reason: Text.trim().min(3).max(2000).describe('Why the approved year is reopened; kept in the audit trail.'),
});

export const PlanYearParams = z.strictObject({ id: Uuid, year: z.coerce.number().int().min(1900).max(2200) });
