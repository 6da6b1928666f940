/**
 * The two paths of the achievement rules (src/achievement/compute.ts): short decimals are computed
 * on doubles holding exact integers, everything else with decimal.js. A fallback gives the same
 * answers, only slower, so answers alone cannot show which path ran: `decimalPathUses` counts the
 * values that went to decimal.js. Also: the messages of the errors callers get.
 */
import { describe, expect, it } from 'vitest';
import {
  achievementPercent,
  addToSummary,
  computeIndicatorStatus,
  computeIndicatorStatusWithDecimals,
  decimalPathUses,
  deriveStatus,
  deviation,
  emptySummary,
  mergeSummaries,
  percentile,
  summarize,
  toJsonNumber,
  trend,
  type AchievementStatus,
  type BetterWhen,
  type NumericInput,
} from '../../src/achievement/compute.js';

/** How many values `work` sent to decimal.js. */
function decimalUses(work: () => unknown): number {
  const before = decimalPathUses.operands;
  work();
  return decimalPathUses.operands - before;
}

const BETTER: BetterWhen[] = ['higher', 'lower'];

/** Every rule on one pair, both directions, as fact/plan and as rank/rating size. */
function everyRule(plan: NumericInput, fact: NumericInput) {
  for (const bw of BETTER) {
    deriveStatus(plan, fact, bw);
    achievementPercent(plan, fact, bw);
    trend(plan, fact, bw);
    computeIndicatorStatus({
      betterWhen: bw,
      valueType: 'rank',
      plan,
      fact,
      previousFact: plan,
      ratingSize: plan,
      previousRatingSize: fact,
    });
  }
  deviation(plan, fact);
  percentile(fact, plan);
  toJsonNumber(plan);
  toJsonNumber(fact);
}

describe('the fixed-point path', () => {
  // [plan, fact]: short decimals whose every intermediate (x 100,000 for percentages) stays below 2^53.
  const SHORT: [NumericInput, NumericInput][] = [
    ['9', '6.3'],
    ['1.3', '1.3'],
    [1.3, '1.30'],
    ['0', '0'],
    ['-0', '0'],
    [0, -0],
    ['-5', '5'],
    ['-2.5', '-7.25'],
    ['176', '131'],
    ['1', '2'],
    ['2', '1'],
    ['9999999999', '1'],
    ['0.0000000000000000000001', '0.0000000000000000000003'], // 22 decimals
    ['12345.6789', '-0.001'],
    [123456.125, 0.5],
  ];

  it.each(SHORT)('plan %s, fact %s: every rule answers without decimal.js, as decimal.js does', (plan, fact) => {
    expect(decimalUses(() => everyRule(plan, fact))).toBe(0);
    for (const bw of BETTER) {
      const input = {
        betterWhen: bw,
        valueType: 'rank' as const,
        plan,
        fact,
        previousFact: plan,
        ratingSize: plan,
        previousRatingSize: fact,
      };
      expect(computeIndicatorStatus(input)).toEqual(computeIndicatorStatusWithDecimals(input));
    }
  });

  // Comparisons and differences only (no x 100,000): up to 15 significant digits.
  const LONG_SHORT: [string, string, number][] = [
    ['999999999999999', '999999999999998', -1],
    ['-999999999999999', '999999999999999', 1999999999999998],
    ['0.00000000000012', '0.00000000000013', 0], // leading zeros are not significant digits
    ['12345678901234.5', '12345678901234.6', 0.1],
    ['-719925474099.1', '900000000000000', 900719925474099.1], // the difference at scale 1 is exactly 2^53 - 1
  ];

  it.each(LONG_SHORT)('plan %s, fact %s: status, trend and deviation without decimal.js', (plan, fact, expected) => {
    let dev: number | null = null;
    expect(
      decimalUses(() => {
        for (const bw of BETTER) {
          deriveStatus(plan, fact, bw);
          trend(plan, fact, bw);
        }
        dev = deviation(plan, fact);
        toJsonNumber(plan);
      }),
    ).toBe(0);
    expect(dev).toBe(expected);
  });

  it('the achievement rate of counts up to 90 billion needs no decimal.js', () => {
    const big: ReturnType<typeof emptySummary> = {
      ...emptySummary(),
      total: 90_000_000_000,
      achieved: 89_999_999_999,
      notAchieved: 1,
    };
    expect(decimalUses(() => mergeSummaries(big, emptySummary()))).toBe(0);
    expect(decimalUses(() => summarize(['achieved', 'not_achieved', 'not_achieved']))).toBe(0);
  });
});

describe('the decimal.js path', () => {
  // Where a double cannot hold the value or an intermediate exactly: answers as exact decimals.
  const cases: [string, () => unknown, unknown][] = [
    ['16 significant digits', () => deviation('1234567890123456', '0'), -1234567890123456],
    ['23 decimals', () => deviation('0', '0.00000000000000000000001'), 0],
    ['23 decimals on both sides', () => deviation('0.00000000000000000000001', '0.00000000000000000000002'), 0],
    ['an exponent', () => deviation('1e2', '150'), 50],
    ['fact x 100,000 beyond 2^53', () => achievementPercent('7', '123456789012345', 'higher'), 1763668414462071.5],
    ['plan / rank scaled beyond 2^53', () => percentile('1', '123456789012345'), 100],
    // Both within 2^53 at the common scale, their difference not: 900000000000001 - (-9000000000000000).
    ['a difference beyond 2^53', () => deviation('-900000000000000', '90000000000000.1'), 990000000000000.1],
    [
      'an achievement rate over 90 billion decided',
      () =>
        mergeSummaries(
          { ...emptySummary(), total: 100_000_000_000, achieved: 99_999_999_999, notAchieved: 1 },
          emptySummary(),
        ).achievementRate,
      100,
    ],
  ];

  it.each(cases)('%s', (_, rule, expected) => {
    let result: unknown;
    expect(decimalUses(() => (result = rule()))).toBeGreaterThan(0);
    expect(result).toBe(expected);
  });
});

describe('the reference (computeIndicatorStatusWithDecimals)', () => {
  it('sends every value to decimal.js, short ones included: it is what the fast path is checked against', () => {
    const input = {
      betterWhen: 'higher' as const,
      valueType: 'rank' as const,
      plan: '3',
      fact: '2',
      previousFact: '1',
      ratingSize: '10',
      previousRatingSize: '10',
    };
    expect(decimalUses(() => computeIndicatorStatusWithDecimals(input))).toBeGreaterThanOrEqual(3);
  });
});

describe('errors name what was wrong', () => {
  it('a value that is not a decimal', () => {
    expect(() => deriveStatus('6,3', '1', 'higher')).toThrow(new TypeError('not a decimal number: "6,3"'));
    expect(() => toJsonNumber('0x1F')).toThrow(new TypeError('not a decimal number: "0x1F"'));
  });

  it('a direction that is neither higher nor lower', () => {
    expect(() => deriveStatus('1', '2', 'up' as BetterWhen)).toThrow(
      new TypeError('betterWhen must be "higher" or "lower", got "up"'),
    );
  });

  it('an unknown status, counted one at a time or all at once', () => {
    expect(() => addToSummary(emptySummary(), 'done' as AchievementStatus)).toThrow(
      new TypeError('unknown achievement status "done"'),
    );
    expect(() => summarize(['achieved', 'toString' as AchievementStatus])).toThrow(
      new TypeError('unknown achievement status "toString"'),
    );
  });
});
