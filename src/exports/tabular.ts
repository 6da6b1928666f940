/**
 * Streaming tabular exports (CSV and XLSX) for BI tools: rows arrive page by page (keyset pages
 * from the database) and leave as they come, so a million-row export holds memory flat.
 *
 * CSV: RFC 4180, UTF-8 with a BOM (Excel then shows Kazakh letters), `,` or `;` (?sep= or
 * ?delimiter=), CRLF line ends, spreadsheet formulas neutralized (CSV injection).
 * Numbers use a decimal comma with the `;` separator (what Excel expects where `;` is the list
 * separator: Kazakh and Russian locales), a point with `,` (issue 15).
 * XLSX: one worksheet written by exceljs's streaming WorkbookWriter (no shared strings); text stays
 * text (codes such as 1.1.7 are string cells, never dates), dates and timestamps are Excel dates.
 */
import { PassThrough, Readable } from 'node:stream';
import { loadExcel } from '../shared/lazy.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { LocalizedText } from '../shared/schemas.js';
import type { Db } from '../db/client.js';
import { exportHandleOf } from '../db/export-handle.js';
import { exportNotModified } from '../http/export-etag.js';
import { setNextLink } from '../http/pagination.js';

export type ExportFormat = 'csv' | 'xlsx';

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** Rows fetched per query while streaming an export. */
export const EXPORT_PAGE_SIZE = 5000;

export const ExportQueryShape = {
  sep: z
    .enum([',', ';'])
    .optional()
    .describe('CSV separator: "," (default) or ";" (what Excel expects in many locales).'),
  delimiter: z.enum([',', ';']).optional().describe('Alias of sep.'),
};

export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
  /** An ISO date (YYYY-MM-DD) or instant string: an Excel date cell in XLSX (UTC), the text itself in CSV. */
  date?: 'date' | 'datetime';
  /**
   * What the values are, so CSV can skip the checks they cannot need: `plain` values (UUIDs, enums,
   * numbers, booleans) never hold a separator, quote or line break and are not text a spreadsheet
   * could take for a formula; anything else (default `text`) is neutralized and quoted as needed.
   */
  kind?: 'plain' | 'text';
}

/** The export format asked for by ?format= or, without it, by the Accept header; undefined means JSON. */
export function exportFormatOf(request: FastifyRequest, format: string | undefined): ExportFormat | undefined {
  if (format === 'csv' || format === 'xlsx') return format;
  if (format !== undefined) return undefined;
  const accept = request.headers.accept ?? '';
  if (/\btext\/csv\b/.test(accept)) return 'csv';
  if (accept.includes(XLSX_TYPE)) return 'xlsx';
  return undefined;
}

/** Whether the caller asked for one page (?limit= given) rather than everything matching. */
export function limitGiven(request: FastifyRequest): boolean {
  return new URL(request.url, 'http://localhost').searchParams.has('limit');
}

/** Whether a CSV cell must be quoted: it holds the separator, a quote, `,`, `;` or a line break. */
function needsQuotes(s: string, sep: number): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 44 || c === 59 || c === 34 || c === 10 || c === 13 || c === sep) return true;
  }
  return false;
}

