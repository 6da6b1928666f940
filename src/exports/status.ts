/**
 * The flat status feed as an export: the columns of the CSV feed, every matching row streamed.
 *
 * On PostgreSQL the rows come from one query through a server-side cursor (src/db/cursor.ts):
 * the database plans and runs the feed once instead of once per page, and rows arrive as arrays
 * (no driver objects, no ORM mapping on this hot path). CSV there takes the faster path of
 * status-csv.ts (raw text rows written into lines without an object per row); XLSX builds
 * flat status objects for exceljs. PGlite has one connection, which a long transaction would
 * hold against every other request: there the rows come in keyset pages instead.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/client.js';
import type { Scoring } from '../status/assemble.js';
import { toFlatIndicatorStatus } from '../status/assemble.js';
import { rowDecoder } from '../status/read-model.js';
import { DEFAULT_RULES } from '../achievement/methods.js';
import { loadRuleBook, rulesOf } from '../evaluation-methods/service.js';
import type { Scorer } from './status-csv.js';
import type { FeedRow } from '../status/queries.js';
import { statusExportQuery, statusFeed } from '../status/queries.js';
import type { StatusFilter } from '../status/read-model.js';
import { statusCsvSource, statusCsvStream } from './status-csv.js';
import { cursorBatches, pgPoolOf } from '../db/cursor.js';
import { exportNotModified } from '../http/export-etag.js';
import { exportHandleOf } from '../db/export-handle.js';
import { statusExportWatermark } from '../status/watermark.js';
import type { FlatIndicatorStatus } from '../status/schemas.js';
import { LABELS } from '../reports/labels.js';
import type { Lang } from '../shared/lang.js';
import { resolveText } from '../shared/lang.js';
import type { Column, ExportFormat } from './tabular.js';
import { decimalFor, EXPORT_PAGE_SIZE, keysetPages, sendCsv, sendExport } from './tabular.js';

/** The evaluation method's columns (issue 18), after today's: band is the band's code. */
export const METHOD_CSV_HEADERS = ['weight', 'degree', 'band', 'gap', 'scoreTrend', 'overdue'] as const;

/** The header of every status CSV and XLSX (streamed, paged and the bench's): one column per IndicatorStatus field shown. */
export const STATUS_CSV_HEADERS = [
  'organizationId',
  'planId',
  'directionId',
  'goalId',
  'indicatorId',
  'code',
  'name',
  'unit',
  'valueType',
  'betterWhen',
  'year',
  'plan',
  'fact',
  'ratingSize',
  'score',
  'status',
  'achievementPercent',
  'deviation',
  'previousFact',
  'trend',
  'percentile',
  'previousPercentile',
  // ---- evaluation methods (issue 18): kept as one block at the end ----
  ...METHOD_CSV_HEADERS,
] as const;

// --- issue 15: analysis-ready columns, each after the column it describes ---------------------------
/** Codes and names next to the ids, the status label next to the stable status code. */
const STATUS_CSV_ADDITIONS: Partial<Record<(typeof STATUS_CSV_HEADERS)[number], readonly string[]>> = {
  organizationId: ['organizationCode', 'organizationName'],
  planId: ['planCode', 'planTitle'],
  directionId: ['directionCode', 'directionTitle'],
  goalId: ['goalCode', 'goalTitle'],
  status: ['statusLabel'],
};
/** The header of every status CSV and XLSX: STATUS_CSV_HEADERS with the additions in place. */
export const STATUS_EXPORT_HEADERS: readonly string[] = STATUS_CSV_HEADERS.flatMap((h) => [
  h,
  ...(STATUS_CSV_ADDITIONS[h] ?? []),
]);
/** Localized text of a flat row, shown resolved to the export's language. */
const LOCALIZED = new Set<string>(['name', 'unit', 'organizationName', 'planTitle', 'directionTitle', 'goalTitle']);
// ---------------------------------------------------------------------------------------------------

/** Free text; every other column is a UUID, a code, an enum or a number (CSV needs no checks for those). */
const TEXT = new Set<string>(['code', 'statusLabel', ...LOCALIZED]);

export function statusColumns(lang: Lang): Column<FlatIndicatorStatus>[] {
  const labels = LABELS[lang].verdicts;
  return STATUS_EXPORT_HEADERS.map((key) => ({
    header: key,
    kind: TEXT.has(key) ? ('text' as const) : ('plain' as const),
    value: LOCALIZED.has(key)
      ? (row: FlatIndicatorStatus) => resolveText(row[key as 'name'], lang)
      : key === 'statusLabel'
        ? (row: FlatIndicatorStatus) => labels[row.status]
        : key === 'band'
          ? (row: FlatIndicatorStatus) => row.band?.code ?? null
          : (row: FlatIndicatorStatus) => row[key as keyof FlatIndicatorStatus],
  }));
}

