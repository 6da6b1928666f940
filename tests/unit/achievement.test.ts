import { describe, expect, it } from 'vitest';
import {
  achievementPercent,
  addToSummary,
  computeIndicatorStatus,
  deriveStatus,
  deviation,
  emptySummary,
  mergeSummaries,
  percentile,
  summarize,
  toJsonNumber,
  trend,
  type AchievementStatus,
  type Summary,
} from '../../src/achievement/compute.js';

const HUGE = '99999999999999999999.99';
const HUGE_MINUS_CENT = '99999999999999999999.98';
const TINY = '0.000000000000000000001';

describe('2016 report (agency strategic plan 2014-2018)', () => {
  it('net staff turnover: plan 9, fact 6.3, lower is better -> achieved, 142.86%', () => {
    expect(deriveStatus('9', '6.3', 'lower')).toBe('achieved');
    expect(achievementPercent('9', '6.3', 'lower')).toBe(142.86);
    expect(deviation('9', '6.3')).toBe(-2.7);
  });

  it('first-year turnover: plan 1.3, fact 1.3, lower is better -> achieved, 100%', () => {
    expect(deriveStatus('1.3', '1.3', 'lower')).toBe('achieved');
    expect(deriveStatus(1.3, 1.3, 'lower')).toBe('achieved');
    expect(deriveStatus('1.30', 1.3, 'lower')).toBe('achieved');
    expect(achievementPercent('1.3', '1.3', 'lower')).toBe(100);
    expect(deviation('1.3', '1.30')).toBe(0);
  });

  it('CPI rank: plan 120, fact 131 -> not achieved, 91.6%', () => {
    expect(deriveStatus('120', '131', 'lower')).toBe('not_achieved');
    expect(achievementPercent('120', '131', 'lower')).toBe(91.6);
    expect(deviation('120', '131')).toBe(11);
  });

  it('CPI full status: rank 131 of 176 in 2016 after 123 of 168 in 2015', () => {
    expect(
      computeIndicatorStatus({
        betterWhen: 'lower',
        valueType: 'rank',
        plan: '120',
        fact: '131',
        ratingSize: '176',
        previousFact: '123',
        previousRatingSize: '168',
      }),
    ).toEqual({
      status: 'not_achieved',
      achievementPercent: 91.6,
      deviation: 11,
      trend: 'worsened',
      previousFact: 123,
      percentile: 25.71, // (176 - 131) / 175
      previousPercentile: 26.95, // (168 - 123) / 167
    });
  });

  it('a fact that arrives next May is pending, not failed', () => {
    expect(deriveStatus('80', null, 'higher')).toBe('pending');
    expect(achievementPercent('80', null, 'higher')).toBeNull();
    expect(deviation('80', null)).toBeNull();
  });
});

