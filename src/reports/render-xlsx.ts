/**
 * The report as an Excel workbook, one sheet per section, laid out like the official tables: title
 * rows, the column titles and the numbered row 1..n (repeated on every printed page and frozen on
 * screen), full-width merged heading rows for strategic directions, goals and indicator groups.
 * Plan and fact are numeric cells (so they can be computed with); a missing value is "-"; a rank
 * with its rating size or score stored is text, "131 (176 елдің ішінде; 29 балл)".
 *
 * Nothing is clipped: every row's height is set from the estimate in xlsx-fit.ts, and a cell that
 * would need more than a row can show (409 pt) continues on the following rows, cut at a paragraph
 * break where possible. Printing: A4 landscape, fit to one page wide and as many tall as needed, with
 * column widths summing to what the page holds at 100 %, so text prints at its 10 pt; a running header
 * (the state body, the report's title and year), "page N of M" in the footer, the header rows repeated.
 */
import ExcelJS from 'exceljs';
import { factText, rankDetails, styledLines, trendText, valueText } from './cells.js';
import type { Seg } from './inline.js';
import { fallbackLanguages } from './json.js';
import { LABELS } from './labels.js';
import type { ReportModel } from './model.js';
import { groupRuns } from './model.js';
import type { Txt } from './text.js';
import { lines, plain } from './text.js';
import { lineCount, rowHeightFor, splitToFit } from './xlsx-fit.js';

const FONT = { name: 'Times New Roman', size: 10 };
const THIN = { style: 'thin' as const };
const HEADING_FILL: ExcelJS.Fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFE8E8E8' } };
/** Column widths of each sheet: each sums to 138 units, what A4 landscape with 0.5" margins holds at 100 %. */
const RISK_WIDTHS = [32, 32, 50, 24];
const INDICATOR_WIDTHS = [34, 18, 12, 10, 10, 54];
const INDICATOR_COMPARE_WIDTHS = [30, 16, 11, 9, 9, 9, 9, 45];
const NOTE_WIDTHS = [100, 38];

type Sheet = ExcelJS.Worksheet;
/** What goes into a cell: styled runs, or a number. */
type Content = Seg[] | number;

const segs = (text: string, style: Omit<Seg, 'text'> = {}): Seg[] => [{ text, ...style }];

/** Multi-line text as one run, lines joined by newlines, "[ru] " first on a fallback. */
function textSegs(t: Txt | null, style: Omit<Seg, 'text'> = {}): Seg[] {
  if (!t) return segs('', style);
  return segs(plain({ ...t, text: lines(t.text).join('\n') }), style);
}

function cellValue(content: Content | undefined, baseFont: Partial<ExcelJS.Font>): ExcelJS.CellValue {
  if (content === undefined) return '';
  if (typeof content === 'number') return content;
  const runs = content.filter((s) => s.text !== '');
  if (runs.every((s) => !s.bold && !s.italic)) return runs.map((s) => s.text).join('');
  return { richText: runs.map((s) => ({ text: s.text, font: { ...baseFont, ...(s.bold ? { bold: true } : {}), ...(s.italic ? { italic: true } : {}) } })) };
}

interface RowStyle {
  /** Merge the one content cell across all `columns`. */
  span?: boolean;
  font?: Partial<ExcelJS.Font>;
  horizontal?: ExcelJS.Alignment['horizontal'];
  vertical?: ExcelJS.Alignment['vertical'];
  centered?: number[];
  border?: boolean;
  fill?: ExcelJS.Fill;
  indent?: number;
}

const widthOf = (sheet: Sheet, from: number, to: number) => {
  let w = 0;
  for (let c = from; c <= to; c++) w += sheet.getColumn(c).width ?? 10;
  return w;
};

/**
 * Writes one logical row from `r`, continuing cells too long for one row on the next rows (the
 * table's inner borders left open between them). Returns the last row number used.
 */
