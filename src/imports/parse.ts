/**
 * Reading an analyst's spreadsheet laid out like section 2 of the official annual report:
 *   indicator | information source | unit | plan | fact | note [| betterWhen]
 * with direction and goal heading rows ("1-стратегиялық бағыт. ..." / "1.1-мақсат. ..." or
 * "Стратегическое направление 1" / "Цель 1.1"), written as real reports are: decimal commas,
 * "(жоспар)"/"(факт)" suffixes, "-" for a missing value, stray HTML tags, separator rows, notes
 * continued on rows of their own. Pure functions: no database here.
 */
import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { CsvError, parse as parseCsv } from 'csv-parse';
import type { ImportProblem } from './schemas.js';
import { invalid } from '../shared/errors.js';
import type { ValidationError } from '../shared/errors.js';
import type { ImportLimits, SheetRow } from './xlsx-stream.js';
import { readXlsxStreaming, tooLarge, tooManyRows } from './xlsx-stream.js';

export type { ImportLimits, SheetRow } from './xlsx-stream.js';

/** Rows handled between two turns of the event loop, so other requests are answered during an import. */
const TURN_ROWS = 250;

export interface ParsedIndicator {
  row: number;
  code?: string;
  name: string;
  source: string;
  unit: string;
  plan: number | null;
  fact: number | null;
  note: string;
  group?: string;
  betterWhen?: 'higher' | 'lower';
}

export interface ParsedGoal {
  row: number;
  code: string;
  title: string;
  indicators: ParsedIndicator[];
}

export interface ParsedDirection {
  row: number;
  code: string;
  title: string;
  goals: ParsedGoal[];
}

export interface ParsedSheet {
  directions: ParsedDirection[];
  problems: ImportProblem[];
  indicatorRows: number;
}

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

const ENTITIES: Record<string, string> = {
  nbsp: ' ',
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  laquo: '«',
  raquo: '»',
  ndash: '–',
  mdash: '—',
};

/** A numeric entity naming no character: beyond U+10FFFF, a surrogate half, or NUL (PostgreSQL stores none of them). */
export class InvalidEntity extends Error {
  constructor(readonly entity: string) {
    super(`${entity.slice(0, 40)} is not a character (numeric entities name U+0001..U+10FFFF, surrogates excepted)`);
  }
}

function codePoint(entity: string, value: number): string {
  if (!Number.isSafeInteger(value) || value < 1 || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff))
    throw new InvalidEntity(entity);
  return String.fromCodePoint(value);
}

/** Strips HTML tags and entities, collapses whitespace. Throws InvalidEntity for "&#99999999;" and the like. */
export function cleanText(value: string): string {
  return value
    .replace(/<br\s*\/?>/gi, ' ')
    .replace(/<\/(p|li|div)>/gi, ' ')
    .replace(/<[^>]*>/g, '')
    .replace(/&(#\d+|#x[0-9a-f]+|[a-z]+);/gi, (m, e: string) => {
      if (e.startsWith('#x') || e.startsWith('#X')) return codePoint(m, parseInt(e.slice(2), 16));
      if (e.startsWith('#')) return codePoint(m, Number(e.slice(1)));
      return ENTITIES[e.toLowerCase()] ?? m;
    })
    .replace(/[\s\u00a0\u202f]+/g, ' ')
    .trim();
}

/** Cyrillic letters that look like Latin ones: typed reports mix them ("индекcін" with a Latin c). */
const HOMOGLYPHS: Record<string, string> = {
  а: 'a',
  с: 'c',
  е: 'e',
  о: 'o',
  р: 'p',
  х: 'x',
  у: 'y',
  к: 'k',
  м: 'm',
  т: 't',
  н: 'h',
  в: 'b',
  і: 'i',
};

/**
 * Letters and digits only, lower case, look-alike Cyrillic folded to Latin: "1-стратегиялықбағыт" and
 * "1-стратегиялық бағыт" compare equal, and so do "индекcін" (Latin c) and "индексін".
 */
export const normalize = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, '')
    .replace(/[асеорхукмтнві]/g, (ch) => HOMOGLYPHS[ch] ?? ch);

const SUFFIX = /\(\s*(жоспар|факт|план|plan|fact|target|actual)\s*\)/giu;

/** A plan or fact cell (already through cleanText): number, null (empty, "-"), or undefined (not a number). */
export function parseValue(cleaned: string): number | null | undefined {
  let t = cleaned.replace(SUFFIX, '').replace(/[\s\u00a0\u202f]/g, '');
  if (t === '' || /^[-–—]+$/.test(t)) return null;
  t = t.replace(/%$/, '').replace(',', '.');
  if (!/^[-+]?\d+(\.\d+)?$/.test(t)) return undefined;
  const n = Number(t);
  return Number.isFinite(n) && Math.abs(n) <= 1e15 ? n : undefined;
}