describe('deriveStatus', () => {
  it('no plan -> no_target, whatever the fact', () => {
    expect(deriveStatus(null, '5', 'higher')).toBe('no_target');
    expect(deriveStatus(undefined, '5', 'lower')).toBe('no_target');
    expect(deriveStatus(null, null, 'higher')).toBe('no_target');
  });

  it('plan but no fact -> pending, including a zero plan', () => {
    expect(deriveStatus('5', null, 'higher')).toBe('pending');
    expect(deriveStatus('0', undefined, 'lower')).toBe('pending');
  });

  it.each([
    ['higher', '10', '11', 'achieved'],
    ['higher', '10', '10', 'achieved'],
    ['higher', '10', '9.99', 'not_achieved'],
    ['lower', '10', '9', 'achieved'],
    ['lower', '10', '10', 'achieved'],
    ['lower', '10', '10.01', 'not_achieved'],
  ] as const)('%s is better, plan %s, fact %s -> %s', (betterWhen, plan, fact, expected) => {
    expect(deriveStatus(plan, fact, betterWhen)).toBe(expected);
  });

  it('compares decimal strings and numbers exactly ("1.30" == 1.3 == "1.3")', () => {
    for (const betterWhen of ['higher', 'lower'] as const) {
      expect(deriveStatus('1.30', 1.3, betterWhen)).toBe('achieved');
      expect(deriveStatus(1.3, '1.3', betterWhen)).toBe('achieved');
      expect(deriveStatus('99.20', '99.2', betterWhen)).toBe('achieved');
    }
  });

  it('takes a JS number at its shortest spelling: 0.1 + 0.2 is above 0.3', () => {
    expect(deriveStatus('0.3', 0.1 + 0.2, 'lower')).toBe('not_achieved');
    expect(deriveStatus('0.3', 0.1 + 0.2, 'higher')).toBe('achieved');
  });

  it('zero plan', () => {
    expect(deriveStatus('0', '0', 'higher')).toBe('achieved');
    expect(deriveStatus('0', '0', 'lower')).toBe('achieved');
    expect(deriveStatus('0', '-0.01', 'higher')).toBe('not_achieved');
    expect(deriveStatus('0', '0.01', 'lower')).toBe('not_achieved');
    expect(deriveStatus('-0', '0', 'lower')).toBe('achieved');
    expect(deriveStatus(0, -0, 'higher')).toBe('achieved');
  });

  it('negative values compare by value, not magnitude', () => {
    expect(deriveStatus('-0.5', '-0.4', 'higher')).toBe('achieved');
    expect(deriveStatus('-0.5', '-0.6', 'higher')).toBe('not_achieved');
    expect(deriveStatus('-0.5', '-0.6', 'lower')).toBe('achieved');
    expect(deriveStatus('-0.5', '-0.4', 'lower')).toBe('not_achieved');
  });

  it('huge values differing by one cent (equal as doubles) are still told apart', () => {
    expect(Number(HUGE)).toBe(Number(HUGE_MINUS_CENT));
    expect(deriveStatus(HUGE, HUGE_MINUS_CENT, 'higher')).toBe('not_achieved');
    expect(deriveStatus(HUGE_MINUS_CENT, HUGE, 'higher')).toBe('achieved');
    expect(deriveStatus(HUGE, HUGE_MINUS_CENT, 'lower')).toBe('achieved');
    expect(deriveStatus(1e20, '100000000000000000000', 'lower')).toBe('achieved');
    expect(deriveStatus(1e20, '100000000000000000000.01', 'lower')).toBe('not_achieved');
  });

  it('tiny values are not rounded to zero', () => {
    expect(deriveStatus('0', TINY, 'higher')).toBe('achieved');
    expect(deriveStatus('0', TINY, 'lower')).toBe('not_achieved');
    expect(deriveStatus(5e-324, 0, 'higher')).toBe('not_achieved');
  });

  it('PostgreSQL NaN/Infinity count as missing, not as a value', () => {
    expect(deriveStatus('NaN', '5', 'higher')).toBe('no_target');
    expect(deriveStatus('5', 'Infinity', 'higher')).toBe('pending');
    expect(deriveStatus('5', '-Infinity', 'lower')).toBe('pending');
    expect(deriveStatus(Number.NaN, 5, 'higher')).toBe('no_target');
    expect(deriveStatus(5, Number.POSITIVE_INFINITY, 'higher')).toBe('pending');
  });

  it('rejects strings that are not plain decimals instead of guessing', () => {
    for (const bad of ['6,3', '', 'abc', '0x1F', '1e9999', '5%', '1'.repeat(1001)]) {
      expect(() => deriveStatus('5', bad, 'higher'), bad).toThrow(TypeError);
    }
  });

  it('accepts exponent notation, surrounding whitespace and long decimals', () => {
    expect(deriveStatus('1.3e2', ' 130 ', 'higher')).toBe('achieved');
    expect(deriveStatus('1e-324', '0', 'lower')).toBe('achieved');
    expect(deviation(`0.${'0'.repeat(997)}1`, '1e308')).toBe(1e308);
    expect(deviation('-9e999', '9e999')).toBeNull();
    expect(deriveStatus('.5', '0.5', 'lower')).toBe('achieved');
  });

  it('never guesses a direction', () => {
    expect(() => deriveStatus('1', '2', 'up' as never)).toThrow(TypeError);
  });
});

