/** The report model as JSON: plain strings, and the fallbacks listed by JSON Pointer. */
import { resolveText } from '../shared/lang.js';
import { rankDetails } from './cells.js';
import { LABELS } from './labels.js';
import type { ReportModel } from './model.js';
import type { Report } from './schemas.js';
import type { Txt } from './text.js';

export function reportJson(model: ReportModel): Report {
  const labels = LABELS[model.lang];
  const fallbacks: Report['fallbacks'] = [];
  const t = (value: Txt | null, path: string): string | null => {
    if (!value) return null;
    if (value.fallback) fallbacks.push({ path, lang: value.lang });
    return value.text;
  };
  const req = (value: Txt | null, path: string): string => t(value, path) ?? '';

  const organizationName = req(model.organization.name, '/organization/name');
  const planTitle = req(model.plan.title, '/plan/title');
  const approval = model.plan.approval
    ? { document: req(model.plan.approval.document, '/plan/approval/document'), date: model.plan.approval.date }
    : null;

  const riskDirections = model.directions.map((d, di) => {
    const base = `/sections/risks/directions/${di}`;
    return {
      id: d.id,
      code: d.code,
      title: req(d.title, `${base}/title`),
      goals: d.goals.map((g, gi) => {
        const gb = `${base}/goals/${gi}`;
        return {
          id: g.id,
          code: g.code,
          title: req(g.title, `${gb}/title`),
          risks: g.risks.map((r, ri) => {
            const rb = `${gb}/risks/${ri}`;
            return {
              id: r.row.id,
              goalId: r.row.goalId,
              year: r.row.year,
              position: r.row.position,
              risk: req(r.risk, `${rb}/risk`),
              plannedMeasures: req(r.plannedMeasures, `${rb}/plannedMeasures`),
              actualMeasures: t(r.actualMeasures, `${rb}/actualMeasures`),
              executionStatus: r.row.executionStatus,
              executionStatusText: labels.executionStatuses[r.row.executionStatus],
              note: t(r.note, `${rb}/note`),
            };
          }),
        };
      }),
    };
  });

  const indicatorDirections = model.directions.map((d, di) => {
    const base = `/sections/indicators/directions/${di}`;
    return {
      id: d.id,
      code: d.code,
      title: req(d.title, `${base}/title`),
      summary: d.summary,
      goals: d.goals.map((g, gi) => {
        const gb = `${base}/goals/${gi}`;
        return {
          id: g.id,
          code: g.code,
          title: req(g.title, `${gb}/title`),
          summary: g.summary,
          indicators: g.indicators.map((i, ii) => {
            const ib = `${gb}/indicators/${ii}`;
            const s = i.status;
            return {
              indicatorId: s.indicatorId,
              code: s.code,
              name: req(i.name, `${ib}/name`),
              source: req(i.source, `${ib}/source`),
              unit: req(i.unit, `${ib}/unit`),
              group: t(i.group, `${ib}/group`),
              valueType: s.valueType,
              betterWhen: s.betterWhen,
              plan: s.plan,
              fact: s.fact,
              ratingSize: s.ratingSize,
              score: s.score,
              rankDetails: rankDetails(s, model.lang),
              previousFact: s.previousFact,
              trend: s.trend,
              status: s.status,
              verdict: labels.verdicts[s.status],
              achievementPercent: s.achievementPercent,
              deviation: s.deviation,
              note: t(i.note, `${ib}/note`),
              // ---- evaluation methods (issue 18) ----
              gap: s.gap,
              degree: s.degree,
              bandCode: s.band?.code ?? null,
              band: s.band ? resolveText(s.band.label, model.lang) : null,
              scoreTrend: s.scoreTrend,
            };
          }),
        };
      }),
    };
  });

  const note = model.note
    ? {
        id: model.note.id,
        version: model.note.version,
        updatedAt: model.note.updatedAt,
        blocks: model.note.blocks.map((b, bi) => {
          const bb = `/sections/analyticalNote/note/blocks/${bi}`;
          if (b.type === 'list') return { type: 'list' as const, ordered: b.ordered, items: b.items.map((item, ii) => req(item, `${bb}/items/${ii}`)) };
          return { type: b.type, text: req(b.text, `${bb}/text`) };
        }),
      }
    : null;

  return {
    planId: model.plan.id,
    organizationId: model.organization.id,
    year: model.year,
    lang: model.lang,
    title: labels.reportTitle,
    reportingPeriod: labels.reportingPeriod(model.year),
    organization: { id: model.organization.id, code: model.organization.code, name: organizationName },
    plan: { id: model.plan.id, code: model.plan.code, title: planTitle, startYear: model.plan.startYear, endYear: model.plan.endYear, approval },
    summary: model.summary,
    sections: {
      risks: { number: 1, title: labels.sections.risks, columns: [...labels.riskColumns], directions: riskDirections },
      indicators: {
        number: 2,
        title: labels.sections.indicators,
        columns: [...labels.indicatorColumns],
        reportingPeriodColumn: labels.reportingPeriodColumn,
        directions: indicatorDirections,
      },
      analyticalNote: { number: 3, title: labels.sections.analyticalNote, note },
    },
    signature: model.signature
      ? {
          position: t(model.signature.position, '/signature/position'),
          name: t(model.signature.name, '/signature/name'),
          remark: t(model.signature.remark, '/signature/remark'),
          editionNotes: t(model.signature.editionNotes, '/signature/editionNotes'),
        }
      : null,
    fallback: fallbacks.length > 0,
    fallbacks,
  };
}

/** The languages the model falls back to anywhere, for the documents' legend. */
export function fallbackLanguages(model: ReportModel): ('kk' | 'ru' | 'en')[] {
  const used = new Set(reportJson(model).fallbacks.map((f) => f.lang));
  return (['kk', 'ru', 'en'] as const).filter((l) => used.has(l));
}
