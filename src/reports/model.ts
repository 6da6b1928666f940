/**
 * The report in one language, before any format: the plan tree with every indicator's derived
 * status (from status/assemble, i.e. achievement/compute: verdicts are never typed in), the year's
 * risks per goal, and the analytical note. Every renderer (JSON, DOCX, XLSX, CSV, HTML) reads this.
 */
import type { MethodSummary as Summary } from '../achievement/rollup.js';
import type { LocalizedTextColumn, NoteBlockColumn } from '../db/schema.js';
import type { RiskRow } from '../risks/repository.js';
import type { Lang } from '../shared/lang.js';
import { buildPlanStatus } from '../status/assemble.js';
import type { IndicatorStatus } from '../status/schemas.js';
import type { findPlanWithOrganization, ReportData } from './queries.js';
import type { Txt } from './text.js';
import { resolveTxt } from './text.js';

export interface ReportIndicator {
  status: IndicatorStatus;
  name: Txt | null;
  source: Txt | null;
  unit: Txt | null;
  group: Txt | null;
  note: Txt | null;
}

export interface ReportRisk {
  row: RiskRow;
  risk: Txt | null;
  plannedMeasures: Txt | null;
  actualMeasures: Txt | null;
  note: Txt | null;
}

export interface ReportGoal {
  id: string;
  code: string;
  title: Txt | null;
  summary: Summary;
  indicators: ReportIndicator[];
  risks: ReportRisk[];
}

export interface ReportDirection {
  id: string;
  code: string;
  title: Txt | null;
  summary: Summary;
  goals: ReportGoal[];
}

export type ReportBlock =
  | { type: 'paragraph'; text: Txt | null }
  | { type: 'heading'; text: Txt | null }
  | { type: 'list'; ordered: boolean; items: (Txt | null)[] };

/** The signature block: position and name (fallback-marked like other text) and a remark only in the report language. */
export interface ReportSignatureBlock {
  position: Txt | null;
  name: Txt | null;
  remark: Txt | null;
  editionNotes: Txt | null;
}

export interface ReportOptions {
  /** ?compare=previous: section 2 adds the previous year's fact and the trend as columns. */
  compare: 'previous' | null;
}

export interface ReportModel {
  lang: Lang;
  year: number;
  options: ReportOptions;
  organization: { id: string; code: string; name: Txt | null };
  plan: { id: string; code: string; title: Txt | null; startYear: number; endYear: number; approval: { document: Txt | null; date: string } | null };
  summary: Summary;
  directions: ReportDirection[];
  note: { id: string; version: number; updatedAt: string; blocks: ReportBlock[] } | null;
  signature: ReportSignatureBlock | null;
}

type PlanWithOrganization = NonNullable<Awaited<ReturnType<typeof findPlanWithOrganization>>>;

function resolveBlock(block: NoteBlockColumn, lang: Lang): ReportBlock {
  if (block.type === 'list') return { type: 'list', ordered: block.ordered === true, items: block.items.map((i) => resolveTxt(i, lang)) };
  return block.type === 'heading' ? { type: 'heading', text: resolveTxt(block.text, lang) } : { type: 'paragraph', text: resolveTxt(block.text, lang) };
}

/** Text only in `lang`, never a fallback: a remark about translations must not print in another language. */
function ownLanguage(value: LocalizedTextColumn | null | undefined, lang: Lang): Txt | null {
  const text = value?.[lang];
  return typeof text === 'string' && text.trim() !== '' ? { text, lang, fallback: false } : null;
}

export function buildReportModel(
  found: PlanWithOrganization,
  data: ReportData,
  year: number,
  lang: Lang,
  options: ReportOptions = { compare: null },
): ReportModel {
  const { plan, organization } = found;
  const status = buildPlanStatus(data.tree, plan, year, undefined, null, data.scoring);
  const risksByGoal = new Map<string, ReportRisk[]>();
  for (const { risk: row } of data.risks) {
    const list = risksByGoal.get(row.goalId) ?? [];
    list.push({
      row,
      risk: resolveTxt(row.risk, lang),
      plannedMeasures: resolveTxt(row.plannedMeasures, lang),
      actualMeasures: resolveTxt(row.actualMeasures, lang),
      note: resolveTxt(row.note, lang),
    });
    risksByGoal.set(row.goalId, list);
  }
  return {
    lang,
    year,
    options,
    organization: { id: organization.id, code: organization.code, name: resolveTxt(organization.name, lang) },
    plan: {
      id: plan.id,
      code: plan.code,
      title: resolveTxt(plan.title, lang),
      startYear: plan.startYear,
      endYear: plan.endYear,
      approval: plan.approval ? { document: resolveTxt(plan.approval.document, lang), date: plan.approval.date } : null,
    },
    summary: status.summary,
    directions: status.directions.map((d) => ({
      id: d.id,
      code: d.code,
      title: resolveTxt(d.title, lang),
      summary: d.summary,
      goals: d.goals.map((g) => ({
        id: g.id,
        code: g.code,
        title: resolveTxt(g.title, lang),
        summary: g.summary,
        indicators: g.indicators.map((i) => ({
          status: i,
          name: resolveTxt(i.name, lang),
          source: resolveTxt(data.sources.get(i.indicatorId), lang),
          unit: resolveTxt(i.unit, lang),
          group: resolveTxt(i.group, lang),
          note: resolveTxt(i.note, lang),
        })),
        risks: risksByGoal.get(g.id) ?? [],
      })),
    })),
    note: data.note
      ? {
          id: data.note.id,
          version: data.note.version,
          updatedAt: data.note.updatedAt.toISOString(),
          blocks: data.note.blocks.map((b) => resolveBlock(b, lang)),
        }
      : null,
    signature: data.signature
      ? {
          position: resolveTxt(data.signature.position, lang),
          name: resolveTxt(data.signature.name, lang),
          remark: ownLanguage(data.signature.remark, lang),
          editionNotes: resolveTxt(data.signature.editionNotes, lang),
        }
      : null,
  };
}

/** Indicators of a goal split at group sub-headings: each run carries the group it sits under. */
export function groupRuns(indicators: ReportIndicator[]): { group: Txt | null; indicators: ReportIndicator[] }[] {
  const runs: { group: Txt | null; indicators: ReportIndicator[] }[] = [];
  for (const indicator of indicators) {
    const last = runs[runs.length - 1];
    if (last && last.group?.text === indicator.group?.text) last.indicators.push(indicator);
    else runs.push({ group: indicator.group, indicators: [indicator] });
  }
  return runs;
}
