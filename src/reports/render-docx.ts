/**
 * The report as a Word document laid out like the official one: A4 landscape; section 1 a 4-column
 * table, section 2 a 6-column table (columns 4 and 5 under "reporting period"; with
 * ?compare=previous 8, the previous year's fact and the trend after them), both with their title
 * rows and the numbered row 1..n repeated on every page, full-width heading rows for strategic
 * directions and goals (and indicator group sub-headings) that never split and keep with the row
 * after them, so a heading never stands alone at the bottom of a page; section 3 as paragraphs,
 * sub-headings and lists with their bold and italic; the signature block at the end. Every page
 * has a running header (the state body; the report's title and year) and "page N of M" (PAGE and
 * NUMPAGES fields) in the footer. Times New Roman, which Word has with the Kazakh letters.
 */
import {
  AlignmentType,
  Document,
  Footer,
  Header,
  LevelFormat,
  PageNumber,
  TabStopType,
  Packer,
  PageOrientation,
  Paragraph,
  ShadingType,
  Table,
  TableCell,
  TableLayoutType,
  TableRow,
  TextRun,
  VerticalAlignTable,
  WidthType,
} from 'docx';
import { factText, styledLines, trendText, valueText } from './cells.js';
import type { Seg } from './inline.js';
import { fallbackLanguages } from './json.js';
import { LABELS } from './labels.js';
import type { ReportModel } from './model.js';
import { groupRuns } from './model.js';
import type { Txt } from './text.js';
import { fallbackMark, lines, plain } from './text.js';

const FONT = 'Times New Roman';
const BODY = 24; // half-points: 12 pt
const TABLE = 20; // 10 pt
// A4 landscape (width x height), 2 cm margins, in twips.
const PAGE = { width: 16838, height: 11906, margin: 1134 };
const CONTENT_WIDTH = PAGE.width - 2 * PAGE.margin;
const LANG_TAGS = { kk: 'kk-KZ', ru: 'ru-RU', en: 'en-GB' } as const;

const widths = (shares: number[]) => shares.map((s) => Math.round((CONTENT_WIDTH * s) / 100));
const RISK_WIDTHS = widths([24, 24, 36, 16]);
// Plan and fact wide enough for "Жоспар" and a rank's details on a few lines, never a broken word.
const INDICATOR_WIDTHS = widths([20, 12, 11, 8, 10, 39]);
const INDICATOR_COMPARE_WIDTHS = widths([18, 10, 10, 7, 9, 8, 8, 30]);
const FURNITURE = 18; // 9 pt

interface RunStyle {
  bold?: boolean;
  italics?: boolean;
  size?: number;
}

/** Text runs, with the fallback mark "[ru] " before text that is not in the report language. */
function runs(t: Txt | null, style: RunStyle = {}): TextRun[] {
  if (!t) return [];
  const out: TextRun[] = [];
  if (t.fallback) out.push(new TextRun({ text: `${fallbackMark(t)} `, ...style, italics: true, color: '555555' }));
  out.push(new TextRun({ text: t.text, ...style, ...(t.fallback ? { language: { value: LANG_TAGS[t.lang] } } : {}) }));
  return out;
}

function paragraphsOf(t: Txt | null, style: RunStyle = {}): Paragraph[] {
  if (!t) return [];
  return lines(t.text).map(
    (line, i) =>
      new Paragraph({
        spacing: { after: 60 },
        children: runs({ ...t, fallback: t.fallback && i === 0, text: line }, style),
      }),
  );
}

function textCell(children: Paragraph[], extra: { columnSpan?: number; rowSpan?: number; shaded?: boolean; center?: boolean } = {}) {
  return new TableCell({
    children: children.length > 0 ? children : [new Paragraph({})],
    columnSpan: extra.columnSpan,
    rowSpan: extra.rowSpan,
    verticalAlign: extra.center ? VerticalAlignTable.CENTER : VerticalAlignTable.TOP,
    margins: { top: 40, bottom: 40, left: 80, right: 80 },
    ...(extra.shaded ? { shading: { type: ShadingType.CLEAR, color: 'auto', fill: 'E8E8E8' } } : {}),
  });
}

