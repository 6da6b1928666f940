import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  achievementPercent,
  computeIndicatorStatus,
  computeIndicatorStatusWithDecimals,
  deriveStatus,
  deviation,
  mergeSummaries,
  percentile,
  summarize,
  toJsonNumber,
  trend,
  type AchievementStatus,
  type BetterWhen,
  type ValueType,
} from '../../src/achievement/compute.js';

// A failing property over big numbers can shrink for minutes; report what was found by then.
fc.configureGlobal({ interruptAfterTimeLimit: 15_000, markInterruptAsFailure: true });

const STATUSES: AchievementStatus[] = ['achieved', 'not_achieved', 'pending', 'no_target'];
const VALUE_TYPES: ValueType[] = ['percent', 'number', 'rank'];
const betterWhen = fc.constantFrom<BetterWhen>('higher', 'lower');

// Values with at most 2 decimals as exact integer cents, so tests can add and compare exactly.
const cents = fc.bigInt({ min: -(10n ** 24n), max: 10n ** 24n });
const nonNegativeCents = fc.bigInt({ min: 0n, max: 10n ** 24n });
/** An integer count of 10^-decimals units as a decimal string: formatFixed(-1230n, 2) === "-12.30". */
function formatFixed(units: bigint, decimals: number): string {
  const scale = 10n ** BigInt(decimals);
  const abs = units < 0n ? -units : units;
  return `${units < 0n ? '-' : ''}${abs / scale}.${(abs % scale).toString().padStart(decimals, '0')}`;
}
const formatCents = (c: bigint) => formatFixed(c, 2);
// The same cents as a string ("12.30") or, when a double holds it exactly, as a number.
const asInput = (c: bigint) =>
  fc.constantFrom<string | number>(
    formatCents(c),
    ...(c % 100n === 0n && c / 100n <= 2n ** 53n && -c / 100n <= 2n ** 53n ? [Number(c / 100n)] : []),
  );

// Any finite value: doubles of every magnitude (incl. subnormals, ±MAX_VALUE), decimal strings
// with many digits, and the values PostgreSQL prints.
const finiteDouble = fc.double({ noNaN: true, noDefaultInfinity: true });
const decimalString = fc.stringMatching(/^-?\d{1,40}(\.\d{1,40})?$/);
const anyValue = fc.oneof(
  finiteDouble,
  decimalString,
  cents.map(formatCents),
  fc.constantFrom(0, -0, '0', '-0', 1e20, '99999999999999999999.99', 1e300, 1e-300, 5e-324, Number.MAX_VALUE),
);
const maybeValue = fc.option(anyValue, { nil: null });

const isJsonNumberOrNull = (v: number | null) => v === null || (Number.isFinite(v) && !Object.is(v, -0));

