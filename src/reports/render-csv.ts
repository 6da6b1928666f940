/**
 * Section 2 as data, not the report: RFC 4180 CSV, one row per indicator in report order, with its
 * direction and goal (no risks, no note, no signature: DOCX, XLSX and HTML are the report). Header
 * names are stable English keys (for BI tools); text is in the report language, "[ru] " marking a
 * fallback as in the other documents. Numbers follow the separator, as the BI exports' users expect:
 * with "," (default) a decimal point, with ";" (?sep=;, what Excel expects in Kazakh and Russian
 * locales) a decimal comma. UTF-8 with a BOM so Excel reads the Kazakh letters.
 */
import { csvHeader, csvLineEncoder } from '../exports/tabular.js';
import type { Column } from '../exports/tabular.js';
import { LABELS } from './labels.js';
import type { ReportModel } from './model.js';
import type { Txt } from './text.js';
import { plain } from './text.js';

const COLUMNS = [
  'directionCode', 'direction', 'goalCode', 'goal', 'group', 'indicatorCode', 'indicator', 'source', 'unit', 'valueType',
  'betterWhen', 'year', 'plan', 'fact', 'status', 'verdict', 'achievementPercent', 'deviation', 'note',
] as const;
type Row = Record<(typeof COLUMNS)[number], string | number | null>;

/** Cells go through the one CSV encoder of every export (formulas neutralized, quoted as needed). */
const columns = COLUMNS.map((c): Column<Row> => ({ header: c, value: (row) => row[c] }));

export function renderCsv(model: ReportModel, sep: ',' | ';' = ','): string {
  const l = LABELS[model.lang];
  const text = (t: Txt | null) => (t ? plain(t) : null);
  const line = csvLineEncoder<Row>(columns, sep, sep === ';' ? ',' : '.');
  let out = csvHeader(COLUMNS, sep);
  for (const d of model.directions) {
    for (const g of d.goals) {
      for (const i of g.indicators) {
        const s = i.status;
        out += `${line({
          directionCode: d.code,
          direction: text(d.title),
          goalCode: g.code,
          goal: text(g.title),
          group: text(i.group),
          indicatorCode: s.code,
          indicator: text(i.name),
          source: text(i.source),
          unit: text(i.unit),
          valueType: s.valueType,
          betterWhen: s.betterWhen,
          year: model.year,
          plan: s.plan,
          fact: s.fact,
          status: s.status,
          verdict: l.verdicts[s.status],
          achievementPercent: s.achievementPercent,
          deviation: s.deviation,
          note: text(i.note),
        })}\r\n`;
      }
    }
  }
  return out;
}
