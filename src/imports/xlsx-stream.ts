/**
 * Reading the first worksheet of an .xlsx upload without ever holding the unzipped workbook:
 * the zip's central directory names the parts, each part is inflated in chunks (zlib runs on the
 * thread pool) and fed to a SAX parser, and the event loop gets a turn between chunks, so other
 * requests (`/health/live` first) are answered during any import.
 *
 * Limits are checked while streaming, before the work they bound is done: the unzipped size of the
 * parts read (declared sizes first, then every inflated byte; a part that inflates beyond its
 * declared size is refused at once) answers 413, more rows than allowed answers 400. A zip bomb
 * (8 MB that unzips to 257 MB) is refused after reading its central directory.
 *
 * Cells become text as ExcelJS's `cellText` read them before: shared and inline strings (rich
 * text runs joined, phonetic runs skipped), numbers via Number(), booleans "true"/"false",
 * formula results, errors as "".
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import zlib from 'node:zlib';
import { SaxesParser } from 'saxes';
import type { SaxesTagPlain } from 'saxes';
import { DomainError, TooLargeError, invalid } from '../shared/errors.js';

export interface SheetRow {
  /** Row number as the analyst sees it (sheet row, or CSV record number), 1-based. */
  row: number;
  cells: string[];
}

export interface ImportLimits {
  /** Unzipped bytes of the workbook parts read (IMPORT_MAX_UNCOMPRESSED_BYTES); for CSV, the file's bytes. */
  maxUncompressedBytes: number;
  /** Rows with any value (IMPORT_MAX_ROWS). */
  maxRows: number;
}

/** Columns read per row: the layout has 7; a cell at column XFD must not make a 16,384-cell array. */
const MAX_COLUMNS = 32;
/** Unzipped bytes handled between two turns of the event loop. */
const TURN_BYTES = 64 * 1024;

const notXlsx = (why: string) =>
  invalid('The body is not a readable .xlsx workbook.', [{ path: 'body', message: why }]);

export const tooLarge = (limit: number) =>
  new TooLargeError(
    `The file unzips to more than ${limit} bytes (IMPORT_MAX_UNCOMPRESSED_BYTES); split it, or remove what the import does not read.`,
    [{ path: 'body', message: `unzipped size over IMPORT_MAX_UNCOMPRESSED_BYTES = ${limit}` }],
  );

export const tooManyRows = (limit: number) =>
  invalid(`The sheet has more than ${limit} rows with values (IMPORT_MAX_ROWS); split it into several imports.`, [
    { path: 'body', message: `more than IMPORT_MAX_ROWS = ${limit} rows` },
  ]);

interface ZipEntry {
  method: number;
  flags: number;
  compressedSize: number;
  uncompressedSize: number;
  localOffset: number;
}

/** The central directory: part name -> where its bytes are. */
function zipEntries(zip: Buffer): Map<string, ZipEntry> {
  let end = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      end = i;
      break;
    }
  }
  if (end < 0) throw notXlsx('no zip central directory');
  const count = zip.readUInt16LE(end + 10);
  let pos = zip.readUInt32LE(end + 16);
  if (count === 0xffff || pos === 0xffffffff) throw notXlsx('ZIP64 archives are not read');
  const entries = new Map<string, ZipEntry>();
  for (let i = 0; i < count; i++) {
    if (pos + 46 > zip.length || zip.readUInt32LE(pos) !== 0x02014b50) throw notXlsx('damaged zip central directory');
    const nameLength = zip.readUInt16LE(pos + 28);
    const name = zip.toString('utf8', pos + 46, pos + 46 + nameLength);
    entries.set(name.replace(/^\//, ''), {
      flags: zip.readUInt16LE(pos + 8),
      method: zip.readUInt16LE(pos + 10),
      compressedSize: zip.readUInt32LE(pos + 20),
      uncompressedSize: zip.readUInt32LE(pos + 24),
      localOffset: zip.readUInt32LE(pos + 42),
    });
    pos += 46 + nameLength + zip.readUInt16LE(pos + 30) + zip.readUInt16LE(pos + 32);
  }
  return entries;
}

/** Unzipped bytes spent so far against the limit. */
class Budget {
  private used = 0;
  constructor(readonly limit: number) {}
  take(bytes: number) {
    this.used += bytes;
    if (this.used > this.limit) throw tooLarge(this.limit);
  }
}

/**
 * Feeds one part's text to `parser`, chunk by chunk, yielding to the event loop as it goes.
 * `afterChunk` may throw to stop (a limit the handlers noticed: a throw inside a SAX handler would
 * come out as a parse error).
 */