const centered = (text: string, style: RunStyle = {}) =>
  new Paragraph({ alignment: AlignmentType.CENTER, children: [new TextRun({ text, ...style })] });

/** Styled runs (bold and italic from the note's Markdown) as TextRuns. */
const segRuns = (line: Seg[], style: RunStyle = {}) =>
  line.map((seg) => new TextRun({ text: seg.text, ...style, ...(seg.bold ? { bold: true } : {}), ...(seg.italic ? { italics: true } : {}) }));

function headerCell(text: string, extra: { columnSpan?: number; rowSpan?: number } = {}) {
  return textCell([centered(text, { bold: true, size: TABLE })], { ...extra, center: true });
}

function numberRow(count: number) {
  return new TableRow({
    tableHeader: true,
    cantSplit: true,
    children: Array.from({ length: count }, (_, i) => textCell([centered(String(i + 1), { size: TABLE })], { center: true })),
  });
}

/** A full-width heading row: "1-стратегиялық бағыт. Title" and the like. */
function headingRow(columns: number, prefix: string, title: Txt | null, style: RunStyle = { bold: true }) {
  // keepNext on the row's paragraph keeps the row on the page of the row after it.
  const paragraph = new Paragraph({ keepNext: true, children: [new TextRun({ text: prefix, ...style, size: TABLE }), ...runs(title, { ...style, size: TABLE })] });
  return new TableRow({ cantSplit: true, children: [textCell([paragraph], { columnSpan: columns, shaded: true })] });
}

function table(rows: TableRow[], columnWidths: number[]) {
  return new Table({
    rows,
    columnWidths,
    width: { size: CONTENT_WIDTH, type: WidthType.DXA },
    layout: TableLayoutType.FIXED,
  });
}

function riskTable(model: ReportModel): Table {
  const l = LABELS[model.lang];
  const rows: TableRow[] = [
    new TableRow({ tableHeader: true, cantSplit: true, children: l.riskColumns.map((c) => headerCell(c)) }),
    numberRow(4),
  ];
  const cellStyle = { size: TABLE };
  for (const d of model.directions) {
    rows.push(headingRow(4, l.directionPrefix(d.code), d.title));
    for (const g of d.goals) {
      rows.push(headingRow(4, l.goalPrefix(g.code), g.title));
      for (const r of g.risks) {
        rows.push(
          new TableRow({
            children: [
              textCell(paragraphsOf(r.risk, cellStyle)),
              textCell(paragraphsOf(r.plannedMeasures, cellStyle)),
              textCell(paragraphsOf(r.actualMeasures, cellStyle)),
              textCell([
                new Paragraph({ spacing: { after: 60 }, children: [new TextRun({ text: l.executionStatuses[r.row.executionStatus], bold: true, size: TABLE })] }),
                ...paragraphsOf(r.note, cellStyle),
              ]),
            ],
          }),
        );
      }
    }
  }
  return table(rows, RISK_WIDTHS);
}