describe('achievementPercent', () => {
  it('fact/plan when higher is better, plan/fact when lower is better', () => {
    expect(achievementPercent('80', '100', 'higher')).toBe(125);
    expect(achievementPercent('80', '100', 'lower')).toBe(80);
  });

  it('rounds half away from zero to 2 decimals, exactly', () => {
    expect(achievementPercent('3', '2', 'higher')).toBe(66.67);
    expect(achievementPercent('3', '1', 'higher')).toBe(33.33);
    expect(achievementPercent('32', '1', 'higher')).toBe(3.13); // 3.125: half-even would give 3.12
    expect(achievementPercent('800', '1', 'higher')).toBe(0.13); // 0.125
    expect(achievementPercent('1', '0.00005', 'higher')).toBe(0.01); // exactly 0.005
    expect(achievementPercent('1', '0.0000499999999', 'higher')).toBe(0); // just below half
    // 1.004999999999999999999999%: more digits than decimal.js's default 20, which would round up
    expect(achievementPercent('1', '0.01004999999999999999999999', 'higher')).toBe(1);
    expect(achievementPercent('0.01004999999999999999999999', '1', 'lower')).toBe(1);
  });

  it('decimal strings and numbers give the same result', () => {
    expect(achievementPercent(9, 6.3, 'lower')).toBe(142.86);
    expect(achievementPercent('9.00', '6.30', 'lower')).toBe(142.86);
  });

  it('zero divisor -> null', () => {
    expect(achievementPercent('0', '5', 'higher')).toBeNull();
    expect(achievementPercent('5', '0', 'lower')).toBeNull();
    expect(achievementPercent('0', '0', 'higher')).toBeNull();
    expect(achievementPercent('0', '0', 'lower')).toBeNull();
    expect(achievementPercent('-0', '5', 'higher')).toBeNull();
  });

  it('zero numerator -> 0 (not -0)', () => {
    expect(achievementPercent('5', '0', 'higher')).toBe(0);
    expect(Object.is(achievementPercent('-0', '5', 'lower'), 0)).toBe(true);
  });

  it('either value negative -> null', () => {
    expect(achievementPercent('-1', '2', 'higher')).toBeNull();
    expect(achievementPercent('2', '-1', 'higher')).toBeNull();
    expect(achievementPercent('-2', '-1', 'lower')).toBeNull();
    expect(achievementPercent('-0.5', '-0.5', 'higher')).toBeNull();
  });

  it('missing value -> null', () => {
    expect(achievementPercent(null, '5', 'higher')).toBeNull();
    expect(achievementPercent('5', null, 'lower')).toBeNull();
    expect(achievementPercent(undefined, undefined, 'lower')).toBeNull();
  });

  it('a result beyond the double range is null, never Infinity', () => {
    expect(achievementPercent(1e-300, 1e300, 'higher')).toBeNull();
    expect(achievementPercent(1e300, 1e-300, 'lower')).toBeNull();
    expect(achievementPercent(5e-324, Number.MAX_VALUE, 'higher')).toBeNull();
  });

  it('huge but representable results are numbers', () => {
    expect(achievementPercent('1', HUGE, 'higher')).toBe(1e22);
    expect(achievementPercent('1', 1e20, 'higher')).toBe(1e22);
    expect(achievementPercent(HUGE, HUGE_MINUS_CENT, 'higher')).toBe(100);
  });

  it('tiny results round to 0', () => {
    expect(achievementPercent(1e300, 1e-300, 'higher')).toBe(0);
    expect(achievementPercent('1', TINY, 'higher')).toBe(0);
  });
});

describe('deviation', () => {
  it('fact - plan, signed', () => {
    expect(deviation('10', '12.5')).toBe(2.5);
    expect(deviation('12.5', '10')).toBe(-2.5);
    expect(deviation('-0.5', '0.5')).toBe(1);
  });

  it('is exact where doubles are not', () => {
    expect(0.3 - 0.1).not.toBe(0.2);
    expect(deviation(0.1, 0.3)).toBe(0.2);
    expect(deviation(HUGE_MINUS_CENT, HUGE)).toBe(0.01);
  });

  it('rounds half away from zero to 2 decimals', () => {
    expect(deviation('0', '0.005')).toBe(0.01);
    expect(deviation('0', '-0.005')).toBe(-0.01);
    expect(deviation('0', '0.00499')).toBe(0);
    expect(deviation('0', 1.005)).toBe(1.01); // (1.005).toFixed(2) is "1.00"
    expect(deviation('1', '3.125')).toBe(2.13);
    // 0.004999999999999999999999: rounding to 20 significant digits first would give 0.01
    expect(deviation('0.000000000000000000000001', '0.005')).toBe(0);
  });

  it('a tiny negative deviation is 0, not -0', () => {
    expect(Object.is(deviation('0', '-0.004'), 0)).toBe(true);
    expect(Object.is(deviation('0', '-0'), 0)).toBe(true);
  });

  it('null unless both present', () => {
    expect(deviation(null, '1')).toBeNull();
    expect(deviation('1', null)).toBeNull();
    expect(deviation(undefined, undefined)).toBeNull();
  });

  it('a result beyond the double range is null, never Infinity', () => {
    expect(deviation(-1e308, 1e308)).toBeNull();
    expect(deviation(-Number.MAX_VALUE, 0)).toBe(Number.MAX_VALUE);
  });
});