/** A text cell: formulas neutralized (=, +, -, @, tab, CR first: CSV injection), quoted when needed. */
export function csvText(s: string, sep: number): string {
  const first = s.charCodeAt(0);
  const safe =
    first === 61 || first === 43 || first === 45 || first === 64 || first === 9 || first === 13 ? `'${s}` : s;
  return needsQuotes(safe, sep) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function csvCell(value: unknown, sep: string): string {
  if (value === null || value === undefined) return '';
  const code = sep.charCodeAt(0);
  if (typeof value === 'string') return csvText(value, code);
  const s = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return needsQuotes(s, code) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** The decimal mark of a CSV: asked for, or the separator's (`;` goes with a decimal comma). */
export function decimalFor(sep: string | undefined, asked?: 'comma' | 'point'): '.' | ',' {
  if (asked) return asked === 'comma' ? ',' : '.';
  return sep === ';' ? ',' : '.';
}

const plainCell = (value: unknown): string => (value === null || value === undefined ? '' : `${value as string}`);

/**
 * One encoder per column, chosen once: a whole CSV line (without its CRLF) from a row. The cells
 * go into one reused array and are joined once, so a line costs one flat string rather than a
 * chain of partial concatenations for the garbage collector.
 */
export function csvLineEncoder<T>(columns: Column<T>[], sep = ',', decimal: '.' | ',' = '.'): (row: T) => string {
  const code = sep.charCodeAt(0);
  // A decimal comma (what Excel reads as a number under Kazakh and Russian locales) is quoted when it is also the separator.
  const number = (n: number) => {
    const s = String(n).replace('.', ',');
    return sep === ',' && s.includes(',') ? `"${s}"` : s;
  };
  const cells = columns.map((c) => {
    const value = c.value;
    if (c.kind === 'plain' && decimal === '.') return (row: T) => plainCell(value(row));
    return (row: T) => {
      const v = value(row);
      if (typeof v === 'string') return csvText(v, code);
      return typeof v === 'number' && decimal === ',' ? number(v) : csvCell(v, sep);
    };
  });
  const n = cells.length;
  const parts = new Array<string>(n).fill('');
  return (row: T) => {
    for (let i = 0; i < n; i++) parts[i] = cells[i]!(row);
    return parts.join(sep);
  };
}

/** Excel number formats of date columns (the values are UTC). */
const XLSX_DATE_FORMATS = { date: 'yyyy-mm-dd', datetime: 'yyyy-mm-dd hh:mm:ss' } as const;

/** An ISO date or instant as a Date (UTC) for exceljs; anything unreadable stays as it was. */
function xlsxDate(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const ms = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
  return Number.isFinite(ms) ? new Date(ms) : value;
}

function xlsxCell(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Bytes per CSV chunk handed to the response. */
const CSV_CHUNK_BYTES = 1 << 18;

/** The BOM and the header line of a CSV export. */
export const csvHeader = (headers: readonly string[], sep = ',') =>
  `\uFEFF${headers.map((h) => csvCell(h, sep)).join(sep)}\r\n`;

/**
 * CSV of pages of rows, in chunks of CSV_CHUNK_BYTES (not one write per row), each line encoded
 * straight into the chunk's buffer: no page-sized strings live long enough to reach the old
 * generation of the heap, so garbage collection stays cheap. Chunks are pulled only when the
 * response has room again (Readable.from reads on demand), so a slow client holds back the
 * database reads instead of filling memory.
 */
export function csvStream<T>(
  columns: Column<T>[],
  pages: AsyncIterable<T[]>,
  sep = ',',
  decimal: '.' | ',' = decimalFor(sep),
): Readable {
  return csvLineStream(
    csvHeader(
      columns.map((c) => c.header),
      sep,
    ),
    pages,
    csvLineEncoder(columns, sep, decimal),
  );
}

/**
 * The chunking of csvStream() for rows of any shape, `line` writing one line (without its CRLF).
 * The stream owns the pages it is given: each row is dropped from its page once written, so the
 * rows written so far are garbage at the next scavenge instead of being copied (and promoted)
 * with the rest of their page, which stays reachable until its last row is written (measured in
 * docs/benchmarks.md, "The full-year CSV export's cost per row").
 */
export function csvLineStream<T>(
  header: string,
  pages: AsyncIterable<T[]>,
  line: (row: T) => string,
  /**
   * Bytes written before each line, already UTF-8 (cells that many rows share, encoded once rather
   * than copied into every line's string and encoded again); called before `line`.
   */
  head?: (row: T) => Uint8Array,
): Readable {
  const none = new Uint8Array(0);
  async function* chunks() {
    let buf = Buffer.allocUnsafe(CSV_CHUNK_BYTES);
    let pos = buf.write(header);
    for await (const rows of pages) {
      const written = rows as (T | undefined)[];
      for (let i = 0; i < rows.length; i++) {
        const first = head ? head(rows[i]!) : none;
        const text = line(rows[i]!);
        written[i] = undefined;
        // UTF-8 takes at most 3 bytes per UTF-16 unit; 2 more for the CRLF.
        const most = first.length + text.length * 3 + 2;
        if (pos + most > buf.length) {
          if (pos > 0) yield buf.subarray(0, pos);
          buf = Buffer.allocUnsafe(Math.max(CSV_CHUNK_BYTES, most));
          pos = 0;
        }
        buf.set(first, pos);
        pos += first.length;
        pos += buf.write(text, pos);
        buf[pos++] = 13;
        buf[pos++] = 10;
      }
      // A page that ends part-way into a chunk: send what there is, so a slow database still
      // streams (the first rows do not wait for a full chunk across several pages).
      if (pos > CSV_CHUNK_BYTES / 2) {
        yield buf.subarray(0, pos);
        buf = Buffer.allocUnsafe(CSV_CHUNK_BYTES);
        pos = 0;
      }
    }
    if (pos > 0) yield buf.subarray(0, pos);
  }
  return Readable.from(chunks(), { objectMode: false });
}

/** Resolves true when `stream` drains, false when it closes first (or already has). */
function drainedOrClosed(stream: PassThrough): Promise<boolean> {
  if (stream.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const finish = (drained: boolean) => {
      stream.off('drain', onDrain);
      stream.off('close', onClose);
      resolve(drained);
    };
    const onDrain = () => finish(true);
    const onClose = () => finish(false);
    stream.on('drain', onDrain);
    stream.on('close', onClose);
  });
}

export function xlsxStream<T>(columns: Column<T>[], pages: AsyncIterable<T[]>, sheetName = 'data'): Readable {
  const out = new PassThrough();
  (async () => {
    const ExcelJS = await loadExcel();
    // Styles only when a column holds dates (a number format is a style).
    const dated = columns.some((c) => c.date);
    const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: dated, useSharedStrings: false });
    const sheet = workbook.addWorksheet(sheetName.slice(0, 31));
    if (dated) sheet.columns = columns.map((c) => (c.date ? { style: { numFmt: XLSX_DATE_FORMATS[c.date] } } : {}));
    sheet.addRow(columns.map((c) => c.header)).commit();
    const cell = (c: Column<T>, row: T) => xlsxCell(c.date ? xlsxDate(c.value(row)) : c.value(row));
    for await (const rows of pages) {
      for (const row of rows) sheet.addRow(columns.map((c) => cell(c, row))).commit();
      // Let the client catch up before fetching the next page: memory stays flat. An aborted
      // download closes the stream without 'drain'; leaving the loop then ends the row source
      // (its finally releases a database client it holds).
      if (out.writableNeedDrain && !(await drainedOrClosed(out))) return;
      if (out.destroyed) return;
    }
    sheet.commit();
    await workbook.commit();
  })().catch((error: unknown) => out.destroy(error as Error));
  return out;
}