function indicatorTable(model: ReportModel): Table {
  const l = LABELS[model.lang];
  const compare = model.options.compare === 'previous';
  const columns = compare ? 8 : 6;
  const [c1, c2, c3, c4, c5, c6] = l.indicatorColumns;
  const rows: TableRow[] = [
    new TableRow({
      tableHeader: true,
      cantSplit: true,
      children: [
        headerCell(c1, { rowSpan: 2 }),
        headerCell(c2, { rowSpan: 2 }),
        headerCell(c3, { rowSpan: 2 }),
        headerCell(l.reportingPeriodColumn, { columnSpan: 2 }),
        ...(compare ? [headerCell(l.previousFactColumn, { rowSpan: 2 }), headerCell(l.trendColumn, { rowSpan: 2 })] : []),
        headerCell(c6, { rowSpan: 2 }),
      ],
    }),
    new TableRow({ tableHeader: true, cantSplit: true, children: [headerCell(c4), headerCell(c5)] }),
    numberRow(columns),
  ];
  const cellStyle = { size: TABLE };
  const value = (text: string) => textCell([centered(text, cellStyle)]);
  for (const d of model.directions) {
    rows.push(headingRow(columns, l.directionPrefix(d.code), d.title));
    for (const g of d.goals) {
      rows.push(headingRow(columns, l.goalPrefix(g.code), g.title));
      for (const run of groupRuns(g.indicators)) {
        if (run.group) rows.push(headingRow(columns, '', run.group, { italics: true }));
        for (const i of run.indicators) {
          const s = i.status;
          rows.push(
            new TableRow({
              children: [
                textCell(paragraphsOf(i.name, cellStyle)),
                textCell(paragraphsOf(i.source, cellStyle)),
                textCell([new Paragraph({ children: runs(i.unit, cellStyle) })]),
                value(valueText(s.plan, model.lang)),
                value(factText(s, model.lang)),
                ...(compare ? [value(valueText(s.previousFact, model.lang)), value(trendText(s, model.lang))] : []),
                textCell([
                  new Paragraph({ spacing: { after: 60 }, children: [new TextRun({ text: l.verdicts[s.status], bold: true, size: TABLE })] }),
                  ...paragraphsOf(i.note, cellStyle),
                ]),
              ],
            }),
          );
        }
      }
    }
  }
  return table(rows, compare ? INDICATOR_COMPARE_WIDTHS : INDICATOR_WIDTHS);
}

function noteParagraphs(model: ReportModel): Paragraph[] {
  const l = LABELS[model.lang];
  if (!model.note) return [new Paragraph({ children: [new TextRun({ text: l.noNote, italics: true })] })];
  const out: Paragraph[] = [];
  let ordered = 0;
  for (const block of model.note.blocks) {
    if (block.type === 'paragraph') {
      for (const line of styledLines(block.text)) out.push(new Paragraph({ spacing: { after: 60 }, children: segRuns(line) }));
    } else if (block.type === 'heading') {
      for (const line of styledLines(block.text, { bold: true })) {
        out.push(new Paragraph({ spacing: { before: 200, after: 100 }, keepNext: true, children: segRuns(line) }));
      }
    } else {
      const instance = block.ordered ? ++ordered : 0;
      for (const item of block.items) {
        out.push(
          new Paragraph({
            numbering: { reference: block.ordered ? 'ordered' : 'bullets', level: 0, ...(block.ordered ? { instance } : {}) },
            spacing: { after: 40 },
            children: styledLines(item).flatMap((line, n) => [...(n > 0 ? [new TextRun({ break: 1 })] : []), ...segRuns(line)]),
          }),
        );
      }
    }
  }
  return out;
}

/** The remark, then the position at the left margin and the name at the right one, kept together. */
function signatureParagraphs(model: ReportModel): Paragraph[] {
  const s = model.signature;
  if (!s) return [];
  const rightTab = [{ type: TabStopType.RIGHT, position: CONTENT_WIDTH }];
  return [
    ...(s.remark ? [new Paragraph({ spacing: { before: 360 }, keepNext: true, children: runs(s.remark, { italics: true, size: TABLE }) })] : []),
    new Paragraph({
      spacing: { before: 600 },
      keepLines: true,
      tabStops: rightTab,
      children: [...runs(s.position, { bold: true }), new TextRun({ text: '\t' }), ...runs(s.name, { bold: true })],
    }),
    ...editionNotes(model),
  ];
}

/** Notes on this edition, after the signature: a small heading, then the notes numbered 1., 2., ... */
function editionNotes(model: ReportModel): Paragraph[] {
  const t = model.signature?.editionNotes;
  if (!t) return [];
  return [
    new Paragraph({ spacing: { before: 480, after: 80 }, keepNext: true, children: [new TextRun({ text: LABELS[model.lang].editionNotesTitle, bold: true, size: TABLE })] }),
    ...lines(t.text).map(
      (line, i) =>
        new Paragraph({
          spacing: { after: 40 },
          indent: { left: 360, hanging: 360 },
          children: [new TextRun({ text: `${i + 1}.\t`, size: TABLE }), ...runs({ ...t, fallback: t.fallback && i === 0, text: line }, { size: TABLE })],
        }),
    ),
  ];
}