function writeRow(sheet: Sheet, r: number, columns: number, contents: Content[], style: RowStyle = {}): number {
  const font = style.font ?? FONT;
  const widths = style.span ? [widthOf(sheet, 1, columns)] : contents.map((_, i) => widthOf(sheet, i + 1, i + 1));
  const pieces = contents.map((c, i) => (typeof c === 'number' ? [c] : splitToFit(c, widths[i]!)));
  const count = Math.max(1, ...pieces.map((p) => p.length));
  for (let k = 0; k < count; k++) {
    const row = sheet.getRow(r + k);
    let needed = 1;
    pieces.forEach((p, i) => {
      const piece = p[k];
      row.getCell(i + 1).value = cellValue(piece, font);
      if (piece !== undefined && typeof piece !== 'number') needed = Math.max(needed, lineCount(piece, widths[i]!));
    });
    if (style.span && columns > 1) sheet.mergeCells(r + k, 1, r + k, columns);
    for (let c = 1; c <= columns; c++) {
      const cell = row.getCell(c);
      cell.font = font;
      cell.alignment = {
        horizontal: style.centered?.includes(c) ? 'center' : (style.horizontal ?? 'left'),
        vertical: style.vertical ?? 'top',
        wrapText: true,
        ...(style.indent ? { indent: style.indent } : {}),
      };
      if (style.border) cell.border = { left: THIN, right: THIN, ...(k === 0 ? { top: THIN } : {}), ...(k === count - 1 ? { bottom: THIN } : {}) };
      if (style.fill) cell.fill = style.fill;
    }
    row.height = rowHeightFor(needed);
  }
  return r + count - 1;
}

/** Rows 1..4: report title, plan title, reporting period, section title. Returns the next row number. */
function titleRows(sheet: Sheet, model: ReportModel, columns: number, sectionTitle: string): number {
  const l = LABELS[model.lang];
  const texts = [l.reportTitle, plain(model.plan.title), l.reportingPeriod(model.year), sectionTitle];
  let r = 0;
  texts.forEach((text, i) => {
    r = writeRow(sheet, r + 1, columns, [segs(text)], {
      span: true,
      font: { ...FONT, bold: i !== 2, size: i === 0 ? 12 : 10 },
      horizontal: i === 3 ? 'left' : 'center',
      vertical: 'middle',
    });
  });
  return r + 1;
}

const header = (text: string) => segs(text);
const headerStyle: RowStyle = { font: { ...FONT, bold: true }, horizontal: 'center', vertical: 'middle', border: true };

function numberRow(sheet: Sheet, r: number, columns: number) {
  writeRow(sheet, r, columns, Array.from({ length: columns }, (_, i) => segs(String(i + 1))), { ...headerStyle, font: FONT });
}

/** Heading rows of each sheet, which must not end a printed page (keepWithNext). */
const HEADINGS = new WeakMap<Sheet, Set<number>>();

/** A merged, shaded row across the table: direction, goal or indicator group. */
function headingRow(sheet: Sheet, r: number, columns: number, text: string, italic = false): number {
  if (!HEADINGS.has(sheet)) HEADINGS.set(sheet, new Set());
  HEADINGS.get(sheet)!.add(r);
  return writeRow(sheet, r, columns, [segs(text)], {
    span: true,
    font: { ...FONT, bold: !italic, italic },
    horizontal: italic ? 'center' : 'left',
    vertical: 'middle',
    border: true,
    fill: HEADING_FILL,
  });
}

/** Bold status word, then the note on the next lines. */
function statusWithNote(word: string, note: Txt | null): Seg[] {
  const text = note ? textSegs(note)[0]!.text : '';
  return [{ text: word, bold: true }, ...(text ? [{ text: `\n${text}` }] : [])];
}

function legendRow(sheet: Sheet, r: number, columns: number, model: ReportModel): number {
  const used = fallbackLanguages(model);
  if (used.length === 0) return r;
  return writeRow(sheet, r + 2, columns, [segs(LABELS[model.lang].fallbackLegend(used))], { span: true, font: { ...FONT, italic: true } });
}

/** Header and footer text: "&" doubled, and each part kept short (Excel allows 255 characters in all). */
const hf = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text).replace(/&/g, '&&');

function printSetup(sheet: Sheet, model: ReportModel, titleRowsRange?: [number, number]) {
  const l = LABELS[model.lang];
  const [before, between, after] = l.pageOf;
  sheet.pageSetup = {
    ...sheet.pageSetup,
    paperSize: 9, // A4
    orientation: 'landscape',
    fitToPage: true,
    fitToWidth: 1,
    fitToHeight: 0,
    ...(titleRowsRange ? { printTitlesRow: `${titleRowsRange[0]}:${titleRowsRange[1]}` } : {}),
    margins: { left: 0.5, right: 0.5, top: 0.75, bottom: 0.75, header: 0.3, footer: 0.3 },
  };
  const font = '&"Times New Roman,Regular"&9';
  sheet.headerFooter = {
    oddHeader: `&L${font}${hf(plain(model.organization.name), 100)}&R${font}${hf(`${l.reportTitle}, ${model.year}`, 100)}`,
    oddFooter: `&C${font}${hf(before, 20)}&P${hf(between, 10)}&N${hf(after, 10)}`,
  };
  if (titleRowsRange) sheet.views = [{ state: 'frozen', ySplit: titleRowsRange[1] }];
}

