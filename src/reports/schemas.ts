/** The report as JSON (GET /plans/{id}/reports/{year}), its parameters and its formats. */
import { z } from 'zod';
import { ExecutionStatus } from '../risks/schemas.js';
import { Lang } from '../shared/lang.js';
import { Uuid, Year } from '../shared/schemas.js';
import { AchievementStatus, Summary, Trend } from '../status/schemas.js';
import { BetterWhen, ValueType } from '../indicators/schemas.js';

export const REPORT_FORMATS = ['json', 'docx', 'xlsx', 'csv', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export const MEDIA_TYPES: Record<ReportFormat, string> = {
  json: 'application/json',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  csv: 'text/csv',
  html: 'text/html',
};

export const ReportParams = z.strictObject({
  id: Uuid,
  year: z.coerce.number().int().min(1900).max(2200).describe('The reporting year: one of the plan years.'),
});

export const ReportQuery = z.object({
  format: z
    .enum(REPORT_FORMATS)
    .optional()
    .describe('Overrides the Accept header: json, docx, xlsx, csv (section 2 only) or html (printable).'),
  lang: Lang.optional().describe(
    'Language of the text, labels and verdict words; else Accept-Language; else kk. Text missing in it falls back ' +
      '(kk, ru, en) and is marked: listed in `fallbacks` in JSON, prefixed "[ru] " (the language used) in documents.',
  ),
  sep: z
    .enum([',', ';'])
    .optional()
    .describe('CSV only: the separator, "," (default, decimal point) or ";" (decimal comma, what Excel expects in kk and ru locales).'),
  compare: z
    .enum(['previous'])
    .optional()
    .describe(
      "previous: section 2 adds the previous year's fact and the trend (judged with betterWhen) as columns in DOCX, XLSX " +
        'and HTML (JSON and CSV always carry previousFact and trend).',
    ),
});

const text = z.string();
const optionalText = z.string().nullable();

const ReportRisk = z
  .object({
    id: Uuid,
    goalId: Uuid,
    year: Year,
    position: z.number().int(),
    risk: text,
    plannedMeasures: text,
    actualMeasures: optionalText,
    executionStatus: ExecutionStatus,
    executionStatusText: text.describe('The status in words of the report language.'),
    note: optionalText,
  })
  .meta({ id: 'ReportRisk' });

const ReportIndicator = z
  .object({
    indicatorId: Uuid,
    code: z.string(),
    name: text,
    source: text,
    unit: text,
    group: optionalText.describe('The sub-heading the indicator is printed under, if any.'),
    valueType: ValueType,
    betterWhen: BetterWhen,
    plan: z.number().nullable(),
    fact: z.number().nullable(),
    ratingSize: z.number().int().nullable(),
    score: z.number().nullable(),
    rankDetails: optionalText.describe(
      'For a rank with its rating size or score stored, what the fact cell prints after the rank, e.g. "176 елдің ішінде; 29 балл" ' +
        '(documents print "131 (176 елдің ішінде; 29 балл)"); null otherwise.',
    ),
    previousFact: z.number().nullable().describe("The previous year's fact (a column with ?compare=previous)."),
    trend: Trend.nullable(),
    status: AchievementStatus,
    verdict: text.describe('The derived status in words of the report language (e.g. "Орындалды").'),
    achievementPercent: z.number().nullable(),
    deviation: z.number().nullable(),
    note: optionalText.describe("The analyst's explanation (the measurement's note)."),
    // ---- evaluation methods (issue 18): as in IndicatorStatus ----
    gap: z.number().nullable().describe('Direction-aware gap: positive = better than planned, in the indicator\'s unit.'),
    degree: z.number().nullable().describe("The (capped) degree of achievement under the plan's evaluation method, a fraction."),
    bandCode: z.string().nullable().describe("The method's band for the degree; null without bands."),
    band: optionalText.describe('The band\'s label in the report language.'),
    scoreTrend: Trend.nullable().describe("Ranks with a score: the score's own trend."),
  })
  .meta({ id: 'ReportIndicator' });

const heading = { id: Uuid, code: z.string(), title: text };

const NoteBlockText = z
  .discriminatedUnion('type', [
    z.object({ type: z.enum(['paragraph', 'heading']), text: text.describe('As stored: may hold Markdown emphasis (**bold**, *italic*).') }),
    z.object({ type: z.literal('list'), ordered: z.boolean(), items: z.array(text) }),
  ])
  .meta({ id: 'ReportNoteBlock' });

export const Fallback = z
  .object({
    path: z.string().describe('JSON Pointer (RFC 6901) to the text in this document, e.g. /sections/indicators/directions/0/title.'),
    lang: Lang.describe('The language the text is actually in.'),
  })
  .meta({ id: 'ReportFallback' });

export const Report = z
  .object({
    planId: Uuid,
    organizationId: Uuid,
    year: Year,
    lang: Lang.describe('The language asked for.'),
    title: text,
    reportingPeriod: text,
    organization: z.object({ id: Uuid, code: z.string(), name: text }),
    plan: z.object({
      id: Uuid,
      code: z.string(),
      title: text,
      startYear: Year,
      endYear: Year,
      approval: z.object({ document: text, date: z.string() }).nullable(),
    }),
    summary: Summary,
    sections: z.object({
      risks: z.object({
        number: z.literal(1),
        title: text,
        columns: z.array(text).describe('Column titles 1..4 of the official table.'),
        directions: z.array(z.object({ ...heading, goals: z.array(z.object({ ...heading, risks: z.array(ReportRisk) })) })),
      }),
      indicators: z.object({
        number: z.literal(2),
        title: text,
        columns: z.array(text).describe('Column titles 1..6 of the official table (4 and 5 under reportingPeriodColumn).'),
        reportingPeriodColumn: text,
        directions: z.array(
          z.object({ ...heading, summary: Summary, goals: z.array(z.object({ ...heading, summary: Summary, indicators: z.array(ReportIndicator) })) }),
        ),
      }),
      analyticalNote: z.object({
        number: z.literal(3),
        title: text,
        note: z.object({ id: Uuid, version: z.number().int(), updatedAt: z.iso.datetime(), blocks: z.array(NoteBlockText) }).nullable(),
      }),
    }),
    signature: z
      .object({
        position: optionalText,
        name: optionalText,
        remark: optionalText.describe('Only in the language asked for, else null.'),
        editionNotes: optionalText.describe('Notes on this edition, one per line.'),
      })
      .nullable()
      .describe('The signature block printed at the end (PUT /plans/{id}/reports/{year}/signature); null when none is stored.'),
    fallback: z.boolean().describe('true when some text is not in the language asked for (see fallbacks).'),
    fallbacks: z.array(Fallback).describe('Every text given in another language than asked for, by JSON Pointer.'),
  })
  .meta({
    id: 'Report',
    description:
      'The annual implementation report of a plan for one year, in one language: 1. risk management, ' +
      '2. achievement of goals and target indicators (verdicts derived, never typed in), 3. analytical note.',
  });
export type Report = z.infer<typeof Report>;