describe('status properties', () => {
  it('higher is better: raising the fact never turns achieved into not_achieved', () => {
    fc.assert(
      fc.property(cents, cents, nonNegativeCents, (plan, fact, raise) => {
        const before = deriveStatus(formatCents(plan), formatCents(fact), 'higher');
        const after = deriveStatus(formatCents(plan), formatCents(fact + raise), 'higher');
        if (before === 'achieved') expect(after).toBe('achieved');
      }),
    );
    fc.assert(
      fc.property(finiteDouble, finiteDouble, fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }), (plan, fact, raise) => {
        const raised = fact + raise;
        fc.pre(Number.isFinite(raised));
        if (deriveStatus(plan, fact, 'higher') === 'achieved') expect(deriveStatus(plan, raised, 'higher')).toBe('achieved');
      }),
    );
  });

  it('lower is better: lowering the fact never turns achieved into not_achieved', () => {
    fc.assert(
      fc.property(cents, cents, nonNegativeCents, (plan, fact, drop) => {
        const before = deriveStatus(formatCents(plan), formatCents(fact), 'lower');
        const after = deriveStatus(formatCents(plan), formatCents(fact - drop), 'lower');
        if (before === 'achieved') expect(after).toBe('achieved');
      }),
    );
    fc.assert(
      fc.property(finiteDouble, finiteDouble, fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }), (plan, fact, drop) => {
        const lowered = fact - drop;
        fc.pre(Number.isFinite(lowered));
        if (deriveStatus(plan, fact, 'lower') === 'achieved') expect(deriveStatus(plan, lowered, 'lower')).toBe('achieved');
      }),
    );
  });

  it('exactly one of the two directions fails unless the values are equal', () => {
    fc.assert(
      fc.property(cents, cents, (plan, fact) => {
        const higher = deriveStatus(formatCents(plan), formatCents(fact), 'higher');
        const lower = deriveStatus(formatCents(plan), formatCents(fact), 'lower');
        if (plan === fact) expect([higher, lower]).toEqual(['achieved', 'achieved']);
        else expect([higher, lower].filter((s) => s === 'achieved')).toHaveLength(1);
      }),
    );
  });

  it('a string and a number for the same value give the same status', () => {
    fc.assert(
      fc.property(cents.chain((p) => fc.tuple(asInput(p), fc.constant(formatCents(p)))), cents, betterWhen, ([planIn, planText], fact, bw) => {
        expect(deriveStatus(planIn, formatCents(fact), bw)).toBe(deriveStatus(planText, formatCents(fact), bw));
      }),
    );
  });

  it('status (and everything but percentiles) never depends on valueType', () => {
    fc.assert(
      fc.property(maybeValue, maybeValue, maybeValue, maybeValue, betterWhen, (plan, fact, previousFact, ratingSize, bw) => {
        const [first, ...rest] = VALUE_TYPES.map((valueType) =>
          computeIndicatorStatus({ betterWhen: bw, valueType, plan, fact, previousFact, ratingSize }),
        );
        for (const other of rest) {
          expect({ ...other, percentile: null, previousPercentile: null }).toEqual({
            ...first,
            percentile: null,
            previousPercentile: null,
          });
        }
        expect(first!.status).toBe(deriveStatus(plan, fact, bw));
      }),
    );
  });

  it('no plan -> no_target and plan without fact -> pending, in either direction', () => {
    fc.assert(
      fc.property(maybeValue, anyValue, betterWhen, (fact, plan, bw) => {
        expect(deriveStatus(null, fact, bw)).toBe('no_target');
        expect(deriveStatus(plan, null, bw)).toBe('pending');
      }),
    );
  });

  it('achieved iff the deviation has the right sign (values with at most 2 decimals)', () => {
    fc.assert(
      fc.property(cents, cents, betterWhen, (plan, fact, bw) => {
        const status = deriveStatus(formatCents(plan), formatCents(fact), bw);
        const dev = deviation(formatCents(plan), formatCents(fact));
        expect(dev).not.toBeNull();
        expect(dev).toBe(Number(formatCents(fact - plan)) + 0); // exact, no rounding needed; +0 drops -0
        expect(status === 'achieved').toBe(bw === 'higher' ? dev! >= 0 : dev! <= 0);
      }),
    );
  });

  it('achieved means percent >= 100 and not_achieved means percent <= 100', () => {
    fc.assert(
      fc.property(nonNegativeCents, nonNegativeCents, betterWhen, (plan, fact, bw) => {
        const status = deriveStatus(formatCents(plan), formatCents(fact), bw);
        const pct = achievementPercent(formatCents(plan), formatCents(fact), bw);
        if (pct === null) return; // zero divisor
        if (status === 'achieved') expect(pct).toBeGreaterThanOrEqual(100);
        else expect(pct).toBeLessThanOrEqual(100); // 99.999 rounds to 100
      }),
    );
  });

  it('trend agrees with the status an old fact would have as the plan', () => {
    fc.assert(
      fc.property(cents, cents, betterWhen, (previous, fact, bw) => {
        const t = trend(formatCents(previous), formatCents(fact), bw);
        const reached = deriveStatus(formatCents(previous), formatCents(fact), bw) === 'achieved';
        if (previous === fact) expect(t).toBe('unchanged');
        else expect(t).toBe(reached ? 'improved' : 'worsened');
      }),
    );
  });
});