/** Printable height of an A4 landscape page with the margins of printSetup, in points. */
const PAGE_HEIGHT_PT = 595.28 - 72 * (0.75 + 0.75);

/**
 * Keep with next: spreadsheets have no such setting, but at 100 % the page breaks follow from the
 * row heights this renderer set. Walk the pages as Excel and LibreOffice lay them out and, where a
 * run of heading rows and the first row after it would not fit on the page, break before the run.
 */
function keepHeadingsWithNext(sheet: Sheet, titleRows: [number, number]) {
  const headings = HEADINGS.get(sheet) ?? new Set<number>();
  const height = (r: number) => sheet.getRow(r).height ?? 15;
  let repeated = 0;
  for (let r = titleRows[0]; r <= titleRows[1]; r++) repeated += height(r);
  const last = sheet.rowCount;
  let used = 0;
  for (let r = 1; r <= last; r++) {
    if (headings.has(r) && !headings.has(r - 1)) {
      let run = 0;
      let next = r;
      while (headings.has(next)) run += height(next++);
      if (next <= last) run += height(next);
      if (used + run > PAGE_HEIGHT_PT && used > repeated) {
        sheet.getRow(r - 1).addPageBreak();
        used = repeated;
      }
    }
    if (used + height(r) > PAGE_HEIGHT_PT && used > repeated) used = repeated;
    used += height(r);
  }
}

function riskSheet(workbook: ExcelJS.Workbook, model: ReportModel) {
  const l = LABELS[model.lang];
  const sheet = workbook.addWorksheet(l.sheetNames.risks);
  sheet.columns = RISK_WIDTHS.map((width) => ({ width }));
  let r = titleRows(sheet, model, 4, l.sections.risks);
  const headerFrom = r;
  r = writeRow(sheet, r, 4, l.riskColumns.map(header), headerStyle);
  numberRow(sheet, ++r, 4);
  printSetup(sheet, model, [headerFrom, r]);
  for (const d of model.directions) {
    r = headingRow(sheet, r + 1, 4, `${l.directionPrefix(d.code)}${plain(d.title)}`);
    for (const g of d.goals) {
      r = headingRow(sheet, r + 1, 4, `${l.goalPrefix(g.code)}${plain(g.title)}`);
      for (const risk of g.risks) {
        r = writeRow(
          sheet,
          r + 1,
          4,
          [textSegs(risk.risk), textSegs(risk.plannedMeasures), textSegs(risk.actualMeasures), statusWithNote(l.executionStatuses[risk.row.executionStatus], risk.note)],
          { border: true },
        );
      }
    }
  }
  legendRow(sheet, r, 4, model);
  keepHeadingsWithNext(sheet, [headerFrom, headerFrom + 1]);
}