async function parsePart(
  zip: Buffer,
  name: string,
  entry: ZipEntry,
  budget: Budget,
  parser: SaxesParser,
  afterChunk?: () => void,
): Promise<void> {
  if (entry.flags & 1) throw notXlsx(`${name} is encrypted`);
  if (entry.method !== 0 && entry.method !== 8) throw notXlsx(`${name} uses an unsupported compression method`);
  const local = entry.localOffset;
  if (local + 30 > zip.length || zip.readUInt32LE(local) !== 0x04034b50) throw notXlsx('damaged zip entry');
  const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
  const data = zip.subarray(start, start + entry.compressedSize);
  const decoder = new TextDecoder('utf-8');
  let failure: unknown;
  parser.on('error', (error) => {
    failure ??= notXlsx(`${name}: ${error.message.slice(0, 200)}`);
  });
  let produced = 0;
  let sinceTurn = 0;
  const feed = async (chunk: Buffer) => {
    produced += chunk.length;
    // A part larger than the directory said is a lie meant to get past the declared-size check.
    if (produced > entry.uncompressedSize) throw tooLarge(budget.limit);
    budget.take(chunk.length);
    parser.write(decoder.decode(chunk, { stream: true }));
    if (failure) throw failure;
    afterChunk?.();
    sinceTurn += chunk.length;
    if (sinceTurn >= TURN_BYTES) {
      sinceTurn = 0;
      await nextTurn();
    }
  };
  if (entry.method === 0) {
    for (let i = 0; i < data.length; i += 64 * 1024) await feed(data.subarray(i, i + 64 * 1024));
  } else {
    const inflate = zlib.createInflateRaw({ chunkSize: 64 * 1024 });
    inflate.end(data);
    try {
      for await (const chunk of inflate) await feed(chunk as Buffer);
    } catch (error) {
      if (error instanceof DomainError) throw error;
      throw notXlsx(`${name} does not unzip`);
    } finally {
      inflate.destroy();
    }
  }
  parser.write(decoder.decode());
  parser.close();
  if (failure) throw failure;
}

/** Text of `<t>` elements (rich text runs joined), outside phonetic `<rPh>` runs: a string item's value. */
class TextCollector {
  private depthT = 0;
  private depthPhonetic = 0;
  text = '';
  open(tag: string) {
    if (tag === 't') this.depthT++;
    else if (tag === 'rPh') this.depthPhonetic++;
  }
  close(tag: string) {
    if (tag === 't') this.depthT--;
    else if (tag === 'rPh') this.depthPhonetic--;
  }
  add(text: string) {
    if (this.depthT > 0 && this.depthPhonetic === 0) this.text += text;
  }
}