/** The running header: the state body at the left, the report's title and year at the right. */
function pageHeader(model: ReportModel): Header {
  const l = LABELS[model.lang];
  return new Header({
    children: [
      new Paragraph({
        tabStops: [{ type: TabStopType.RIGHT, position: CONTENT_WIDTH }],
        border: { bottom: { style: 'single', size: 4, color: '999999', space: 2 } },
        children: [
          new TextRun({ text: plain(model.organization.name), size: FURNITURE }),
          new TextRun({ text: `\t${l.reportTitle}, ${model.year}`, size: FURNITURE }),
        ],
      }),
    ],
  });
}

/** "Бет 3 / 12": the PAGE and NUMPAGES fields, so Word and LibreOffice fill in the numbers. */
function pageFooter(model: ReportModel): Footer {
  const [before, between, after] = LABELS[model.lang].pageOf;
  return new Footer({
    children: [
      new Paragraph({
        alignment: AlignmentType.CENTER,
        children: [new TextRun({ size: FURNITURE, children: [before, PageNumber.CURRENT, between, PageNumber.TOTAL_PAGES, after] })],
      }),
    ],
  });
}

const sectionHeading = (text: string) =>
  new Paragraph({ spacing: { before: 360, after: 200 }, keepNext: true, children: [new TextRun({ text, bold: true, size: 26 })] });

export async function renderDocx(model: ReportModel): Promise<Buffer> {
  const l = LABELS[model.lang];
  const used = fallbackLanguages(model);
  const title = [
    ...(model.organization.name ? [new Paragraph({ alignment: AlignmentType.CENTER, children: runs(model.organization.name) })] : []),
    centered(l.reportTitle, { bold: true, size: 28 }),
    new Paragraph({ alignment: AlignmentType.CENTER, children: runs(model.plan.title, { bold: true }) }),
    ...(model.plan.approval?.document
      ? [new Paragraph({ alignment: AlignmentType.CENTER, children: [new TextRun({ text: `${l.approvedBy} ` }), ...runs(model.plan.approval.document)] })]
      : []),
    new Paragraph({ alignment: AlignmentType.CENTER, spacing: { before: 200 }, children: [new TextRun({ text: l.reportingPeriod(model.year) })] }),
  ];
  const doc = new Document({
    creator: 'Nysana',
    title: `${l.reportTitle}: ${model.plan.title?.text ?? model.plan.code}, ${model.year}`,
    description: l.reportingPeriod(model.year),
    styles: {
      default: { document: { run: { font: FONT, size: BODY, language: { value: LANG_TAGS[model.lang] } } } },
    },
    numbering: {
      config: [
        {
          reference: 'bullets',
          levels: [{ level: 0, format: LevelFormat.BULLET, text: '•', alignment: AlignmentType.LEFT, style: { paragraph: { indent: { left: 720, hanging: 360 } } } }],
        },
        {
          reference: 'ordered',
          levels: [{ level: 0, format: LevelFormat.DECIMAL, text: '%1)', alignment: AlignmentType.LEFT, style: { paragraph: { indent: { left: 720, hanging: 360 } } } }],
        },
      ],
    },
    sections: [
      {
        properties: {
          page: {
            // Portrait A4 dimensions: docx swaps them for a landscape page.
            size: { width: PAGE.height, height: PAGE.width, orientation: PageOrientation.LANDSCAPE },
            margin: { top: PAGE.margin, bottom: PAGE.margin, left: PAGE.margin, right: PAGE.margin, header: 567, footer: 567 },
          },
        },
        headers: { default: pageHeader(model) },
        footers: { default: pageFooter(model) },
        children: [
          ...title,
          sectionHeading(l.sections.risks),
          riskTable(model),
          sectionHeading(l.sections.indicators),
          indicatorTable(model),
          sectionHeading(l.sections.analyticalNote),
          ...noteParagraphs(model),
          ...signatureParagraphs(model),
          ...(used.length > 0
            ? [new Paragraph({ spacing: { before: 360 }, children: [new TextRun({ text: l.fallbackLegend(used), italics: true, size: TABLE })] })]
            : []),
        ],
      },
    ],
  });
  return Packer.toBuffer(doc);
}
