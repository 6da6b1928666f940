/** RFC 4180 CSV of the flat status feed. A BOM makes Excel read UTF-8 (Kazakh letters). */
import type { IndicatorStatus } from './schemas.js';
import type { Lang } from '../shared/lang.js';
import { resolveText } from '../shared/lang.js';

const COLUMNS = [
  'organizationId', 'planId', 'directionId', 'goalId', 'indicatorId', 'code', 'name', 'unit', 'valueType', 'betterWhen',
  'year', 'plan', 'fact', 'ratingSize', 'score', 'status', 'achievementPercent', 'deviation', 'previousFact', 'trend',
  'percentile', 'previousPercentile',
] as const;

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const s = String(value);
  // Quote what would break the row, and neutralize spreadsheet formulas (CSV injection).
  const safe = /^[=+\-@\t\r]/.test(s) && typeof value === 'string' ? `'${s}` : s;
  return /[",\r\n;]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function statusCsv(rows: IndicatorStatus[], lang: Lang): string {
  const lines = [COLUMNS.join(',')];
  for (const row of rows) {
    lines.push(
      COLUMNS.map((c) => {
        if (c === 'name' || c === 'unit') return cell(resolveText(row[c], lang));
        return cell(row[c]);
      }).join(','),
    );
  }
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}