function indicatorSheet(workbook: ExcelJS.Workbook, model: ReportModel) {
  const l = LABELS[model.lang];
  const compare = model.options.compare === 'previous';
  const columns = compare ? 8 : 6;
  const noteCol = columns;
  const sheet = workbook.addWorksheet(l.sheetNames.indicators);
  sheet.columns = (compare ? INDICATOR_COMPARE_WIDTHS : INDICATOR_WIDTHS).map((width) => ({ width }));
  let r = titleRows(sheet, model, columns, l.sections.indicators);
  const headerFrom = r;
  const [c1, c2, c3, c4, c5, c6] = l.indicatorColumns;
  // Two title rows: "reporting period" over plan and fact; the other titles span both rows.
  const top: Content[] = [header(c1), header(c2), header(c3), header(l.reportingPeriodColumn), segs('')];
  const bottom: Content[] = [segs(''), segs(''), segs(''), header(c4), header(c5)];
  if (compare) {
    top.push(header(l.previousFactColumn), header(l.trendColumn));
    bottom.push(segs(''), segs(''));
  }
  top.push(header(c6));
  bottom.push(segs(''));
  writeRow(sheet, r, columns, top, headerStyle);
  writeRow(sheet, r + 1, columns, bottom, headerStyle);
  for (let col = 1; col <= columns; col++) if (col !== 4 && col !== 5) sheet.mergeCells(r, col, r + 1, col);
  sheet.mergeCells(r, 4, r, 5);
  // The merged titles need the height of both rows together: give the second row what the first lacks.
  const needed = Math.max(...[1, 2, 3, ...(compare ? [6, 7] : []), noteCol].map((c) => lineCount(top[c - 1] as Seg[], widthOf(sheet, c, c))));
  sheet.getRow(r + 1).height = Math.max(sheet.getRow(r + 1).height ?? 0, rowHeightFor(needed) - (sheet.getRow(r).height ?? 0));
  r += 1;
  numberRow(sheet, ++r, columns);
  printSetup(sheet, model, [headerFrom, r]);
  for (const d of model.directions) {
    r = headingRow(sheet, r + 1, columns, `${l.directionPrefix(d.code)}${plain(d.title)}`);
    for (const g of d.goals) {
      r = headingRow(sheet, r + 1, columns, `${l.goalPrefix(g.code)}${plain(g.title)}`);
      for (const run of groupRuns(g.indicators)) {
        if (run.group) r = headingRow(sheet, r + 1, columns, plain(run.group), true);
        for (const i of run.indicators) {
          const s = i.status;
          const number = (n: number | null): Content => (n === null ? segs(valueText(null, model.lang)) : n);
          const fact: Content = rankDetails(s, model.lang) ? segs(factText(s, model.lang)) : number(s.fact);
          const cells: Content[] = [textSegs(i.name), textSegs(i.source), textSegs(i.unit), number(s.plan), fact];
          if (compare) cells.push(number(s.previousFact), segs(trendText(s, model.lang)));
          cells.push(statusWithNote(l.verdicts[s.status], i.note));
          r = writeRow(sheet, r + 1, columns, cells, { border: true, centered: compare ? [4, 5, 6, 7] : [4, 5] });
        }
      }
    }
  }
  legendRow(sheet, r, columns, model);
  keepHeadingsWithNext(sheet, [headerFrom, headerFrom + 2]);
}

function noteSheet(workbook: ExcelJS.Workbook, model: ReportModel) {
  const l = LABELS[model.lang];
  const sheet = workbook.addWorksheet(l.sheetNames.analyticalNote);
  sheet.columns = NOTE_WIDTHS.map((width) => ({ width }));
  let r = titleRows(sheet, model, 2, l.sections.analyticalNote) - 1;
  const put = (content: Seg[], style: RowStyle = {}) => {
    r = writeRow(sheet, r + 1, 2, [content], { span: true, ...style });
  };
  if (!model.note) put(segs(l.noNote, { italic: true }));
  for (const block of model.note?.blocks ?? []) {
    if (block.type === 'heading') for (const line of styledLines(block.text, { bold: true })) put(line);
    else if (block.type === 'paragraph') for (const line of styledLines(block.text)) put(line);
    else
      block.items.forEach((item, i) => {
        const marker = block.ordered ? `${i + 1})` : '•';
        styledLines(item).forEach((line, n) => put(n === 0 ? [{ text: `${marker} ` }, ...line] : line, { indent: 2 }));
      });
  }
  r = signatureRows(sheet, r, model);
  legendRow(sheet, r, 2, model);
  printSetup(sheet, model);
}

/** The remark (if any), then the position on the left and the name on the right, in bold. */
function signatureRows(sheet: Sheet, r: number, model: ReportModel): number {
  const s = model.signature;
  if (!s) return r;
  if (s.remark) r = writeRow(sheet, r + 2, 2, [textSegs(s.remark, { italic: true })], { span: true, font: { ...FONT, italic: true } });
  const row = r + 2;
  writeRow(sheet, row, 2, [textSegs(s.position, { bold: true }), textSegs(s.name, { bold: true })], { font: { ...FONT, bold: true }, vertical: 'bottom' });
  sheet.getCell(row, 2).alignment = { horizontal: 'right', vertical: 'bottom', wrapText: true };
  let r2 = row;
  if (s.editionNotes) {
    r2 = writeRow(sheet, r2 + 2, 2, [segs(LABELS[model.lang].editionNotesTitle, { bold: true })], { span: true, font: { ...FONT, bold: true } });
    const t = s.editionNotes;
    lines(t.text).forEach((line, i) => {
      const text = plain({ ...t, fallback: t.fallback && i === 0, text: line });
      r2 = writeRow(sheet, r2 + 1, 2, [segs(`${i + 1}. ${text}`)], { span: true, font: { ...FONT, size: 9 } });
    });
  }
  return r2;
}

export async function renderXlsx(model: ReportModel): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'Nysana';
  workbook.title = `${LABELS[model.lang].reportTitle}: ${model.plan.title?.text ?? model.plan.code}, ${model.year}`;
  riskSheet(workbook, model);
  indicatorSheet(workbook, model);
  noteSheet(workbook, model);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
