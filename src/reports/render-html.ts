/**
 * Printable HTML: one self-contained page (inline CSS, no scripts, no external resources) laid out
 * like the official tables, A4 landscape when printed. Every piece of user text is escaped.
 *
 * Font stack: fonts that cover the Kazakh Cyrillic letters (ә ғ қ ң ө ұ ү һ і) come first:
 * DejaVu Sans (Linux, Debian package fonts-dejavu-core), Noto Sans, PT Sans (macOS), then Arial
 * (Windows). Liberation Sans, what "Arial" resolves to on most Linux systems, lacks them, so Arial
 * must not come before a font that has them: browsers fall back per character, which would mix fonts.
 */
import { factText, styledLines, trendText, valueText } from './cells.js';
import type { Seg } from './inline.js';
import { fallbackLanguages } from './json.js';
import { LABELS } from './labels.js';
import type { ReportBlock, ReportModel } from './model.js';
import { groupRuns } from './model.js';
import type { Txt } from './text.js';
import { fallbackMark, lines, plain } from './text.js';

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

/** Styled runs (the note's Markdown emphasis) as escaped HTML. */
const segsHtml = (line: Seg[]) =>
  line
    .map((seg) => {
      let html = escapeHtml(seg.text);
      if (seg.italic) html = `<em>${html}</em>`;
      if (seg.bold) html = `<strong>${html}</strong>`;
      return html;
    })
    .join('');

/** A CSS string literal: quotes, backslashes and line breaks escaped, so user text cannot end it. */
const cssString = (text: string) => `"${text.replace(/[\\"\n\r\u2028\u2029<>]/g, (c) => `\\${c.codePointAt(0)!.toString(16)} `)}"`;

/**
 * Printed page furniture, in CSS page-margin boxes (Chromium 131+): the state body top left, the
 * report's title and year top right, "page N of M" at the bottom.
 */
function pageCss(model: ReportModel): string {
  const l = LABELS[model.lang];
  const [before, between, after] = l.pageOf;
  const box = 'font-family: inherit; font-size: 8pt; color: #333;';
  return `@page {
  size: A4 landscape; margin: 16mm 12mm 14mm;
  @top-left { content: ${cssString(plain(model.organization.name))}; ${box} }
  @top-right { content: ${cssString(`${l.reportTitle}, ${model.year}`)}; ${box} }
  @bottom-center { content: ${cssString(before)} counter(page) ${cssString(between)} counter(pages) ${cssString(after)}; ${box} }
}`;
}