describe('trend', () => {
  it('higher is better', () => {
    expect(trend('10', '11', 'higher')).toBe('improved');
    expect(trend('10', '9', 'higher')).toBe('worsened');
    expect(trend('10', '10.00', 'higher')).toBe('unchanged');
  });

  it('lower is better: a rank rising from 123 to 131 worsened', () => {
    expect(trend('123', '131', 'lower')).toBe('worsened');
    expect(trend('131', '123', 'lower')).toBe('improved');
    expect(trend(1.3, '1.30', 'lower')).toBe('unchanged');
  });

  it('tells apart values equal as doubles', () => {
    expect(trend(HUGE_MINUS_CENT, HUGE, 'higher')).toBe('improved');
    expect(trend('0', TINY, 'lower')).toBe('worsened');
  });

  it('null without both values', () => {
    expect(trend(null, '1', 'higher')).toBeNull();
    expect(trend('1', undefined, 'lower')).toBeNull();
  });
});

describe('percentile', () => {
  it('CPI ranks of different rating sizes', () => {
    expect(percentile('131', '176')).toBe(25.71);
    expect(percentile(123, 168)).toBe(26.95);
  });

  it('first place is 100, last place is 0', () => {
    expect(percentile(1, 176)).toBe(100);
    expect(percentile(176, 176)).toBe(0);
    expect(percentile(1, 2)).toBe(100);
    expect(percentile(2, 2)).toBe(0);
  });

  it('rounds half away from zero', () => {
    expect(percentile(800, 801)).toBe(0.13); // 1/800 = 0.125%
    expect(percentile(2, 4)).toBe(66.67);
  });

  it('null for missing values, ratings of 0 or 1 places, ranks outside 1..ratingSize', () => {
    expect(percentile(null, 10)).toBeNull();
    expect(percentile(1, null)).toBeNull();
    expect(percentile(1, 1)).toBeNull();
    expect(percentile(0, 0)).toBeNull();
    expect(percentile(0, 10)).toBeNull();
    expect(percentile(-1, 10)).toBeNull();
    expect(percentile(11, 10)).toBeNull();
    expect(percentile('10.01', '10')).toBeNull();
  });
});

describe('computeIndicatorStatus', () => {
  it('percent indicator: no percentile even when a ratingSize is given', () => {
    expect(
      computeIndicatorStatus({ betterWhen: 'lower', valueType: 'percent', plan: '9', fact: '6.3', ratingSize: 100 }),
    ).toEqual({
      status: 'achieved',
      achievementPercent: 142.86,
      deviation: -2.7,
      trend: null,
      previousFact: null,
      percentile: null,
      previousPercentile: null,
    });
  });

  it('pending keeps the previous fact but has no trend', () => {
    const result = computeIndicatorStatus({
      betterWhen: 'higher',
      valueType: 'number',
      plan: '80',
      fact: null,
      previousFact: '75.50',
    });
    expect(result.status).toBe('pending');
    expect(result.previousFact).toBe(75.5);
    expect(result.trend).toBeNull();
  });

  it('trend from the previous fact', () => {
    const result = computeIndicatorStatus({
      betterWhen: 'higher',
      valueType: 'percent',
      plan: '99',
      fact: '99.20',
      previousFact: '98.7',
    });
    expect(result.trend).toBe('improved');
    expect(result.status).toBe('achieved');
    expect(result.achievementPercent).toBe(100.2);
    expect(result.deviation).toBe(0.2);
  });

  it("rank: previousPercentile needs the previous rating size; this year's is not reused", () => {
    const result = computeIndicatorStatus({
      betterWhen: 'lower',
      valueType: 'rank',
      plan: 120,
      fact: 131,
      ratingSize: 176,
      previousFact: 123,
    });
    expect(result.percentile).toBe(25.71);
    expect(result.previousPercentile).toBeNull();
    expect(result.trend).toBe('worsened');
  });

  it('rank without ratingSize has no percentile', () => {
    const result = computeIndicatorStatus({ betterWhen: 'lower', valueType: 'rank', plan: 40, fact: 38 });
    expect(result.status).toBe('achieved');
    expect(result.percentile).toBeNull();
  });

  it('no_target with a fact still reports nothing derived from the plan', () => {
    const result = computeIndicatorStatus({ betterWhen: 'higher', valueType: 'number', plan: null, fact: 5 });
    expect(result).toMatchObject({ status: 'no_target', achievementPercent: null, deviation: null });
  });
});