const DIRECTION = [
  /^(\d+)\s*[-–.]?\s*стратегиялық\s*бағыт\s*[.:]?\s*(.*)$/iu,
  /^стратегиялық\s*бағыт\s*(\d+)\s*[.:]?\s*(.*)$/iu,
  /^стратегическое\s*направление\s*(\d+)\s*[.:]?\s*(.*)$/iu,
  /^(\d+)\s*[-–.]?\s*стратегическое\s*направление\s*[.:]?\s*(.*)$/iu,
  /^strategic\s*direction\s*(\d+)\s*[.:]?\s*(.*)$/iu,
];
const GOAL = [
  /^(\d+(?:\.\d+)+)\s*[-–]?\s*мақсат\s*[.:]?\s*(.*)$/iu,
  /^мақсат\s*(\d+(?:\.\d+)*)\s*[.:]?\s*(.*)$/iu,
  /^цель\s*(\d+(?:\.\d+)*)\s*[.:]?\s*(.*)$/iu,
  /^(\d+(?:\.\d+)+)\s*[-–]?\s*цель\s*[.:]?\s*(.*)$/iu,
  /^goal\s*(\d+(?:\.\d+)*)\s*[.:]?\s*(.*)$/iu,
];

function heading(patterns: RegExp[], text: string): { code: string; title: string } | undefined {
  for (const p of patterns) {
    const m = p.exec(text);
    if (m) return { code: m[1]!, title: m[2]!.trim() };
  }
  return undefined;
}

/** "1.1.3 Name" or "1.1.3. Name": a code the analyst (or the template) put before the name. */
const LEADING_CODE = /^(\d+(?:\.\d+){2,})\.?\s+(.+)$/u;

const BETTER_HIGHER = /^(higher|жоғары|жоғарырақ|больше|выше|↑|up)$/iu;
const BETTER_LOWER = /^(lower|төмен|төменірек|меньше|ниже|↓|down)$/iu;

const HEADER_NAME = /индикатор|indicator|көрсеткіш|показател|атауы|наименование/iu;
const HEADER_SOURCE = /ақпарат|источник|source/iu;
const HEADER_UNIT = /өлш|ед\.|единиц|unit/iu;

export const EXPECTED_COLUMNS =
  'indicator | information source | unit | plan | fact | note (e.g. "Нысаналы индикатордың атауы | Ақпарат көзі | Өлш. бірл. | Жоспар | Факт | Ескертпе")';

/** Finds the layout: header row (or the numbered 1..6 row); a file without either has the wrong columns. */
function findDataStart(rows: SheetRow[]): number {
  const limit = Math.min(rows.length, 15);
  for (let i = 0; i < limit; i++) {
    const c = cleanRow(rows[i]!, 6);
    if (c.slice(0, 6).join('|') === '1|2|3|4|5|6') return i + 1;
    if (HEADER_NAME.test(c[0] ?? '') && HEADER_SOURCE.test(c[1] ?? '') && HEADER_UNIT.test(c[2] ?? '')) {
      // A numbered row or the plan/fact sub-header may follow; they are skipped below as non-data rows.
      let j = i + 1;
      while (j < rows.length && j <= i + 2) {
        const n = cleanRow(rows[j]!, 6);
        const isSubHeader = n[0] === '' && /жоспар|план|plan/iu.test(n[3] ?? '');
        const isNumbers = n.slice(0, 6).join('|') === '1|2|3|4|5|6';
        if (!isSubHeader && !isNumbers) break;
        j++;
      }
      return j;
    }
  }
  throw invalid(
    `The file does not have the report's columns: expected a header row ${EXPECTED_COLUMNS}, or the numbered row 1..6.`,
    [{ path: 'body', message: `expected columns ${EXPECTED_COLUMNS}` }],
  );
}

/** Names of the layout's columns, for naming a cell in an error. */
const COLUMNS = ['name', 'source', 'unit', 'plan', 'fact', 'note', 'betterWhen'];

