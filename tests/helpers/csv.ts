/** Reading the CSV exports back in tests. */

/** The status feed's CSV columns, in order (what BI tools see as the header). */
export const STATUS_COLUMNS = [
  'organizationId',
  'organizationCode',
  'organizationName',
  'planId',
  'planCode',
  'planTitle',
  'directionId',
  'directionCode',
  'directionTitle',
  'goalId',
  'goalCode',
  'goalTitle',
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
  'statusLabel',
  'achievementPercent',
  'deviation',
  'previousFact',
  'trend',
  'percentile',
  'previousPercentile',
  // Evaluation methods (issue 18); band is the band's code.
  'weight',
  'degree',
  'band',
  'gap',
  'scoreTrend',
  'overdue',
];

type Lang = 'kk' | 'ru' | 'en';
/** The status labels of the export (src/reports/labels.ts verdicts), written out here as a reader sees them. */
const STATUS_LABELS: Record<Lang, Record<string, string>> = {
  kk: {
    achieved: 'Орындалды',
    not_achieved: 'Орындалмады',
    pending: 'Орындау барысында',
    no_target: 'Жоспарлы мән белгіленбеген',
  },
  ru: {
    achieved: 'Достигнут',
    not_achieved: 'Не достигнут',
    pending: 'В процессе достижения',
    no_target: 'Плановое значение не установлено',
  },
  en: { achieved: 'Achieved', not_achieved: 'Not achieved', pending: 'In progress', no_target: 'No target set' },
};
const LOCALIZED = new Set(['organizationName', 'planTitle', 'directionTitle', 'goalTitle', 'name', 'unit']);

/** Localized text resolved as the API does: the language, then kk, ru, en. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies in tests
export const resolveIn = (t: any, lang: Lang): string | null => (t ? t[lang] || t.kk || t.ru || t.en || null : null);

/**
 * A JSON feed row's value for a status export column, as XLSX holds it (numbers as numbers) or,
 * with `decimal`, as CSV text ("" for null, a decimal comma when asked).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies in tests
export function statusValue(row: any, key: string, lang: Lang = 'kk'): unknown {
  if (LOCALIZED.has(key)) return resolveIn(row[key], lang);
  if (key === 'statusLabel') return STATUS_LABELS[lang][row.status as string];
  if (key === 'band') return row.band?.code ?? null;
  return row[key];
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies in tests
export function statusCells(row: any, lang: Lang = 'kk', decimal: '.' | ',' = '.'): string[] {
  return STATUS_COLUMNS.map((key) => {
    const v = statusValue(row, key, lang);
    if (v === null || v === undefined) return '';
    return typeof v === 'number' && decimal === ',' ? String(v).replace('.', ',') : String(v);
  });
}

/** A minimal RFC 4180 reader: quoted cells (holding separators, quotes, newlines), doubled quotes, CRLF line ends. */
export function parseCsv(text: string, sep = ','): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  const endCell = () => {
    row.push(cell);
    cell = '';
  };
  const endRow = () => {
    endCell();
    rows.push(row);
    row = [];
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === sep) endCell();
    else if (ch === '\r') continue;
    else if (ch === '\n') endRow();
    else cell += ch;
  }
  if (cell !== '' || row.length > 0) endRow();
  return rows;
}
