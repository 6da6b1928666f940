/**
 * The report as an Excel workbook, one sheet per section, laid out like the official tables: title
 * rows, the column titles and the numbered row 1..n (repeated on every printed page and frozen on
 * screen), full-width merged heading rows for strategic directions, goals and indicator groups.
 * Plan and fact are numeric cells (so they can be computed with); a missing value is "-".
 */
import ExcelJS from 'exceljs';
import { fallbackLanguages } from './json.js';
import { LABELS } from './labels.js';
import type { ReportModel } from './model.js';
import { groupRuns } from './model.js';
import type { Txt } from './text.js';
import { lines, plain } from './text.js';

const FONT = { name: 'Times New Roman', size: 10 };
const THIN = { style: 'thin' as const };
const BORDER = { top: THIN, left: THIN, bottom: THIN, right: THIN };
const HEADING_FILL: ExcelJS.Fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFE8E8E8' } };
const LINE_HEIGHT = 13; // points per line of 10 pt text

type Sheet = ExcelJS.Worksheet;

/** Multi-line text as one cell value, lines joined by newlines, "[ru] " first on a fallback. */
function cellText(t: Txt | null): string {
  if (!t) return '';
  return plain({ ...t, text: lines(t.text).join('\n') });
}

/** Excel does not size rows to wrapped text: estimate the lines each cell needs from its column width. */
function fitRow(row: ExcelJS.Row, sheet: Sheet, spanWidth?: number) {
  let maxLines = 1;
  row.eachCell((cell, col) => {
    const width = spanWidth ?? sheet.getColumn(col).width ?? 10;
    const text = cell.text ?? '';
    const needed = text.split('\n').reduce((n, line) => n + Math.max(1, Math.ceil((line.length * 1.1) / width)), 0);
    maxLines = Math.max(maxLines, needed);
  });
  row.height = Math.min(409, maxLines * LINE_HEIGHT + 4);
}

function styleRange(sheet: Sheet, rowNumber: number, fromCol: number, toCol: number, style: Partial<ExcelJS.Style>) {
  for (let c = fromCol; c <= toCol; c++) Object.assign(sheet.getCell(rowNumber, c), style);
}

/** Rows 1..4: report title, plan title, reporting period, section title. Returns the next row number. */
function titleRows(sheet: Sheet, model: ReportModel, columns: number, sectionTitle: string): number {
  const l = LABELS[model.lang];
  const texts = [l.reportTitle, plain(model.plan.title), l.reportingPeriod(model.year), sectionTitle];
  const totalWidth = sheet.columns.reduce((n, c) => n + (c.width ?? 10), 0);
  texts.forEach((text, i) => {
    const row = sheet.getRow(i + 1);
    row.getCell(1).value = text;
    sheet.mergeCells(i + 1, 1, i + 1, columns);
    row.getCell(1).font = { ...FONT, bold: i !== 2, size: i === 0 ? 12 : 10 };
    row.getCell(1).alignment = { horizontal: i === 3 ? 'left' : 'center', vertical: 'middle', wrapText: true };
    fitRow(row, sheet, totalWidth);
  });
  return texts.length + 1;
}

function headerCell(sheet: Sheet, rowNumber: number, col: number, text: string, bold = true) {
  const cell = sheet.getCell(rowNumber, col);
  cell.value = text;
  cell.font = { ...FONT, bold };
  cell.alignment = { horizontal: 'center', vertical: 'middle', wrapText: true };
  cell.border = BORDER;
}

function numberRow(sheet: Sheet, rowNumber: number, columns: number) {
  for (let c = 1; c <= columns; c++) headerCell(sheet, rowNumber, c, String(c), false);
}

/** A merged, shaded row across the table: direction, goal or indicator group. */
function headingRow(sheet: Sheet, rowNumber: number, columns: number, text: string, italic = false) {
  const row = sheet.getRow(rowNumber);
  row.getCell(1).value = text;
  sheet.mergeCells(rowNumber, 1, rowNumber, columns);
  styleRange(sheet, rowNumber, 1, columns, {
    font: { ...FONT, bold: !italic, italic },
    alignment: { horizontal: italic ? 'center' : 'left', vertical: 'middle', wrapText: true },
    border: BORDER,
    fill: HEADING_FILL,
  });
  fitRow(row, sheet, sheet.columns.slice(0, columns).reduce((n, c) => n + (c.width ?? 10), 0));
}

function dataRow(sheet: Sheet, rowNumber: number, values: ExcelJS.CellValue[], centered: number[] = []) {
  const row = sheet.getRow(rowNumber);
  values.forEach((value, i) => {
    const cell = row.getCell(i + 1);
    cell.value = value;
    cell.font = FONT;
    cell.border = BORDER;
    cell.alignment = { vertical: 'top', horizontal: centered.includes(i + 1) ? 'center' : 'left', wrapText: true };
  });
  fitRow(row, sheet);
}

/** Bold status word, then the note on the next lines. */
function statusWithNote(word: string, note: Txt | null): ExcelJS.CellValue {
  const text = cellText(note);
  return { richText: [{ text: word, font: { ...FONT, bold: true } }, ...(text ? [{ text: `\n${text}`, font: FONT }] : [])] };
}

function legendRow(sheet: Sheet, rowNumber: number, columns: number, model: ReportModel) {
  const used = fallbackLanguages(model);
  if (used.length === 0) return;
  const row = sheet.getRow(rowNumber + 1);
  row.getCell(1).value = LABELS[model.lang].fallbackLegend(used);
  sheet.mergeCells(rowNumber + 1, 1, rowNumber + 1, columns);
  row.getCell(1).font = { ...FONT, italic: true };
  row.getCell(1).alignment = { wrapText: true, vertical: 'top' };
  fitRow(row, sheet, sheet.columns.slice(0, columns).reduce((n, c) => n + (c.width ?? 10), 0));
}

