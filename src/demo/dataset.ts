/**
 * The demo dataset (the 2016 report of the Agency for Civil Service Affairs and Anti-Corruption)
 * parsed with the API's own create schemas, so demo data can never hold what the API refuses.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { IndicatorCreate } from '../indicators/schemas.js';
import { MeasurementPut } from '../measurements/schemas.js';
import { NotePut } from '../notes/schemas.js';
import { OrganizationCreate } from '../organizations/schemas.js';
import { planFields } from '../plans/schemas.js';
import { ReportSignaturePut } from '../reports/signature-schemas.js';
import { RiskCreate } from '../risks/schemas.js';
import { sectionSchemas } from '../shared/section.js';
import { Year } from '../shared/schemas.js';

const Section = sectionSchemas('parentId', 'DemoSection', 'demo').create;

const DemoMeasurement = MeasurementPut.extend({ year: Year });
// The indicator itself must pass the API's strict create schema; the two demo-only keys are split off first.
const DemoIndicator = z
  .looseObject({
    reportVerdict: z.enum(['achieved', 'not_achieved', 'pending']),
    measurements: z.array(DemoMeasurement),
  })
  .transform(({ reportVerdict, measurements, ...indicator }) => ({
    ...IndicatorCreate.parse(indicator),
    reportVerdict,
    measurements,
  }));
// Section 1 (risks) and section 3 (the analytical note) pass the API's own create schemas too.
const DemoGoal = Section.extend({ indicators: z.array(DemoIndicator), risks: z.array(RiskCreate).default([]) });
const DemoDirection = Section.extend({ goals: z.array(DemoGoal) });

export const DemoDataset = z.object({
  organization: OrganizationCreate,
  plan: z.strictObject(planFields),
  directions: z.array(DemoDirection),
  analyticalNote: NotePut.extend({ year: Year }).optional(),
  /** The report's signature block (who signed it), and the remark that ru/en are working translations. */
  reportSignature: ReportSignaturePut.extend({ year: Year }).optional(),
  corrections: z.array(z.string()),
});
export type DemoDataset = z.infer<typeof DemoDataset>;

export function loadDemoDataset(): DemoDataset {
  // tsc emits only the .js (dist/demo/dataset.js, what `npm start` runs), not this JSON: going up to
  // the repository root and into src/demo resolves to the same file from src/demo and dist/demo.
  const url = new URL('../../src/demo/agency-2016.json', import.meta.url);
  return DemoDataset.parse(JSON.parse(readFileSync(url, 'utf8')));
}
