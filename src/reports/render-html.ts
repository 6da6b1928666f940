/**
 * Printable HTML: one self-contained page (inline CSS, no scripts, no external resources) laid out
 * like the official tables, A4 landscape when printed. Every piece of user text is escaped.
 *
 * Font stack: fonts that cover the Kazakh Cyrillic letters (ә ғ қ ң ө ұ ү һ і) come first:
 * DejaVu Sans (Linux, Debian package fonts-dejavu-core), Noto Sans, PT Sans (macOS), then Arial
 * (Windows). Liberation Sans, what "Arial" resolves to on most Linux systems, lacks them, so Arial
 * must not come before a font that has them: browsers fall back per character, which would mix fonts.
 */
import { fallbackLanguages } from './json.js';
import { LABELS } from './labels.js';
import type { ReportBlock, ReportModel } from './model.js';
import { groupRuns } from './model.js';
import type { Txt } from './text.js';
import { fallbackMark, formatNumber, lines } from './text.js';

export const REPORT_FONT_STACK = '"DejaVu Sans", "Noto Sans", "PT Sans", Arial, sans-serif';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** Inline text, marked "[ru]" and tagged with its language when it is a fallback. */
function inline(t: Txt | null): string {
  if (!t) return '';
  if (!t.fallback) return escapeHtml(t.text);
  return `<span class="fallback-mark">${fallbackMark(t)}</span> <span lang="${t.lang}">${escapeHtml(t.text)}</span>`;
}

/** Multi-line text as paragraphs; the mark goes before the first. */
function paragraphs(t: Txt | null): string {
  if (!t) return '';
  const attrs = t.fallback ? ` lang="${t.lang}"` : '';
  return lines(t.text)
    .map((line, i) => `<p${attrs}>${i === 0 && t.fallback ? `<span class="fallback-mark">${fallbackMark(t)}</span> ` : ''}${escapeHtml(line)}</p>`)
    .join('');
}

const CSS = `
@page { size: A4 landscape; margin: 12mm; }
html { font-family: ${REPORT_FONT_STACK}; font-size: 10pt; line-height: 1.3; color: #000; background: #fff; }
body { margin: 0 auto; max-width: 273mm; padding: 8mm; }
header { text-align: center; margin-bottom: 6mm; }
header p { margin: 2pt 0; }
h1 { font-size: 13pt; margin: 4pt 0; }
h2 { font-size: 12pt; margin: 8mm 0 3mm; }
h3 { font-size: 10.5pt; margin: 4mm 0 2mm; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; }
th, td { border: 0.75pt solid #000; padding: 3pt 4pt; vertical-align: top; text-align: left; overflow-wrap: break-word; }
thead th { text-align: center; vertical-align: middle; }
thead tr.numbers th { font-weight: normal; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
tr.direction th, tr.goal th { background: #e8e8e8; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
tr.group th { font-style: italic; text-align: center; font-weight: normal; }
td.number { text-align: center; white-space: nowrap; }
td p, section.note p { margin: 0 0 3pt; }
section.note p { text-align: justify; }
.verdict { font-weight: bold; display: block; margin-bottom: 2pt; }
.fallback-mark { color: #555; font-size: 0.85em; }
.fallback-legend { margin-top: 6mm; font-size: 9pt; color: #333; }
@media print { body { padding: 0; max-width: none; } }
`;

function riskSection(model: ReportModel): string {
  const l = LABELS[model.lang];
  const rows: string[] = [];
  for (const d of model.directions) {
    rows.push(`<tr class="direction" data-code="${escapeHtml(d.code)}"><th colspan="4" scope="colgroup">${escapeHtml(l.directionPrefix(d.code))}${inline(d.title)}</th></tr>`);
    for (const g of d.goals) {
      rows.push(`<tr class="goal" data-code="${escapeHtml(g.code)}"><th colspan="4" scope="colgroup">${escapeHtml(l.goalPrefix(g.code))}${inline(g.title)}</th></tr>`);
      for (const r of g.risks) {
        rows.push(
          `<tr class="risk" data-risk-id="${r.row.id}" data-execution-status="${r.row.executionStatus}">` +
            `<td>${paragraphs(r.risk)}</td><td>${paragraphs(r.plannedMeasures)}</td><td>${paragraphs(r.actualMeasures)}</td>` +
            `<td><span class="verdict">${escapeHtml(l.executionStatuses[r.row.executionStatus])}</span>${paragraphs(r.note)}</td></tr>`,
        );
      }
    }
  }
  const [c1, c2, c3, c4] = l.riskColumns;
  return `<section id="section-1" class="risks">
<h2>${escapeHtml(l.sections.risks)}</h2>
<table class="risks">
<colgroup><col style="width:24%"><col style="width:24%"><col style="width:36%"><col style="width:16%"></colgroup>
<thead>
<tr class="titles"><th scope="col">${escapeHtml(c1)}</th><th scope="col">${escapeHtml(c2)}</th><th scope="col">${escapeHtml(c3)}</th><th scope="col">${escapeHtml(c4)}</th></tr>
<tr class="numbers"><th>1</th><th>2</th><th>3</th><th>4</th></tr>
</thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
</section>`;
}