/** A row's scoring in an export: rows of any plan stream past, so the (small) rule book is read once up front. */
async function exportScorer(db: Db): Promise<Scorer> {
  const book = await loadRuleBook(db);
  const now = new Date();
  const empty = book.byVersion.size === 0;
  const fallback: Scoring = { rules: DEFAULT_RULES, now };
  return (row) => (empty ? fallback : { rules: rulesOf(book, row).rules, now });
}

/**
 * Rows per FETCH (PostgreSQL); tests make both sizes small to cross many batches. 1,000 rather than 5,000: the rows of a batch (and of the two prefetched) are live at
 * every minor garbage collection, and with 5,000 they were copied and promoted to the old
 * generation by the megabyte (measured on a busy 2-core VM: more scavenge time and a higher peak RSS;
 * the round trip per FETCH is hidden by the prefetch).
 */
export const exportTuning = {
  fetchRows: 1000,
  /** Keyset page size (PGlite): every page is a query of its own there, so fewer and larger. */
  pageRows: EXPORT_PAGE_SIZE,
};

/** The text-resolved columns of statusExportQuery, back as LocalizedText `{ [lang]: text }` (resolveText reads it back unchanged). */
const RESOLVED = ['name', 'unit', 'organizationName', 'planTitle', 'directionTitle', 'goalTitle'] as const;

/**
 * Export rows (arrays, in `keys` order) to flat status rows. Names arrive as text already resolved
 * to the language (statusExportQuery); group and note are not selected.
 */
function rowsToStatus(keys: string[], lang: Lang | undefined, scorer: Scorer): (r: unknown[]) => FlatIndicatorStatus {
  const l = lang ?? 'kk';
  const resolvedAt = RESOLVED.map((key) => keys.indexOf(key));
  if (resolvedAt.some((i) => i < 0)) throw new Error('the export query selects every resolved name');
  const decode = rowDecoder<FeedRow>(keys);
  return (r) => {
    const row = decode(r);
    const named = row as unknown as Record<string, unknown>;
    for (let k = 0; k < RESOLVED.length; k++) {
      const text = r[resolvedAt[k]!];
      named[RESOLVED[k]!] = text === null ? {} : { [l]: text as string };
    }
    row.year = Number(row.year); // a fresh object: no copy of the row for one field
    return toFlatIndicatorStatus(row, lang, scorer(row));
  };
}

/** Every feed row matching the filters as flat status batches, in the natural order. */
export async function* statusFeedBatches(
  db: Db,
  filters: StatusFilter,
  lang: Lang | undefined,
): AsyncGenerator<FlatIndicatorStatus[]> {
  const pool = pgPoolOf(db);
  const scorer = await exportScorer(db);
  if (pool) {
    const q = statusExportQuery(filters, lang ?? 'kk');
    const toStatus = rowsToStatus(q.keys, lang, scorer);
    for await (const rows of cursorBatches(pool, q.text, q.values, exportTuning.fetchRows)) {
      const out = new Array<FlatIndicatorStatus>(rows.length);
      for (let i = 0; i < rows.length; i++) out[i] = toStatus(rows[i]!);
      yield out;
    }
    return;
  }
  yield* keysetPages(
    async (cursor, n) => (await statusFeed(db, { filter: filters, limit: n - 1, cursor })).slice(0, n),
    (row) => row.naturalPosition,
    (row) => toFlatIndicatorStatus(row, lang, scorer(row)),
    exportTuning.pageRows,
  );
}

/**
 * Every feed row matching the filters, streamed (see the top of this file), with its weak ETag
 * (src/http/export-etag.ts) computed first: If-None-Match naming it answers 304 without running
 * the export, and the file is never older than its tag. Bounded by the export guard: one over
 * EXPORT_CONCURRENCY answers 503, a stalled client is cut off.
 */
export async function sendStatusExport(
  request: FastifyRequest,
  reply: FastifyReply,
  db: Db,
  format: ExportFormat,
  filters: StatusFilter,
  lang: Lang | undefined,
  sep = ',',
  decimal: '.' | ',' = decimalFor(sep),
) {
  // Admitted (or refused with 503) before any database work; from here on everything reads
  // through the exports' own pool (src/http/export-guard.ts, src/db/export-handle.ts).
  request.server.exportGuard.enter(request, reply);
  db = exportHandleOf(db);
  if (await exportNotModified(request, reply, statusExportWatermark(db, filters))) return reply.code(304).send(null);
  const pool = pgPoolOf(db);
  if (format === 'csv' && pool) {
    const scorer = await exportScorer(db);
    const format = { sep, decimal, lang: lang ?? 'kk' } as const;
    const source = statusCsvSource(pool, filters, format, exportTuning.fetchRows);
    return sendCsv(reply, 'status', statusCsvStream(source, format, STATUS_EXPORT_HEADERS, scorer));
  }
  return sendExport(
    reply,
    format,
    'status',
    statusColumns(lang ?? 'kk'),
    statusFeedBatches(db, filters, lang),
    sep,
    decimal,
  );
}
