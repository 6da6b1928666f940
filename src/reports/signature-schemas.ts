/** The signature block of the annual report (who signs it), per plan and year. */
import { z } from 'zod';
import { EntityMeta, LocalizedText, Uuid, Year } from '../shared/schemas.js';

const fields = {
  position: LocalizedText.describe('The signatory\'s position as printed, e.g. {"kk": "Төраға", "ru": "Председатель", "en": "Chairman"}.'),
  name: LocalizedText.describe('The signatory\'s name as printed, e.g. {"kk": "Қ. Қожамжаров"}.'),
  remark: LocalizedText.nullable()
    .optional()
    .describe(
      'A line printed above the signature, only in the languages it is given in (no fallback): e.g. that the ru and en ' +
        'texts are unofficial working translations. null or absent: none.',
    ),
  editionNotes: LocalizedText.nullable()
    .optional()
    .describe(
      'Notes on this edition, printed after the signature under a heading, one note per line ("\\n"): each correction ' +
        'of a misprint and each value taken from outside the document, with its source. Falls back and is marked like ' +
        'other text. null or absent: none.',
    ),
};

export const ReportSignature = z
  .object({ ...EntityMeta, planId: Uuid, year: Year, ...fields, remark: LocalizedText.nullable(), editionNotes: LocalizedText.nullable() })
  .meta({ id: 'ReportSignature', description: 'The signature block printed at the end of the annual report of a plan for one year.' });
export type ReportSignature = z.infer<typeof ReportSignature>;

export const ReportSignaturePut = z.strictObject(fields).describe('The whole signature block: PUT replaces it.');
export type ReportSignaturePut = z.infer<typeof ReportSignaturePut>;