function indicatorSection(model: ReportModel): string {
  const l = LABELS[model.lang];
  const rows: string[] = [];
  for (const d of model.directions) {
    rows.push(`<tr class="direction" data-code="${escapeHtml(d.code)}"><th colspan="6" scope="colgroup">${escapeHtml(l.directionPrefix(d.code))}${inline(d.title)}</th></tr>`);
    for (const g of d.goals) {
      rows.push(`<tr class="goal" data-code="${escapeHtml(g.code)}"><th colspan="6" scope="colgroup">${escapeHtml(l.goalPrefix(g.code))}${inline(g.title)}</th></tr>`);
      for (const run of groupRuns(g.indicators)) {
        if (run.group) rows.push(`<tr class="group"><th colspan="6" scope="colgroup">${inline(run.group)}</th></tr>`);
        for (const i of run.indicators) {
          const s = i.status;
          rows.push(
            `<tr class="indicator" data-indicator-id="${s.indicatorId}" data-code="${escapeHtml(s.code)}" data-status="${s.status}">` +
              `<td class="name">${paragraphs(i.name)}</td><td class="source">${paragraphs(i.source)}</td><td class="unit">${inline(i.unit)}</td>` +
              `<td class="number plan">${escapeHtml(formatNumber(s.plan, model.lang, l.missingValue))}</td>` +
              `<td class="number fact">${escapeHtml(formatNumber(s.fact, model.lang, l.missingValue))}</td>` +
              `<td class="note"><span class="verdict">${escapeHtml(l.verdicts[s.status])}</span>${paragraphs(i.note)}</td></tr>`,
          );
        }
      }
    }
  }
  const [c1, c2, c3, c4, c5, c6] = l.indicatorColumns;
  return `<section id="section-2" class="indicators">
<h2>${escapeHtml(l.sections.indicators)}</h2>
<table class="indicators">
<colgroup><col style="width:23%"><col style="width:13%"><col style="width:11%"><col style="width:7%"><col style="width:7%"><col style="width:39%"></colgroup>
<thead>
<tr class="titles"><th scope="col" rowspan="2">${escapeHtml(c1)}</th><th scope="col" rowspan="2">${escapeHtml(c2)}</th><th scope="col" rowspan="2">${escapeHtml(c3)}</th><th scope="colgroup" colspan="2">${escapeHtml(l.reportingPeriodColumn)}</th><th scope="col" rowspan="2">${escapeHtml(c6)}</th></tr>
<tr class="titles"><th scope="col">${escapeHtml(c4)}</th><th scope="col">${escapeHtml(c5)}</th></tr>
<tr class="numbers"><th>1</th><th>2</th><th>3</th><th>4</th><th>5</th><th>6</th></tr>
</thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
</section>`;
}

function block(b: ReportBlock): string {
  if (b.type === 'paragraph') return paragraphs(b.text);
  if (b.type === 'heading') return `<h3>${inline(b.text)}</h3>`;
  const tag = b.ordered ? 'ol' : 'ul';
  return `<${tag}>${b.items.map((item) => `<li>${inline(item)}</li>`).join('')}</${tag}>`;
}

function noteSection(model: ReportModel): string {
  const l = LABELS[model.lang];
  const body = model.note ? model.note.blocks.map(block).join('\n') : `<p class="empty"><em>${escapeHtml(l.noNote)}</em></p>`;
  return `<section id="section-3" class="note">
<h2>${escapeHtml(l.sections.analyticalNote)}</h2>
${body}
</section>`;
}

export function renderHtml(model: ReportModel): string {
  const l = LABELS[model.lang];
  const used = fallbackLanguages(model);
  const planTitle = model.plan.title?.text ?? model.plan.code;
  const approval = model.plan.approval?.document
    ? `<p class="approval">${escapeHtml(l.approvedBy)} ${inline(model.plan.approval.document)}</p>`
    : '';
  return `<!doctype html>
<html lang="${model.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="Nysana">
<title>${escapeHtml(`${l.reportTitle}: ${planTitle}, ${model.year}`)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<p class="organization">${inline(model.organization.name)}</p>
<h1>${escapeHtml(l.reportTitle)}</h1>
<p class="plan-title"><strong>${inline(model.plan.title)}</strong></p>
${approval}
<p class="period">${escapeHtml(l.reportingPeriod(model.year))}</p>
</header>
<main>
${riskSection(model)}
${indicatorSection(model)}
${noteSection(model)}
</main>
${used.length > 0 ? `<p class="fallback-legend">${escapeHtml(l.fallbackLegend(used))}</p>` : ''}
</body>
</html>
`;
}