/** Column index (0-based) of a cell reference like "C12". */
function columnOf(ref: string | undefined): number | undefined {
  const letters = /^([A-Z]{1,3})\d*$/i.exec(ref ?? '')?.[1];
  if (!letters) return undefined;
  let n = 0;
  for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

const attr = (tag: SaxesTagPlain, name: string) => tag.attributes[name] as string | undefined;

/** Where the first worksheet and the shared strings live, per workbook.xml and its relationships. */
async function locateParts(zip: Buffer, entries: Map<string, ZipEntry>, budget: Budget) {
  const part = (name: string) => {
    const entry = entries.get(name);
    if (!entry) throw notXlsx(`no ${name} in the archive`);
    return entry;
  };
  let firstSheetRel: string | undefined;
  const workbook = new SaxesParser();
  workbook.on('opentag', (tag) => {
    if (tag.name === 'sheet' && firstSheetRel === undefined) firstSheetRel = attr(tag, 'r:id') ?? '';
  });
  await parsePart(zip, 'xl/workbook.xml', part('xl/workbook.xml'), budget, workbook);
  if (firstSheetRel === undefined)
    throw invalid('The workbook has no worksheet.', [{ path: 'body', message: 'no worksheet' }]);
  const targets = new Map<string, string>();
  let sharedStrings: string | undefined;
  const rels = new SaxesParser();
  rels.on('opentag', (tag) => {
    if (tag.name !== 'Relationship') return;
    const target = attr(tag, 'Target') ?? '';
    const resolved = target.startsWith('/') ? target.slice(1) : `xl/${target.replace(/^\.\//, '')}`;
    targets.set(attr(tag, 'Id') ?? '', resolved);
    if ((attr(tag, 'Type') ?? '').endsWith('/sharedStrings')) sharedStrings = resolved;
  });
  await parsePart(zip, 'xl/_rels/workbook.xml.rels', part('xl/_rels/workbook.xml.rels'), budget, rels);
  const sheet = targets.get(firstSheetRel);
  if (!sheet) throw notXlsx('the first sheet has no part');
  return {
    sheet,
    sheetEntry: part(sheet),
    sharedStrings,
    sharedEntry: sharedStrings ? entries.get(sharedStrings) : undefined,
  };
}

export async function readXlsxStreaming(zip: Buffer, limits: ImportLimits): Promise<SheetRow[]> {
  const entries = zipEntries(zip);
  const budget = new Budget(limits.maxUncompressedBytes);
  const { sheet, sheetEntry, sharedStrings, sharedEntry } = await locateParts(zip, entries, budget);
  // The declared sizes first: a bomb is refused before a byte of it is inflated.
  const declared = sheetEntry.uncompressedSize + (sharedEntry?.uncompressedSize ?? 0);
  if (declared > limits.maxUncompressedBytes) throw tooLarge(limits.maxUncompressedBytes);

  const shared: string[] = [];
  if (sharedStrings && sharedEntry) {
    const parser = new SaxesParser();
    let item: TextCollector | undefined;
    parser.on('opentag', (tag) => {
      if (tag.name === 'si') item = new TextCollector();
      else item?.open(tag.name);
    });
    parser.on('closetag', (tag) => {
      if (tag.name === 'si') {
        shared.push(item?.text ?? '');
        item = undefined;
      } else item?.close(tag.name);
    });
    parser.on('text', (text) => item?.add(text));
    parser.on('cdata', (text) => item?.add(text));
    await parsePart(zip, sharedStrings, sharedEntry, budget, parser);
  }

  const rows: SheetRow[] = [];
  let tooMany = false;
  let row: { number: number; cells: string[] } | undefined;
  let lastRow = 0;
  let cell: { column: number; type: string; value: string; inline?: TextCollector; inValue: boolean } | undefined;
  let nextColumn = 0;
  const parser = new SaxesParser();
  parser.on('opentag', (tag) => {
    switch (tag.name) {
      case 'row': {
        const number = Number(attr(tag, 'r'));
        row = { number: Number.isSafeInteger(number) && number > 0 ? number : lastRow + 1, cells: [] };
        nextColumn = 0;
        break;
      }
      case 'c': {
        const column = columnOf(attr(tag, 'r')) ?? nextColumn;
        nextColumn = column + 1;
        cell = { column, type: attr(tag, 't') ?? 'n', value: '', inValue: false };
        break;
      }
      case 'v':
        if (cell) cell.inValue = true;
        break;
      case 'is':
        if (cell) cell.inline = new TextCollector();
        break;
      default:
        cell?.inline?.open(tag.name);
    }
  });
  const onText = (text: string) => {
    if (!cell) return;
    if (cell.inValue) cell.value += text;
    else cell.inline?.add(text);
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('closetag', (tag) => {
    switch (tag.name) {
      case 'v':
        if (cell) cell.inValue = false;
        break;
      case 'c': {
        if (row && cell && cell.column < MAX_COLUMNS)
          row.cells[cell.column] = cellText(cell.type, cell.value, cell.inline?.text, shared);
        cell = undefined;
        break;
      }
      case 'row': {
        if (!row) break;
        lastRow = row.number;
        const cells = Array.from(row.cells, (c) => c ?? '');
        if (cells.some((c) => c !== '')) {
          if (rows.length >= limits.maxRows) tooMany = true;
          else rows.push({ row: row.number, cells });
        }
        row = undefined;
        break;
      }
      default:
        cell?.inline?.close(tag.name);
    }
  });
  await parsePart(zip, sheet, sheetEntry, budget, parser, () => {
    if (tooMany) throw tooManyRows(limits.maxRows);
  });
  if (tooMany) throw tooManyRows(limits.maxRows);
  return rows;
}

function cellText(type: string, value: string, inline: string | undefined, shared: string[]): string {
  switch (type) {
    case 's':
      return shared[Number(value)] ?? '';
    case 'inlineStr':
      return inline ?? value;
    case 'str':
      return value;
    case 'b':
      return value === '1' || value === 'true' ? 'true' : 'false';
    case 'e':
      return '';
    case 'd':
      return value.slice(0, 10);
    default: {
      if (value.trim() === '') return '';
      const n = Number(value);
      return Number.isFinite(n) ? String(n) : value;
    }
  }
}
