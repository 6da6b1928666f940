/**
 * The CSV export's fast path (src/exports/status-csv.ts) against the generic encoder over
 * IndicatorStatus objects (what PGlite and every other export use): the same line, byte for byte,
 * for any stored values and text. The five ids arrive joined from SQL (statusCsvQuery);
 * tests/api/exports-stream.test.ts holds the whole export to the JSON feed on PostgreSQL.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BetterWhen, ValueType } from '../../src/achievement/compute.js';
import { statusColumns } from '../../src/exports/status.js';
import { statusCsvLine } from '../../src/exports/status-csv.js';
import { CSV_ROW } from '../../src/status/queries.js';
import { csvLineEncoder } from '../../src/exports/tabular.js';
import { toIndicatorStatus } from '../../src/status/assemble.js';

const ID = '00000000-0000-4000-8000-000000000000';

/** numeric text as PostgreSQL prints it: sign, digits, optional fraction (trailing zeros kept). */
const numeric = fc.oneof(
  fc.constant(null),
  fc.constantFrom('0', '0.00', '-0.5', '100', '99.995', '1e-7', '0.0000001', '123456789012345678901234.5', '-17.25', '176', '1'),
  fc.tuple(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.integer({ min: 0, max: 6 })).map(([m, k]) => {
    const digits = (m < 0n ? -m : m).toString().padStart(k + 1, '0');
    return `${m < 0n ? '-' : ''}${k === 0 ? digits : `${digits.slice(0, -k)}.${digits.slice(-k)}`}`;
  }),
);
const ratingSize = fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 100_000 }));
/** Text made to break a CSV line: separators, quotes, line breaks, formula starts, Kazakh letters. */
const text = fc.oneof(
  fc.constantFrom('Үлес', '=1+2', '+SUM(A1)', '-3', '@cmd', '\tTAB', '\rCR', 'a,b', 'a;b', 'quote "q"', 'line\nbreak', '', ' lead'),
  fc.string({ unit: fc.constantFrom('a', 'Ә', ',', ';', '"', '\n', '\r', '=', '-', '@', '\t', ' ') }),
);

describe('status CSV fast path', () => {
  it.each([',', ';'])('writes the computed columns exactly as the generic encoder does (sep %s)', (sep) => {
    const generic = csvLineEncoder(statusColumns('kk'), sep);
    const fast = statusCsvLine(sep);
    fc.assert(
      fc.property(
        fc.constantFrom<ValueType>('percent', 'number', 'rank'),
        fc.constantFrom<BetterWhen>('higher', 'lower'),
        numeric, numeric, ratingSize, numeric, numeric, ratingSize, text, fc.option(text), fc.option(text),
        (valueType, betterWhen, plan, fact, size, score, previousFact, previousSize, code, name, unit) => {
          const status = toIndicatorStatus(
            {
              indicatorId: ID, goalId: ID, code, name: name === null ? {} : { kk: name }, unit: unit === null ? {} : { kk: unit }, group: null,
              valueType, betterWhen, plan, fact, ratingSize: size, score, note: null, previousFact, previousRatingSize: previousSize,
            },
            { planId: ID, directionId: ID, organizationId: ID, year: 2016, approved: false },
          );
          const row: unknown[] = [];
          row[CSV_ROW.ids] = [ID, ID, ID, ID, ID].join(sep);
          // Name and unit come resolved to the language by SQL: null when no language has text.
          row[CSV_ROW.code] = code;
          row[CSV_ROW.name] = name || null;
          row[CSV_ROW.unit] = unit || null;
          row[CSV_ROW.year] = '2016';
          row[CSV_ROW.valueType] = valueType;
          row[CSV_ROW.betterWhen] = betterWhen;
          row[CSV_ROW.plan] = plan;
          row[CSV_ROW.fact] = fact;
          // Raw text, as the cursor hands it over (no integer parsing).
          row[CSV_ROW.ratingSize] = size === null ? null : String(size);
          row[CSV_ROW.score] = score;
          row[CSV_ROW.previousFact] = previousFact;
          row[CSV_ROW.previousRatingSize] = previousSize === null ? null : String(previousSize);
          expect(fast(row)).toBe(generic(status));
        },
      ),
      { numRuns: 3000 },
    );
  });
});
