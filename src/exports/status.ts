/**
 * The flat status feed as an export: the columns of the CSV feed, every matching row streamed.
 *
 * On PostgreSQL the rows come from one query through a server-side cursor (src/db/cursor.ts):
 * the database plans and runs the feed once instead of once per page, and rows arrive as arrays
 * (no driver objects, no ORM mapping on this hot path). CSV there takes the faster path of
 * status-csv.ts (raw text rows written into lines without an object per row); XLSX builds
 * IndicatorStatus objects for exceljs. PGlite has one connection, which a long transaction would
 * hold against every other request: there the rows come in keyset pages instead.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/client.js';
import { toIndicatorStatus } from '../status/assemble.js';
import type { FeedRow } from '../status/queries.js';
import { statusCsvQuery, statusExportQuery, statusFeed } from '../status/queries.js';
import type { StatusFilter } from '../status/read-model.js';
import { statusCsvStream } from './status-csv.js';
import { cursorBatches, pgPoolOf } from '../db/cursor.js';
import { exportNotModified } from '../http/export-etag.js';
import { exportHandleOf } from '../db/export-handle.js';
import { statusExportWatermark } from '../status/watermark.js';
import type { IndicatorStatus } from '../status/schemas.js';
import type { Lang } from '../shared/lang.js';
import { resolveText } from '../shared/lang.js';
import type { Column, ExportFormat } from './tabular.js';
import { EXPORT_PAGE_SIZE, keysetPages, sendCsv, sendExport } from './tabular.js';

/** The header of every status CSV and XLSX (streamed, paged and the bench's): one column per IndicatorStatus field shown. */
export const STATUS_CSV_HEADERS = [
  'organizationId', 'planId', 'directionId', 'goalId', 'indicatorId', 'code', 'name', 'unit', 'valueType', 'betterWhen',
  'year', 'plan', 'fact', 'ratingSize', 'score', 'status', 'achievementPercent', 'deviation', 'previousFact', 'trend',
  'percentile', 'previousPercentile',
] as const;

/** Free text; every other column is a UUID, an enum or a number (CSV needs no checks for those). */
const TEXT = new Set<string>(['code', 'name', 'unit']);

export function statusColumns(lang: Lang): Column<IndicatorStatus>[] {
  return STATUS_CSV_HEADERS.map((key) => ({
    header: key,
    kind: TEXT.has(key) ? ('text' as const) : ('plain' as const),
    value:
      key === 'name' || key === 'unit' ? (row: IndicatorStatus) => resolveText(row[key], lang) : (row: IndicatorStatus) => row[key],
  }));
}

export async function* onePage<T>(items: T[]): AsyncGenerator<T[]> {
  yield items;
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

/**
 * Export rows (arrays, in `keys` order) to IndicatorStatus. Name and unit arrive as text already
 * resolved to the language (status-query.ts), so they become `{ [lang]: text }`, which
 * resolveText() reads back unchanged; group and note are not selected.
 */
function rowsToStatus(keys: string[], lang: Lang | undefined): (r: unknown[]) => IndicatorStatus {
  const l = lang ?? 'kk';
  const localized = (text: unknown) => (text === null ? {} : { [l]: text as string });
  const at = (key: keyof FeedRow) => {
    const i = keys.indexOf(key);
    if (i < 0) throw new Error(`the feed query selects no ${key}`);
    return i;
  };
  const [indicatorId, goalId, code, name, unit, group, valueType, betterWhen, plan, fact, ratingSize, score, note, previousFact, previousRatingSize] = (
    ['indicatorId', 'goalId', 'code', 'name', 'unit', 'group', 'valueType', 'betterWhen', 'plan', 'fact', 'ratingSize', 'score', 'note', 'previousFact', 'previousRatingSize'] as const
  ).map(at) as number[];
  const [planId, directionId, organizationId, year, approved] = (['planId', 'directionId', 'organizationId', 'year', 'approved'] as const).map(at) as number[];
  return (r) =>
    toIndicatorStatus(
      {
        indicatorId: r[indicatorId!] as FeedRow['indicatorId'],
        goalId: r[goalId!] as FeedRow['goalId'],
        code: r[code!] as FeedRow['code'],
        name: localized(r[name!]),
        unit: localized(r[unit!]),
        group: r[group!] as FeedRow['group'],
        valueType: r[valueType!] as FeedRow['valueType'],
        betterWhen: r[betterWhen!] as FeedRow['betterWhen'],
        plan: r[plan!] as FeedRow['plan'],
        fact: r[fact!] as FeedRow['fact'],
        ratingSize: r[ratingSize!] as FeedRow['ratingSize'],
        score: r[score!] as FeedRow['score'],
        note: r[note!] as FeedRow['note'],
        previousFact: r[previousFact!] as FeedRow['previousFact'],
        previousRatingSize: r[previousRatingSize!] as FeedRow['previousRatingSize'],
      },
      {
        planId: r[planId!] as string,
        directionId: r[directionId!] as string,
        organizationId: r[organizationId!] as string,
        year: Number(r[year!]),
        approved: r[approved!] as boolean,
      },
      lang,
    );
}

/** Every feed row matching the filters as IndicatorStatus batches, in feed order. */
export async function* statusFeedBatches(
  db: Db,
  filters: StatusFilter,
  lang: Lang | undefined,
): AsyncGenerator<IndicatorStatus[]> {
  const pool = pgPoolOf(db);
  if (pool) {
    const q = statusExportQuery(filters, lang ?? 'kk');
    const toStatus = rowsToStatus(q.keys, lang);
    for await (const rows of cursorBatches(pool, q.text, q.values, exportTuning.fetchRows)) {
      const out = new Array<IndicatorStatus>(rows.length);
      for (let i = 0; i < rows.length; i++) out[i] = toStatus(rows[i]!);
      yield out;
    }
    return;
  }
  yield* keysetPages(
    async (cursor, n) => (await statusFeed(db, { filter: filters, limit: n - 1, cursor })).slice(0, n),
    (row) => row.naturalPosition,
    (row) => toIndicatorStatus(row, row, lang),
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
) {
  // Admitted (or refused with 503) before any database work; from here on everything reads
  // through the exports' own pool (src/http/export-guard.ts, src/db/export-handle.ts).
  request.server.exportGuard.enter(request, reply);
  db = exportHandleOf(db);
  if (await exportNotModified(request, reply, statusExportWatermark(db, filters))) return reply.code(304).send(null);
  const pool = pgPoolOf(db);
  if (format === 'csv' && pool) {
    const q = statusCsvQuery(filters, lang ?? 'kk', sep);
    return sendCsv(reply, 'status', statusCsvStream(cursorBatches(pool, q.text, q.values, exportTuning.fetchRows, { raw: true }), sep, STATUS_CSV_HEADERS));
  }
  return sendExport(reply, format, 'status', statusColumns(lang ?? 'kk'), statusFeedBatches(db, filters, lang), sep);
}