const CSS = `
html { font-family: ${REPORT_FONT_STACK}; font-size: 10pt; line-height: 1.3; color: #000; background: #fff; }
body { margin: 0 auto; max-width: 273mm; padding: 8mm; }
header { text-align: center; margin-bottom: 6mm; }
header p { margin: 2pt 0; }
h1 { font-size: 13pt; margin: 4pt 0; }
h2 { font-size: 12pt; margin: 8mm 0 3mm; }
h3 { font-size: 10.5pt; margin: 4mm 0 2mm; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; }
th, td { border: 0.75pt solid #000; padding: 3pt 4pt; vertical-align: top; text-align: left; overflow-wrap: break-word; }
thead th { text-align: center; vertical-align: middle; overflow-wrap: normal; word-break: normal; hyphens: manual; }
thead tr.numbers th { font-weight: normal; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
tr.direction, tr.goal, tr.group, h2, h3 { break-after: avoid; page-break-after: avoid; }
tr.direction th, tr.goal th { background: #e8e8e8; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
tr.group th { font-style: italic; text-align: center; font-weight: normal; }
td.number { text-align: center; white-space: nowrap; }
td p, section.note p { margin: 0 0 3pt; }
section.note p { text-align: justify; }
.verdict { font-weight: bold; display: block; margin-bottom: 2pt; }
.fallback-mark { color: #555; font-size: 0.85em; }
.fallback-legend { margin-top: 6mm; font-size: 9pt; color: #333; }
td.fact .rank-details { display: block; font-size: 0.9em; white-space: normal; }
footer.signature { margin-top: 12mm; break-inside: avoid; }
footer.signature .remark { font-style: italic; font-size: 9pt; }
footer.signature .edition-notes { margin-top: 10mm; font-size: 9pt; }
footer.signature .edition-notes h3 { font-size: 9.5pt; }
footer.signature .signatory { display: flex; justify-content: space-between; font-weight: bold; margin-top: 8mm; }
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

const colgroup = (shares: number[]) => `<colgroup>${shares.map((w) => `<col style="width:${w}%">`).join('')}</colgroup>`;

/** The fact, and a rank's details in parentheses on the next line: "131 (176 елдің ішінде; 29 балл)". */
function factHtml(s: ReportModel['directions'][number]['goals'][number]['indicators'][number]['status'], model: ReportModel): string {
  const text = factText(s, model.lang);
  const number = valueText(s.fact, model.lang);
  if (text === number) return escapeHtml(text);
  return `${escapeHtml(number)} <span class="rank-details">${escapeHtml(text.slice(number.length + 1))}</span>`;
}

function indicatorSection(model: ReportModel): string {
  const l = LABELS[model.lang];
  const compare = model.options.compare === 'previous';
  const columns = compare ? 8 : 6;
  const rows: string[] = [];
  for (const d of model.directions) {
    rows.push(`<tr class="direction" data-code="${escapeHtml(d.code)}"><th colspan="${columns}" scope="colgroup">${escapeHtml(l.directionPrefix(d.code))}${inline(d.title)}</th></tr>`);
    for (const g of d.goals) {
      rows.push(`<tr class="goal" data-code="${escapeHtml(g.code)}"><th colspan="${columns}" scope="colgroup">${escapeHtml(l.goalPrefix(g.code))}${inline(g.title)}</th></tr>`);
      for (const run of groupRuns(g.indicators)) {
        if (run.group) rows.push(`<tr class="group"><th colspan="${columns}" scope="colgroup">${inline(run.group)}</th></tr>`);
        for (const i of run.indicators) {
          const s = i.status;
          rows.push(
            `<tr class="indicator" data-indicator-id="${s.indicatorId}" data-code="${escapeHtml(s.code)}" data-status="${s.status}">` +
              `<td class="name">${paragraphs(i.name)}</td><td class="source">${paragraphs(i.source)}</td><td class="unit">${inline(i.unit)}</td>` +
              `<td class="number plan">${escapeHtml(valueText(s.plan, model.lang))}</td>` +
              `<td class="number fact">${factHtml(s, model)}</td>` +
              (compare
                ? `<td class="number previous-fact">${escapeHtml(valueText(s.previousFact, model.lang))}</td><td class="trend">${escapeHtml(trendText(s, model.lang))}</td>`
                : '') +
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
${colgroup(compare ? [18, 10, 10, 7, 9, 8, 8, 30] : [20, 12, 11, 8, 10, 39])}
<thead>
<tr class="titles"><th scope="col" rowspan="2">${escapeHtml(c1)}</th><th scope="col" rowspan="2">${escapeHtml(c2)}</th><th scope="col" rowspan="2">${escapeHtml(c3)}</th><th scope="colgroup" colspan="2">${escapeHtml(l.reportingPeriodColumn)}</th>${compare ? `<th scope="col" rowspan="2">${escapeHtml(l.previousFactColumn)}</th><th scope="col" rowspan="2">${escapeHtml(l.trendColumn)}</th>` : ''}<th scope="col" rowspan="2">${escapeHtml(c6)}</th></tr>
<tr class="titles"><th scope="col">${escapeHtml(c4)}</th><th scope="col">${escapeHtml(c5)}</th></tr>
<tr class="numbers">${Array.from({ length: columns }, (_, i) => `<th>${i + 1}</th>`).join('')}</tr>
</thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
</section>`;
}

/** Lines of note text with their emphasis; the mark before the first in a fallback's own span. */
function styled(t: Txt | null, wrap: (html: string) => string, separator = ''): string {
  if (!t) return '';
  const attrs = t.fallback ? ` lang="${t.lang}"` : '';
  return styledLines({ ...t, fallback: false })
    .map((line, i) => wrap(`${i === 0 && t.fallback ? `<span class="fallback-mark">${fallbackMark(t)}</span> ` : ''}<span${attrs}>${segsHtml(line)}</span>`))
    .join(separator);
}

function block(b: ReportBlock): string {
  if (b.type === 'paragraph') return styled(b.text, (html) => `<p>${html}</p>`);
  if (b.type === 'heading') return styled(b.text, (html) => `<h3>${html}</h3>`);
  const tag = b.ordered ? 'ol' : 'ul';
  return `<${tag}>${b.items.map((item) => `<li>${styled(item, (html) => html, '<br>')}</li>`).join('')}</${tag}>`;
}

function signatureBlock(model: ReportModel): string {
  const s = model.signature;
  if (!s) return '';
  return `<footer class="signature">
${s.remark ? `<p class="remark">${inline(s.remark)}</p>` : ''}
<div class="signatory"><span class="position">${inline(s.position)}</span><span class="name">${inline(s.name)}</span></div>
${
  s.editionNotes
    ? `<aside class="edition-notes"><h3>${escapeHtml(LABELS[model.lang].editionNotesTitle)}</h3><ol>${lines(s.editionNotes.text)
        .map((line, i) => `<li>${inline({ ...s.editionNotes!, fallback: s.editionNotes!.fallback && i === 0, text: line })}</li>`)
        .join('')}</ol></aside>`
    : ''
}
</footer>`;
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
<style>${pageCss(model)}${CSS}</style>
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
${signatureBlock(model)}
${used.length > 0 ? `<p class="fallback-legend">${escapeHtml(l.fallbackLegend(used))}</p>` : ''}
</body>
</html>
`;
}