describe('numbers are always JSON-safe', () => {
  it('achievementPercent, deviation, percentile and toJsonNumber are null or finite for any finite input', () => {
    fc.assert(
      fc.property(maybeValue, maybeValue, betterWhen, (a, b, bw) => {
        const pct = achievementPercent(a, b, bw);
        expect(isJsonNumberOrNull(pct)).toBe(true);
        if (pct !== null) expect(pct).toBeGreaterThanOrEqual(0);
        expect(isJsonNumberOrNull(deviation(a, b))).toBe(true);
        expect(isJsonNumberOrNull(percentile(a, b))).toBe(true);
        expect(isJsonNumberOrNull(toJsonNumber(a))).toBe(true);
        const full = computeIndicatorStatus({ betterWhen: bw, valueType: 'rank', plan: a, fact: b, ratingSize: a, previousFact: a, previousRatingSize: b });
        expect(JSON.parse(JSON.stringify(full))).toEqual(full);
      }),
      { numRuns: 500 },
    );
  });

  it('achievementPercent is exact: matches a BigInt half-away-from-zero oracle', () => {
    fc.assert(
      fc.property(nonNegativeCents, fc.bigInt({ min: 1n, max: 10n ** 24n }), (numerator, denominator) => {
        // percent in hundredths = round(numerator / denominator * 10000), half away from zero
        const hundredths = (2n * numerator * 10000n + denominator) / (2n * denominator);
        const expected = Number(formatCents(hundredths));
        expect(achievementPercent(formatCents(denominator), formatCents(numerator), 'higher')).toBe(expected);
        expect(achievementPercent(formatCents(numerator), formatCents(denominator), 'lower')).toBe(expected);
      }),
    );
  });

  it('deviation is exact fact - plan rounded half away from zero (3-decimal inputs)', () => {
    const mills = fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n });
    const formatMills = (m: bigint) => formatFixed(m, 3);
    fc.assert(
      fc.property(mills, mills, (plan, fact) => {
        const diff = fact - plan;
        const abs = diff < 0n ? -diff : diff;
        const roundedCents = (abs + 5n) / 10n; // half away from zero on the magnitude
        const expected = Number(formatCents(diff < 0n ? -roundedCents : roundedCents)) + 0;
        expect(deviation(formatMills(plan), formatMills(fact))).toBe(expected);
      }),
    );
  });

  // Long decimals right at or next to a half-cent boundary: where rounding to a fixed number of
  // significant digits before the final 2-decimal step (decimal.js defaults to 20) goes wrong.
  const nearZero = fc.oneof(fc.constantFrom(-1n, 0n, 1n), fc.bigInt({ min: -1000n, max: 1000n }));

  it('deviation is exact next to a half-cent boundary (24-decimal inputs)', () => {
    const HALF_CENT = 5n * 10n ** 21n; // in units of 1e-24
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.bigInt({ min: -(10n ** 6n), max: 10n ** 6n }), nearZero, (plan, wholeCents, offset) => {
        const diff = wholeCents * 10n ** 22n + HALF_CENT + offset;
        const abs = diff < 0n ? -diff : diff;
        const roundedCents = (abs + HALF_CENT) / 10n ** 22n;
        const expected = Number(formatCents(diff < 0n ? -roundedCents : roundedCents)) + 0;
        expect(deviation(formatFixed(plan, 24), formatFixed(plan + diff, 24))).toBe(expected);
      }),
    );
  });

  it('achievementPercent is exact next to a half-hundredth boundary (long inputs)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1001n, max: 10n ** 25n }), fc.bigInt({ min: 0n, max: 10n ** 7n }), nearZero, (unit, hundredths, offset) => {
        // fact/plan x 100 = (hundredths + 1/2 + offset / (2 unit)) / 100, with |offset| < unit
        const plan = 20_000n * unit;
        const fact = unit * (2n * hundredths + 1n) + offset;
        const expected = Number(formatCents(offset >= 0n ? hundredths + 1n : hundredths));
        expect(achievementPercent(formatFixed(plan, 20), formatFixed(fact, 20), 'higher')).toBe(expected);
        expect(achievementPercent(formatFixed(fact, 20), formatFixed(plan, 20), 'lower')).toBe(expected);
      }),
    );
  });

  it('percentile lies in 0..100 for valid ranks, and a better rank never has a lower percentile', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 100_000 }), fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 1, max: 100_000 }), (size, r1, r2) => {
        fc.pre(r1 <= size && r2 <= size);
        const p1 = percentile(r1, size)!;
        const p2 = percentile(r2, size)!;
        expect(p1).toBeGreaterThanOrEqual(0);
        expect(p1).toBeLessThanOrEqual(100);
        if (r1 < r2) expect(p1).toBeGreaterThanOrEqual(p2);
      }),
    );
  });
});