/** Sends an export: the right content type, a file name, and the rows streamed. */
export function sendExport<T>(
  reply: FastifyReply,
  format: ExportFormat,
  name: string,
  columns: Column<T>[],
  pages: AsyncIterable<T[]>,
  sep = ',',
  decimal: '.' | ',' = decimalFor(sep),
) {
  if (format === 'csv') return sendCsv(reply, name, csvStream(columns, pages, sep, decimal));
  reply.type(XLSX_TYPE).header('content-disposition', `attachment; filename="${name}.xlsx"`);
  return reply.send(xlsxStream(columns, pages, name));
}

/** Sends a CSV stream as a file download. */
export function sendCsv(reply: FastifyReply, name: string, csv: Readable) {
  reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}.csv"`);
  return reply.send(csv);
}

/** Keyset pages: `fetch(cursor)` returns up to `size` rows after `cursor`; `keyOf` gives a row's cursor. */
export async function* keysetPages<Row, Out>(
  fetch: (cursor: unknown[] | undefined, size: number) => Promise<Row[]>,
  keyOf: (row: Row) => unknown[],
  map: (row: Row) => Out,
  size = EXPORT_PAGE_SIZE,
): AsyncGenerator<Out[]> {
  let cursor: unknown[] | undefined;
  for (;;) {
    const rows = await fetch(cursor, size);
    if (rows.length === 0) return;
    yield rows.map(map);
    if (rows.length < size) return;
    cursor = keyOf(rows[rows.length - 1]!);
  }
}

