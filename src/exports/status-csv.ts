/**
 * The status feed as CSV on PostgreSQL: the hot path of a BI tool pulling a whole year.
 *
 * PostgreSQL writes the first eleven columns of every line (ids, codes, text: nothing computed)
 * and sends them as one text with the values the achievement rules need (statusCsvQuery). Node
 * only runs the rules (achievement/compute.ts, the same as everywhere) and appends their columns.
 * Rows come through a server-side cursor as raw text: no type parsing, no object per row. The
 * bytes are the same as the generic encoder's (tabular.ts over IndicatorStatus objects), which
 * PGlite and XLSX still use; tests/api/exports-stream.test.ts holds both to the JSON feed.
 */
import type { Pool } from 'pg';
import type { Readable } from 'node:stream';
import { computeIndicatorStatus } from '../achievement/compute.js';
import type { BetterWhen, ValueType } from '../achievement/compute.js';
import { cursorBatches } from '../db/cursor.js';
import type { Lang } from '../shared/lang.js';
import { decimalToNumber } from '../shared/decimal.js';
import type { ExportFilters } from './status-query.js';
import { CSV_ROW, statusCsvQuery } from './status-query.js';
import type { Db } from '../db/client.js';
import { csvHeader, csvLineStream } from './tabular.js';

/** A number cell as the generic encoder writes IndicatorStatus numbers: the JSON number's text. */
const numberCell = (n: number | null) => (n === null ? '' : `${n}`);

/** A stored numeric (text) as the JSON number the API shows for it. */
const decimalCell = (text: string | null) => numberCell(decimalToNumber(text));

/** One CSV line (without its CRLF) from a statusCsvQuery row. */
export function statusCsvLine(sep: string): (row: unknown[]) => string {
  return (r) => {
    const plan = r[CSV_ROW.plan] as string | null;
    const fact = r[CSV_ROW.fact] as string | null;
    const ratingSize = r[CSV_ROW.ratingSize] as string | null;
    const previousFact = r[CSV_ROW.previousFact] as string | null;
    const d = computeIndicatorStatus({
      valueType: r[CSV_ROW.valueType] as ValueType,
      betterWhen: r[CSV_ROW.betterWhen] as BetterWhen,
      plan,
      fact,
      ratingSize,
      previousFact,
      previousRatingSize: r[CSV_ROW.previousRatingSize] as string | null,
    });
    return (
      `${r[CSV_ROW.line] as string}${sep}${decimalCell(plan)}${sep}${decimalCell(fact)}${sep}${ratingSize ?? ''}${sep}` +
      `${decimalCell(r[CSV_ROW.score] as string | null)}${sep}${d.status}${sep}${numberCell(d.achievementPercent)}${sep}` +
      `${numberCell(d.deviation)}${sep}${numberCell(d.previousFact)}${sep}${d.trend ?? ''}${sep}${numberCell(d.percentile)}${sep}` +
      numberCell(d.previousPercentile)
    );
  };
}

/** Every feed row matching the filters as CSV, `headers` first. */
export function statusCsvStream(
  pool: Pool,
  db: Db,
  filters: ExportFilters,
  lang: Lang,
  sep: string,
  headers: readonly string[],
  batchRows: number,
): Readable {
  const q = statusCsvQuery(db, filters, lang, sep);
  return csvLineStream(csvHeader(headers, sep), cursorBatches(pool, q.sql, q.params, batchRows, { raw: true }), statusCsvLine(sep));
}