/** The row's first `width` cells (at least), cleaned; a cell with an impossible entity is a 400 naming it. */
function cleanRow({ row, cells }: SheetRow, width: number): string[] {
  return Array.from({ length: Math.max(width, cells.length) }, (_, i) => {
    try {
      return cleanText(cells[i] ?? '');
    } catch (error) {
      if (!(error instanceof InvalidEntity)) throw error;
      const column = COLUMNS[i] ?? `column${i + 1}`;
      throw invalid(`Row ${row}, column ${i + 1} (${column}): ${error.message}.`, [
        { path: `body.rows[${row}].${column}`, message: error.message },
      ]);
    }
  });
}

/** Reads the layout; async only to give the event loop a turn every TURN_ROWS rows. */
export async function parseLayout(rows: SheetRow[]): Promise<ParsedSheet> {
  const problems: ImportProblem[] = [];
  const directions: ParsedDirection[] = [];
  let direction: ParsedDirection | undefined;
  let goal: ParsedGoal | undefined;
  let last: ParsedIndicator | undefined;
  let group: string | undefined;
  let indicatorRows = 0;
  const start = findDataStart(rows);
  for (let index = start; index < rows.length; index++) {
    if ((index - start) % TURN_ROWS === TURN_ROWS - 1) await nextTurn();
    const { row } = rows[index]!;
    const c = cleanRow(rows[index]!, 7);
    const [name, source, unit, planCell, factCell, note, better] = c as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    if (c.every((v) => v === '' || /^[-–—]+$/.test(v))) continue; // empty or separator row
    const valuesEmpty = [source, unit, planCell, factCell].every((v) => v === '' || /^[-–—]+$/.test(v));
    if (name && valuesEmpty) {
      const d = heading(DIRECTION, name);
      if (d) {
        direction = { row, code: d.code, title: d.title, goals: [] };
        directions.push(direction);
        goal = undefined;
        last = undefined;
        group = undefined;
        continue;
      }
      const g = heading(GOAL, name);
      if (g) {
        if (!direction) {
          problems.push({
            row,
            severity: 'error',
            message: `goal heading "${name.slice(0, 80)}" before any strategic direction heading`,
          });
          continue;
        }
        goal = { row, code: g.code, title: g.title, indicators: [] };
        direction.goals.push(goal);
        last = undefined;
        group = undefined;
        continue;
      }
      // A name broken across rows (Word tables do that): text starting lower-case right after an indicator.
      if (last && /^\p{Ll}/u.test(name)) {
        last.name = `${last.name} ${name}`;
        if (note) last.note = `${last.note} ${note}`.trim();
        continue;
      }
      // Text in the first column only: a sub-heading grouping the indicators below it.
      group = name;
      last = undefined;
      problems.push({
        row,
        severity: 'warning',
        message: `"${name.slice(0, 80)}" has no values: read as an indicator group sub-heading`,
      });
      continue;
    }
    if (!name) {
      // A note (or a name) continued on a row of its own, as Word tables break across pages.
      if (last && note) last.note = `${last.note} ${note}`.trim();
      continue;
    }
    indicatorRows++;
    if (!goal) {
      problems.push({ row, severity: 'error', message: 'indicator row before any goal heading' });
      continue;
    }
    const plan = parseValue(planCell);
    const fact = parseValue(factCell);
    if (plan === undefined)
      problems.push({
        row,
        column: 'plan',
        severity: 'error',
        message: `plan "${planCell.slice(0, 40)}" is not a number`,
      });
    if (fact === undefined)
      problems.push({
        row,
        column: 'fact',
        severity: 'error',
        message: `fact "${factCell.slice(0, 40)}" is not a number`,
      });
    let betterWhen: 'higher' | 'lower' | undefined;
    if (better) {
      if (BETTER_HIGHER.test(better)) betterWhen = 'higher';
      else if (BETTER_LOWER.test(better)) betterWhen = 'lower';
      else
        problems.push({
          row,
          column: 'betterWhen',
          severity: 'error',
          message: `column 7 "${better.slice(0, 40)}" is not higher/lower`,
        });
    }
    const coded = LEADING_CODE.exec(name);
    last = {
      row,
      ...(coded ? { code: coded[1]!, name: coded[2]!.trim() } : { name }),
      source,
      unit,
      plan: plan ?? null,
      fact: fact ?? null,
      note,
      ...(group ? { group } : {}),
      ...(betterWhen ? { betterWhen } : {}),
    };
    goal.indicators.push(last);
  }
  if (indicatorRows === 0) {
    throw invalid("The file has the report's columns but no indicator rows.", [
      { path: 'body', message: 'no indicator rows' },
    ]);
  }
  return { directions, problems, indicatorRows };
}

// ------------------------------------------------------------------------------------------
// Reading bytes into rows