describe('toJsonNumber', () => {
  it('converts decimal strings and numbers', () => {
    expect(toJsonNumber('99.20')).toBe(99.2);
    expect(toJsonNumber('-0.5')).toBe(-0.5);
    expect(toJsonNumber('131')).toBe(131);
    expect(toJsonNumber(1.3)).toBe(1.3);
    expect(toJsonNumber(HUGE)).toBe(1e20);
  });

  it('null for missing and non-finite, 0 for -0', () => {
    expect(toJsonNumber(null)).toBeNull();
    expect(toJsonNumber(undefined)).toBeNull();
    expect(toJsonNumber('NaN')).toBeNull();
    expect(toJsonNumber('Infinity')).toBeNull();
    expect(toJsonNumber('-Infinity')).toBeNull();
    expect(toJsonNumber(Number.NaN)).toBeNull();
    expect(toJsonNumber('1e400')).toBeNull();
    expect(Object.is(toJsonNumber('-0'), 0)).toBe(true);
    expect(JSON.stringify({ v: toJsonNumber('1e400') })).toBe('{"v":null}');
  });

  it('throws on non-decimal strings', () => {
    expect(() => toJsonNumber('6,3')).toThrow(TypeError);
  });
});

describe('summaries', () => {
  const counts = (s: Summary) => s.achieved + s.notAchieved + s.pending + s.noTarget;

  it('emptySummary is all zero with an unknown rate, and a fresh object each time', () => {
    const a = emptySummary();
    expect(a).toEqual({ total: 0, achieved: 0, notAchieved: 0, pending: 0, noTarget: 0, achievementRate: null });
    a.achieved = 7;
    expect(emptySummary().achieved).toBe(0);
  });

  it('addToSummary counts each status and leaves its argument alone', () => {
    const start = emptySummary();
    const one = addToSummary(start, 'not_achieved');
    expect(start.total).toBe(0);
    expect(one).toEqual({ total: 1, achieved: 0, notAchieved: 1, pending: 0, noTarget: 0, achievementRate: 0 });
    expect(addToSummary(one, 'achieved').achievementRate).toBe(50);
    expect(addToSummary(one, 'pending')).toMatchObject({ total: 2, pending: 1, achievementRate: 0 });
    expect(addToSummary(one, 'no_target')).toMatchObject({ total: 2, noTarget: 1, achievementRate: 0 });
  });

  it('summarize: rate over decided indicators only', () => {
    const s = summarize(['achieved', 'achieved', 'not_achieved', 'pending', 'no_target']);
    expect(s).toEqual({ total: 5, achieved: 2, notAchieved: 1, pending: 1, noTarget: 1, achievementRate: 66.67 });
    expect(counts(s)).toBe(s.total);
  });

  it('rate is null when nothing is decided, 0 and 100 at the ends', () => {
    expect(summarize([]).achievementRate).toBeNull();
    expect(summarize(['pending', 'no_target']).achievementRate).toBeNull();
    expect(summarize(['not_achieved', 'pending']).achievementRate).toBe(0);
    expect(summarize(['achieved', 'no_target']).achievementRate).toBe(100);
    expect(summarize(['achieved', ...Array<AchievementStatus>(7).fill('not_achieved')]).achievementRate).toBe(12.5);
  });

  it('summarize accepts any iterable', () => {
    function* gen(): Generator<AchievementStatus> {
      yield 'achieved';
      yield 'pending';
    }
    expect(summarize(gen())).toMatchObject({ total: 2, achieved: 1, pending: 1 });
    expect(summarize(new Set<AchievementStatus>(['achieved', 'not_achieved'])).achievementRate).toBe(50);
  });

  it('rejects an unknown status', () => {
    expect(() => addToSummary(emptySummary(), 'done' as AchievementStatus)).toThrow(TypeError);
    expect(() => summarize(['toString' as AchievementStatus])).toThrow(TypeError);
  });

  it('mergeSummaries recomputes the rate from counts instead of averaging rates', () => {
    const goalA = summarize(['achieved']); // 100%
    const goalB = summarize(['not_achieved', 'not_achieved', 'not_achieved', 'pending']); // 0%
    const direction = mergeSummaries(goalA, goalB);
    expect(direction).toEqual({ total: 5, achieved: 1, notAchieved: 3, pending: 1, noTarget: 0, achievementRate: 25 });
    expect(mergeSummaries(direction, emptySummary())).toEqual(direction);
    expect(mergeSummaries(emptySummary(), emptySummary()).achievementRate).toBeNull();
  });
});