describe('summary properties', () => {
  const statuses = fc.array(fc.constantFrom(...STATUSES), { maxLength: 200 });

  it('summarize counts every status exactly once', () => {
    fc.assert(
      fc.property(statuses, (list) => {
        const s = summarize(list);
        expect(s.total).toBe(list.length);
        expect(s.achieved + s.notAchieved + s.pending + s.noTarget).toBe(s.total);
        expect(s.achieved).toBe(list.filter((x) => x === 'achieved').length);
        expect(s.notAchieved).toBe(list.filter((x) => x === 'not_achieved').length);
        expect(s.pending).toBe(list.filter((x) => x === 'pending').length);
        expect(s.noTarget).toBe(list.filter((x) => x === 'no_target').length);
        if (s.achieved + s.notAchieved === 0) expect(s.achievementRate).toBeNull();
        else {
          expect(s.achievementRate).toBeGreaterThanOrEqual(0);
          expect(s.achievementRate).toBeLessThanOrEqual(100);
          expect(Math.abs(s.achievementRate! - (s.achieved / (s.achieved + s.notAchieved)) * 100)).toBeLessThanOrEqual(0.005 + 1e-9);
        }
      }),
    );
  });

  it('merging the summaries of two parts equals summarizing the whole, in any order', () => {
    fc.assert(
      fc.property(statuses, statuses, (a, b) => {
        const whole = summarize([...a, ...b]);
        expect(mergeSummaries(summarize(a), summarize(b))).toEqual(whole);
        expect(mergeSummaries(summarize(b), summarize(a))).toEqual(whole);
      }),
    );
  });

  // computeIndicatorStatus takes a fixed-point path for short decimals and decimal.js otherwise;
  // the two must never differ. Values cluster around the path's limits: 15 vs 16 significant
  // digits, scales up to 20, intermediates near 2^53, equal and nearly equal pairs.
  const digitsString = (maxInt: number, maxFrac: number) =>
    fc
      .tuple(fc.boolean(), fc.stringMatching(new RegExp(`^\\d{1,${maxInt}}$`)), fc.option(fc.stringMatching(new RegExp(`^\\d{1,${maxFrac}}$`)), { nil: undefined }))
      .map(([negative, int, frac]) => `${negative ? '-' : ''}${int}${frac === undefined ? '' : `.${frac}`}`);
  const nearLimits = fc.oneof(
    digitsString(3, 3),
    digitsString(8, 8),
    digitsString(16, 4),
    digitsString(2, 20),
    fc.constantFrom('999999999999999', '9999999999999999', '0.005', '-0.005', '0.015', '2.675', '1.005', '90071992547409.91', '0', '-0', '100', '1'),
    fc.integer({ min: -1000, max: 1000 }),
    fc.double({ min: -1e6, max: 1e6, noNaN: true }),
  );
  const maybeNear = fc.option(nearLimits, { nil: null });

  it('the fixed-point fast path and decimal.js agree on every rule', () => {
    fc.assert(
      fc.property(
        maybeNear,
        maybeNear,
        maybeNear,
        fc.option(fc.oneof(fc.integer({ min: 0, max: 300 }), nearLimits), { nil: null }),
        fc.option(fc.integer({ min: 0, max: 300 }), { nil: null }),
        betterWhen,
        fc.constantFrom<ValueType>(...VALUE_TYPES),
        fc.boolean(),
        (plan, fact, previousFact, ratingSize, previousRatingSize, better, valueType, samePair) => {
          // Half the time plan and fact are equal values in different spellings ("1.5" vs "1.50").
          const f = samePair && typeof plan === 'string' && /^-?\d+$/.test(plan) ? `${plan}.000` : fact;
          const input = { betterWhen: better, valueType, plan, fact: f, previousFact, ratingSize, previousRatingSize };
          expect(computeIndicatorStatus(input)).toEqual(computeIndicatorStatusWithDecimals(input));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('the achievement rate equals achieved / decided x 100 rounded half up to 2 decimals, computed in integers', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 1_000_000 }), (achieved, notAchieved) => {
        const summary = summarize([
          ...Array<AchievementStatus>(Math.min(achieved, 2000)).fill('achieved'),
          ...Array<AchievementStatus>(Math.min(notAchieved, 2000)).fill('not_achieved'),
        ]);
        const a = BigInt(summary.achieved);
        const decided = BigInt(summary.achieved + summary.notAchieved);
        if (decided === 0n) return expect(summary.achievementRate).toBeNull();
        const thousandths = (a * 100_000n) / decided;
        const hundredths = thousandths / 10n + (thousandths % 10n >= 5n ? 1n : 0n);
        expect(summary.achievementRate).toBe(Number(formatFixed(hundredths, 2)));
      }),
    );
  });
});
