/** The flat status feed as an export: the columns of the CSV feed, every matching row streamed. */
import type { FastifyReply } from 'fastify';
import type { Db } from '../db/client.js';
import { toIndicatorStatus } from '../status/assemble.js';
import type { FeedFilters } from '../status/queries.js';
import { statusFeed } from '../status/queries.js';
import type { IndicatorStatus } from '../status/schemas.js';
import type { Lang } from '../shared/lang.js';
import { resolveText } from '../shared/lang.js';
import type { Column, ExportFormat } from './tabular.js';
import { EXPORT_PAGE_SIZE, keysetPages, sendExport } from './tabular.js';

/** Same columns, in the same order, as the paged CSV feed (src/status/csv.ts). */
const KEYS = [
  'organizationId', 'planId', 'directionId', 'goalId', 'indicatorId', 'code', 'name', 'unit', 'valueType', 'betterWhen',
  'year', 'plan', 'fact', 'ratingSize', 'score', 'status', 'achievementPercent', 'deviation', 'previousFact', 'trend',
  'percentile', 'previousPercentile',
] as const;

export function statusColumns(lang: Lang): Column<IndicatorStatus>[] {
  return KEYS.map((key) => ({
    header: key,
    value: (row: IndicatorStatus) => (key === 'name' || key === 'unit' ? resolveText(row[key], lang) : row[key]),
  }));
}

export async function* onePage<T>(items: T[]): AsyncGenerator<T[]> {
  yield items;
}

/** Every feed row matching the filters, fetched EXPORT_PAGE_SIZE at a time by keyset (year, indicatorId). */
export function streamStatusFeed(
  reply: FastifyReply,
  db: Db,
  format: ExportFormat,
  filters: Omit<FeedFilters, 'limit' | 'cursor'>,
  lang: Lang | undefined,
  sep = ',',
) {
  const pages = keysetPages(
    async (cursor, size) => (await statusFeed(db, { ...filters, limit: size - 1, cursor })).slice(0, size),
    (row) => [row.year, row.indicatorId],
    (row) =>
      toIndicatorStatus(
        row,
        { planId: row.planId, directionId: row.directionId, organizationId: row.organizationId, year: row.year, approved: row.approved },
        lang,
      ),
    EXPORT_PAGE_SIZE,
  );
  return sendExport(reply, format, 'status', statusColumns(lang ?? 'kk'), pages, sep);
}
