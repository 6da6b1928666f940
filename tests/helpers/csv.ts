/** Reading the CSV exports back in tests. */

/** The status feed's CSV columns, in order (what BI tools see as the header). */
export const STATUS_COLUMNS = [
  'organizationId', 'planId', 'directionId', 'goalId', 'indicatorId', 'code', 'name', 'unit', 'valueType', 'betterWhen',
  'year', 'plan', 'fact', 'ratingSize', 'score', 'status', 'achievementPercent', 'deviation', 'previousFact', 'trend',
  'percentile', 'previousPercentile',
  // Evaluation methods (issue 18); band is the band's code.
  'weight', 'degree', 'band', 'gap', 'scoreTrend', 'overdue',
];

/** A minimal RFC 4180 reader: quoted cells, doubled quotes, CRLF line ends. */
export function parseCsv(text: string, sep: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === sep) row.push(cell), (cell = '');
    else if (ch === '\r') continue;
    else if (ch === '\n') row.push(cell), rows.push(row), (row = []), (cell = '');
    else cell += ch;
  }
  return rows;
}