function printSetup(sheet: Sheet, headerFrom: number, headerTo: number) {
  sheet.pageSetup = {
    ...sheet.pageSetup,
    paperSize: 9, // A4
    orientation: 'landscape',
    fitToPage: true,
    fitToWidth: 1,
    fitToHeight: 0,
    printTitlesRow: `${headerFrom}:${headerTo}`,
    margins: { left: 0.5, right: 0.5, top: 0.6, bottom: 0.6, header: 0.3, footer: 0.3 },
  };
  sheet.views = [{ state: 'frozen', ySplit: headerTo }];
}

function riskSheet(workbook: ExcelJS.Workbook, model: ReportModel) {
  const l = LABELS[model.lang];
  const sheet = workbook.addWorksheet(l.sheetNames.risks);
  sheet.columns = [{ width: 40 }, { width: 40 }, { width: 60 }, { width: 28 }];
  let r = titleRows(sheet, model, 4, l.sections.risks);
  const headerFrom = r;
  l.riskColumns.forEach((c, i) => headerCell(sheet, r, i + 1, c));
  fitRow(sheet.getRow(r), sheet);
  numberRow(sheet, ++r, 4);
  printSetup(sheet, headerFrom, r);
  for (const d of model.directions) {
    headingRow(sheet, ++r, 4, `${l.directionPrefix(d.code)}${plain(d.title)}`);
    for (const g of d.goals) {
      headingRow(sheet, ++r, 4, `${l.goalPrefix(g.code)}${plain(g.title)}`);
      for (const risk of g.risks) {
        dataRow(sheet, ++r, [
          cellText(risk.risk),
          cellText(risk.plannedMeasures),
          cellText(risk.actualMeasures),
          statusWithNote(l.executionStatuses[risk.row.executionStatus], risk.note),
        ]);
      }
    }
  }
  legendRow(sheet, r + 1, 4, model);
}

function indicatorSheet(workbook: ExcelJS.Workbook, model: ReportModel) {
  const l = LABELS[model.lang];
  const sheet = workbook.addWorksheet(l.sheetNames.indicators);
  sheet.columns = [{ width: 42 }, { width: 24 }, { width: 16 }, { width: 11 }, { width: 11 }, { width: 70 }];
  let r = titleRows(sheet, model, 6, l.sections.indicators);
  const headerFrom = r;
  const [c1, c2, c3, c4, c5, c6] = l.indicatorColumns;
  headerCell(sheet, r, 1, c1);
  headerCell(sheet, r, 2, c2);
  headerCell(sheet, r, 3, c3);
  headerCell(sheet, r, 4, l.reportingPeriodColumn);
  headerCell(sheet, r, 6, c6);
  headerCell(sheet, r + 1, 4, c4);
  headerCell(sheet, r + 1, 5, c5);
  for (const col of [1, 2, 3, 6]) {
    sheet.getCell(r + 1, col).border = BORDER;
    sheet.mergeCells(r, col, r + 1, col);
  }
  sheet.getCell(r, 5).border = BORDER;
  sheet.mergeCells(r, 4, r, 5);
  fitRow(sheet.getRow(r), sheet);
  r += 1;
  numberRow(sheet, ++r, 6);
  printSetup(sheet, headerFrom, r);
  const value = (n: number | null) => n ?? l.missingValue;
  for (const d of model.directions) {
    headingRow(sheet, ++r, 6, `${l.directionPrefix(d.code)}${plain(d.title)}`);
    for (const g of d.goals) {
      headingRow(sheet, ++r, 6, `${l.goalPrefix(g.code)}${plain(g.title)}`);
      for (const run of groupRuns(g.indicators)) {
        if (run.group) headingRow(sheet, ++r, 6, plain(run.group), true);
        for (const i of run.indicators) {
          const s = i.status;
          dataRow(
            sheet,
            ++r,
            [cellText(i.name), cellText(i.source), cellText(i.unit), value(s.plan), value(s.fact), statusWithNote(l.verdicts[s.status], i.note)],
            [4, 5],
          );
        }
      }
    }
  }
  legendRow(sheet, r + 1, 6, model);
}

function noteSheet(workbook: ExcelJS.Workbook, model: ReportModel) {
  const l = LABELS[model.lang];
  const sheet = workbook.addWorksheet(l.sheetNames.analyticalNote);
  sheet.columns = [{ width: 160 }];
  let r = titleRows(sheet, model, 1, l.sections.analyticalNote);
  r -= 1;
  const put = (text: string, font: Partial<ExcelJS.Font> = FONT, indent = 0) => {
    const row = sheet.getRow(++r);
    row.getCell(1).value = text;
    row.getCell(1).font = font;
    row.getCell(1).alignment = { wrapText: true, vertical: 'top', indent };
    fitRow(row, sheet);
  };
  if (!model.note) put(l.noNote, { ...FONT, italic: true });
  for (const block of model.note?.blocks ?? []) {
    if (block.type === 'heading') put(plain(block.text), { ...FONT, bold: true });
    else if (block.type === 'paragraph') for (const line of cellText(block.text).split('\n')) put(line);
    else block.items.forEach((item, i) => put(`${block.ordered ? `${i + 1})` : '•'} ${plain(item)}`, FONT, 2));
  }
  legendRow(sheet, r + 1, 1, model);
  sheet.pageSetup = { ...sheet.pageSetup, paperSize: 9, orientation: 'landscape', fitToPage: true, fitToWidth: 1, fitToHeight: 0 };
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