/**
 * Flat columns of an entity schema: localized text becomes one column per language
 * (name.kk, name.ru, name.en), other objects a JSON cell. `T` is the schema's output (the DTO).
 */
export function columnsOf<T>(entity: z.ZodObject): Column<T>[] {
  // A DTO is a plain object with the schema's keys; read its fields by those keys.
  const field = (row: T, key: string): unknown => (row as Record<string, unknown>)[key];
  const columns: Column<T>[] = [];
  for (const [key, schema] of Object.entries(entity.shape)) {
    let s = schema as z.ZodType;
    while (s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodType;
    if (s === LocalizedText) {
      for (const lang of ['kk', 'ru', 'en'] as const) {
        const text = (row: T) => field(row, key) as Record<string, unknown> | null | undefined;
        columns.push({ header: `${key}.${lang}`, value: (row) => text(row)?.[lang] ?? null });
      }
    } else {
      const date = s instanceof z.ZodISODateTime ? 'datetime' : s instanceof z.ZodISODate ? 'date' : undefined;
      columns.push({ header: key, value: (row) => field(row, key), ...(date ? { date } : {}) });
    }
  }
  return columns;
}

/** ?format= of a list: json (default), csv or xlsx; with the CSV separator. */
export const ListExportQueryShape = {
  format: z
    .enum(['json', 'csv', 'xlsx'])
    .optional()
    .describe(
      'csv or xlsx: the list as a file (as do Accept: text/csv and the xlsx Accept type); without ?limit every matching row, streamed.',
    ),
  ...ExportQueryShape,
};

/**
 * A list as an export (src/http/list-pipeline.ts). Without ?limit: every matching row, in keyset
 * pages of EXPORT_PAGE_SIZE starting after ?cursor, a streamed download under the export guard
 * (src/http/export-guard.ts: 503 past EXPORT_CONCURRENCY, cut off when stalled) reading through
 * the exports' own pool (src/db/export-handle.ts). With ?limit: that one page, the next in the Link
 * header (rel="next") and X-Next-Cursor, an ordinary request on `db`. `watermark` gives the weak
 * ETag (src/http/export-etag.ts), read from the same handle as the rows; If-None-Match naming it
 * answers 304.
 */
export async function sendListExport<Row, Dto>(
  request: FastifyRequest,
  reply: FastifyReply,
  format: ExportFormat,
  o: {
    name: string;
    columns: Column<Dto>[];
    /** The handle the route reads from; a streamed export reads through its export twin. */
    db: Db;
    limit: number;
    start: unknown[] | undefined;
    watermark?: (db: Db) => Promise<string>;
    fetch: (db: Db, cursor: unknown[] | undefined, size: number) => Promise<Row[]>;
    keyOf: (row: Row) => unknown[];
    toDto: (row: Row) => Dto;
    encode: (key: unknown[]) => string;
    sep?: string;
    /** The decimal mark (decimalFor: the separator's, or the one asked for). */
    decimal?: '.' | ',';
  },
) {
  const streamed = !limitGiven(request);
  if (streamed) request.server.exportGuard.enter(request, reply);
  const db = streamed ? exportHandleOf(o.db) : o.db;
  if (o.watermark && (await exportNotModified(request, reply, o.watermark(db)))) return reply.code(304).send(null);
  if (!streamed) {
    const rows = await o.fetch(db, o.start, o.limit + 1);
    setNextLink(request, reply, rows.length > o.limit ? o.encode(o.keyOf(rows[o.limit - 1]!)) : null);
    return sendExport(reply, format, o.name, o.columns, onePage(rows.slice(0, o.limit).map(o.toDto)), o.sep, o.decimal);
  }
  const pages = keysetPages((cursor, size) => o.fetch(db, cursor ?? o.start, size), o.keyOf, o.toDto);
  return sendExport(reply, format, o.name, o.columns, pages, o.sep, o.decimal);
}

/** One page of rows as the page source of an export. */
export async function* onePage<T>(items: T[]): AsyncGenerator<T[]> {
  yield items;
}