/** The separator of a CSV file, from its first line: tab, ";" or "," (the most frequent; "," when none). */
function detectSeparator(firstLine: string): '\t' | ';' | ',' {
  const counts = ['\t', ';', ','].map((s) => firstLine.split(s).length - 1) as [number, number, number];
  if (counts[0] > 0 && counts[0] >= Math.max(counts[1], counts[2])) return '\t';
  return counts[1] > counts[2] ? ';' : ',';
}

/** Bytes handed to the CSV parser at a time: between two, the event loop answers other requests. */
const CSV_CHUNK_BYTES = 64 * 1024;

function* chunksOf(bytes: Buffer) {
  for (let at = 0; at < bytes.length; at += CSV_CHUNK_BYTES) yield bytes.subarray(at, at + CSV_CHUNK_BYTES);
}

/** A malformed CSV (an unclosed quote, text after a closing quote) as a 400 naming the record and column. */
function csvProblem(error: CsvError, record: number): ValidationError {
  const column = typeof error.column === 'number' ? error.column + 1 : undefined;
  const at = `Row ${record}${column === undefined ? '' : `, column ${column}`}`;
  const reason =
    error.code === 'CSV_QUOTE_NOT_CLOSED'
      ? 'a quoted cell is not closed'
      : error.message.replace(/^Invalid [^:]*: /, '');
  const cell = column === undefined ? '' : `.${COLUMNS[column - 1] ?? `column${column}`}`;
  return invalid(`${at}: ${reason}.`, [{ path: `body.rows[${record}]${cell}`, message: reason }]);
}

/**
 * RFC 4180 (csv-parse) with the separator guessed from the first line (tab, ";" or ","); a BOM is
 * skipped; a quote inside an unquoted cell is a character; rows may have any number of cells.
 * More than `limits.maxRows` records with values is a 400 as soon as the scan gets there.
 */
export async function readCsv(bytes: Buffer, limits: ImportLimits): Promise<SheetRow[]> {
  if (bytes.length > limits.maxUncompressedBytes) throw tooLarge(limits.maxUncompressedBytes);
  if (bytes.includes(0)) {
    throw invalid('The body is not a text CSV file.', [
      { path: 'body', message: 'binary content (NUL bytes) in a text/csv body' },
    ]);
  }
  const head = new TextDecoder('utf-8', { fatal: false })
    .decode(bytes.subarray(0, CSV_CHUNK_BYTES))
    .replace(/^\uFEFF/, '');
  const delimiter = detectSeparator(head.slice(0, head.search(/\r?\n|\r|$/)));
  const parser = Readable.from(chunksOf(bytes)).pipe(
    parseCsv({ delimiter, bom: true, relax_quotes: true, relax_column_count: true }),
  );
  const rows: SheetRow[] = [];
  // Records are numbered as the file has them, empty ones included (a quoted line break stays in its record).
  let record = 0;
  try {
    for await (const cells of parser as AsyncIterable<string[]>) {
      record++;
      if (record % TURN_ROWS === 0) await nextTurn();
      if (!cells.some((c) => c.trim() !== '')) continue;
      if (rows.length >= limits.maxRows) throw tooManyRows(limits.maxRows);
      rows.push({ row: record, cells });
    }
  } catch (error) {
    // The parser runs ahead of this loop: its own count of records says where it stopped.
    if (error instanceof CsvError)
      throw csvProblem(error, (typeof error.records === 'number' ? error.records : record) + 1);
    throw error;
  } finally {
    parser.destroy();
  }
  return rows;
}

/** An uploaded file's bytes and the type it came as (src/imports/upload.ts receives it). */
export interface Upload {
  bytes: Buffer;
  /** XLSX_TYPE or text/csv; anything else is read as .xlsx, which checks its zip signature. */
  type: string;
}

/** Rows of an uploaded spreadsheet. */
export async function readUpload({ bytes, type }: Upload, limits: ImportLimits): Promise<SheetRow[]> {
  if (bytes.length === 0) throw invalid('The file is empty.', [{ path: 'body', message: 'empty file' }]);
  if (type === 'text/csv') return readCsv(bytes, limits);
  // .xlsx files are zip archives: "PK\x03\x04".
  if (bytes.subarray(0, 4).toString('latin1') !== 'PK\u0003\u0004') {
    throw invalid('The body is not an .xlsx workbook (an .xlsx file is a zip archive).', [
      { path: 'body', message: 'not an .xlsx file' },
    ]);
  }
  const rows = await readXlsxStreaming(bytes, limits);
  if (rows.length === 0) throw invalid('The worksheet is empty.', [{ path: 'body', message: 'empty worksheet' }]);
  return rows;
}
