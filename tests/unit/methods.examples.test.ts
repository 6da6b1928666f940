/**
 * Evaluation methods, bands, roll-ups and forecasts by example: the exact answers (values, problem
 * paths and messages, reasons in kk/ru/en) that the properties in methods.property.test.ts leave
 * open. Each case names the rule it pins; mutation testing (docs/testing.md) found them missing.
 */
import { describe, expect, it } from 'vitest';
import type { Band } from '../../src/achievement/bands.js';
import { bandOf, validateBands } from '../../src/achievement/bands.js';
import { forecastTarget } from '../../src/achievement/forecast.js';
import type { EvaluationInput, EvaluationRules } from '../../src/achievement/methods.js';
import {
  capDegree,
  DEFAULT_RULES,
  evaluateIndicator,
  gapOf,
  isOverdue,
  rawDegree,
} from '../../src/achievement/methods.js';
import type { RollUpItem } from '../../src/achievement/rollup.js';
import { summarizeWith } from '../../src/achievement/rollup.js';

const label = { en: 'x' };
const BANDS: Band[] = [
  { code: 'high', min: 1, label },
  { code: 'medium', min: 0.9, label },
  { code: 'low', min: 0, label },
];
const STRICT: EvaluationRules = { ...DEFAULT_RULES, pending: { treatment: 'not_achieved_after', deadline: '05-31' } };
const AFTER_DEADLINE = new Date('2017-06-01T00:00:00Z');

describe('rawDegree by percentile: the rank must lie in 1..size, the plan above last place', () => {
  const rank = (plan: number, fact: number, ratingSize: number) =>
    rawDegree({ valueType: 'rank', betterWhen: 'lower', plan, fact, ratingSize }, 'percentile');

  it('first place planned and reached, last place reached, one place from the top', () => {
    expect(rank(1, 1, 10)).toBe(1);
    expect(rank(1, 10, 10)).toBe(0); // last place: no share of the rating below it
    expect(rank(2, 1, 10)).toBe(1.125); // (10 - 1) / (10 - 2)
  });

  it('a place below 1 or beyond the rating, or a plan at last place, has no degree', () => {
    expect(rank(0, 5, 10)).toBeNull();
    expect(rank(5, 0, 10)).toBeNull();
    expect(rank(5, 11, 10)).toBeNull();
    expect(rank(10, 5, 10)).toBeNull();
    expect(rank(11, 5, 10)).toBeNull();
  });

  it('is for ranks only: other value types keep the ratio under the percentile method', () => {
    const input = { valueType: 'number' as const, betterWhen: 'higher' as const, plan: '100', fact: '90' };
    expect(rawDegree(input, 'percentile')).toBe(0.9);
    expect(rawDegree({ ...input, valueType: 'percent' }, 'percentile')).toBe(0.9);
  });
});

describe('the messages callers get', () => {
  it('cap, direction and deadline', () => {
    expect(() => capDegree(1, -0.5)).toThrow('cap must be >= 0, got -0.5');
    expect(() => gapOf('1', '2', 'sideways' as never)).toThrow(
      new TypeError('betterWhen must be "higher" or "lower", got "sideways"'),
    );
    expect(() => isOverdue({ treatment: 'not_achieved_after', deadline: '5-31' }, 2016, AFTER_DEADLINE)).toThrow(
      'deadline must be MM-DD, got "5-31"',
    );
    expect(() => summarizeWith(DEFAULT_RULES, [{ status: 'achieved', degree: 1, weight: -2, overdue: false }])).toThrow(
      'weights must be >= 0, got -2',
    );
  });

  it('a deadline is exactly MM-DD: nothing before or after it', () => {
    for (const deadline of ['x05-31', '05-31x', '2017-05-31'])
      expect(() => isOverdue({ treatment: 'not_achieved_after', deadline }, 2016, AFTER_DEADLINE)).toThrow(RangeError);
  });
});

describe('evaluateIndicator under a method', () => {
  const cpi: EvaluationInput = {
    valueType: 'rank',
    betterWhen: 'lower',
    plan: '120',
    fact: '131',
    ratingSize: 176,
    year: 2016,
  };

  it('ranks by percentile use the share of the rating below; by places, and other types, the ratio', () => {
    expect(evaluateIndicator({ ...DEFAULT_RULES, rankDegree: 'percentile' }, cpi, AFTER_DEADLINE).degree).toBe(0.8036);
    expect(evaluateIndicator(DEFAULT_RULES, cpi, AFTER_DEADLINE).degree).toBe(0.916);
    const number: EvaluationInput = { valueType: 'number', betterWhen: 'higher', plan: '200', fact: '150', year: 2016 };
    expect(evaluateIndicator({ ...DEFAULT_RULES, rankDegree: 'percentile' }, number, AFTER_DEADLINE).degree).toBe(0.75);
  });

  it('the band is of the capped degree, and there is none without a degree', () => {
    const rules = { ...DEFAULT_RULES, bands: BANDS, cap: 1 };
    const at = (plan: string | null, fact: string | null) =>
      evaluateIndicator(rules, { valueType: 'number', betterWhen: 'higher', plan, fact, year: 2016 }, AFTER_DEADLINE);
    expect(at('100', '95')).toMatchObject({ degree: 0.95, band: { code: 'medium', label } });
    expect(at('100', '300')).toMatchObject({ degree: 1, band: { code: 'high', label } });
    expect(at('100', null)).toMatchObject({ degree: null, band: null });
    expect(at('0', '5')).toMatchObject({ degree: null, band: null });
  });

  it('overdue: only a pending value, only past the deadline, only under a deadline rule', () => {
    const pending: EvaluationInput = { valueType: 'number', betterWhen: 'higher', plan: '10', fact: null, year: 2016 };
    expect(evaluateIndicator(STRICT, pending, AFTER_DEADLINE)).toMatchObject({ status: 'pending', overdue: true });
    expect(evaluateIndicator(STRICT, pending, new Date('2017-05-31T12:00:00Z')).overdue).toBe(false);
    expect(evaluateIndicator(DEFAULT_RULES, pending, AFTER_DEADLINE).overdue).toBe(false);
    const achieved = { ...pending, fact: '12' };
    expect(evaluateIndicator(STRICT, achieved, AFTER_DEADLINE)).toMatchObject({ status: 'achieved', overdue: false });
    const noTarget = { ...pending, plan: null, fact: '12' };
    expect(evaluateIndicator(STRICT, noTarget, AFTER_DEADLINE)).toMatchObject({ status: 'no_target', overdue: false });
  });
});

describe('summarizeWith by example', () => {
  const item = (status: RollUpItem['status'], degree: number | null, extra: Partial<RollUpItem> = {}): RollUpItem => ({
    status,
    degree,
    weight: 1,
    overdue: false,
    ...extra,
  });

  it('every field: indicators without a degree are left out of the means, no-target ones out of targetRate', () => {
    const items = [
      item('achieved', 1.2, { weight: 3 }),
      item('not_achieved', 0.5),
      item('pending', null),
      item('no_target', null),
    ];
    expect(summarizeWith({ ...DEFAULT_RULES, rollUp: 'weighted' }, items)).toEqual({
      total: 4,
      achieved: 1,
      notAchieved: 1,
      pending: 1,
      noTarget: 1,
      achievementRate: 50,
      targetRate: 33.33, // 1 of the 3 with a target
      meanDegree: 85, // (1.2 + 0.5) / 2, not / 4
      weightedDegree: 102.5, // (3 x 1.2 + 0.5) / 4
      score: 102.5,
      overdue: 0,
    });
  });

  it('an overdue flag counts only on a pending value, and only under a deadline rule', () => {
    const items = [item('achieved', 1, { overdue: true }), item('pending', null, { overdue: true })];
    expect(summarizeWith(STRICT, items)).toMatchObject({
      achieved: 1,
      notAchieved: 1,
      pending: 0,
      overdue: 1,
      meanDegree: 50, // the overdue value counts 0
    });
    expect(summarizeWith(DEFAULT_RULES, items)).toMatchObject({ achieved: 1, pending: 1, overdue: 0, meanDegree: 100 });
  });

  it('atRisk counts onTrack === false, and only when asked for forecasts', () => {
    const items = [
      item('achieved', 1, { onTrack: false }),
      item('not_achieved', 0.5, { onTrack: false }),
      item('achieved', 1, { onTrack: true }),
      item('achieved', 1, { onTrack: null }),
      item('achieved', 1),
    ];
    expect(summarizeWith(DEFAULT_RULES, items, true).atRisk).toBe(2);
    expect(summarizeWith(DEFAULT_RULES, items)).not.toHaveProperty('atRisk');
    expect(summarizeWith(DEFAULT_RULES, [item('achieved', 1)], true).atRisk).toBe(0);
  });
});

describe('validateBands: every problem with its path and message', () => {
  it('each kind once', () => {
    expect(
      validateBands([
        { code: 'a', min: Number.NaN, label },
        { code: 'b', min: 2, label },
        { code: 'b', min: -1, label },
        { code: 'd', min: 0.5, label },
      ]),
    ).toEqual([
      { path: 'bands.0.min', message: 'must be a number >= 0' },
      { path: 'bands.1.min', message: 'bands must be ordered by min, highest first, without overlaps (2 after NaN)' },
      { path: 'bands.2.min', message: 'must be a number >= 0' },
      { path: 'bands.2.code', message: 'duplicate band code "b"' },
      { path: 'bands.3.min', message: 'bands must be ordered by min, highest first, without overlaps (0.5 after -1)' },
      { path: 'bands.3.min', message: 'the last band must start at 0, so every degree has a band' },
    ]);
  });

  it('an infinite or negative threshold alone, and the path prefix given', () => {
    expect(
      validateBands([
        { code: 'a', min: Number.POSITIVE_INFINITY, label },
        { code: 'b', min: 0, label },
      ]),
    ).toEqual([{ path: 'bands.0.min', message: 'must be a number >= 0' }]);
    expect(validateBands([{ code: 'a', min: -0.5, label }], 'body.bands')).toEqual([
      { path: 'body.bands.0.min', message: 'must be a number >= 0' },
      { path: 'body.bands.0.min', message: 'the last band must start at 0, so every degree has a band' },
    ]);
    expect(bandOf(BANDS, 0.9)?.code).toBe('medium');
  });
});

describe('forecastTarget by example', () => {
  const line = [
    { year: 2014, fact: '1' },
    { year: 2015, fact: '2' },
    { year: 2016, fact: '3' },
  ];

  it('on track and at risk, with the reason in the three languages', () => {
    expect(forecastTarget(line, 2016, 2018, '5', 'higher')).toEqual({
      targetYear: 2018,
      target: 5,
      points: 3,
      projected: 5,
      onTrack: true,
      reason: {
        kk: 'Қазіргі қарқынмен 2018 жылы 5 күтіледі, жоспар 5: мақсатқа жетеді',
        ru: 'При текущей динамике в 2018 году ожидается 5 при плане 5: цель будет достигнута',
        en: 'On the current path 5 is expected in 2018 against a target of 5: on track',
      },
    });
    expect(forecastTarget(line, 2016, 2018, '6', 'higher')).toEqual({
      targetYear: 2018,
      target: 6,
      points: 3,
      projected: 5,
      onTrack: false,
      reason: {
        kk: 'Қазіргі қарқынмен 2018 жылы 5 күтіледі, жоспар 6: мақсатқа жетпеу қаупі бар',
        ru: 'При текущей динамике в 2018 году ожидается 5 при плане 6: есть риск недостижения',
        en: 'On the current path 5 is expected in 2018 against a target of 6: at risk',
      },
    });
  });

  it('no target, too few facts: the reason in the three languages', () => {
    expect(forecastTarget(line, 2016, 2018, null, 'higher').reason).toEqual({
      kk: '2018 жылға жоспар жоқ',
      ru: 'Нет плана на 2018 год',
      en: 'No target for 2018',
    });
    expect(forecastTarget(line.slice(0, 2), 2016, 2018, '5', 'higher').reason).toEqual({
      kk: 'Болжам жоқ: кемінде 3 жылдың фактісі керек, бар болғаны 2',
      ru: 'Прогноза нет: нужны факты не менее чем за 3 года, есть 2',
      en: 'No forecast: at least 3 years of facts are needed, 2 available',
    });
  });

  it('missing facts are skipped; facts as numbers and as padded strings are read', () => {
    const facts = [
      { year: 2013, fact: null },
      { year: 2014, fact: 1 },
      { year: 2015, fact: ' 2 ' },
      { year: 2016, fact: '3' },
    ];
    expect(forecastTarget(facts, 2016, 2018, '5', 'higher')).toMatchObject({ points: 3, projected: 5, onTrack: true });
  });

  it('a projection exactly on the target is on track, although the 60-digit division leaves 3.4999...', () => {
    // Least squares through (2014, 1), (2016, 2), (2017, 3): slope 3/(14/3), exactly 3.5 in 2018.
    const facts = [
      { year: 2014, fact: '1' },
      { year: 2016, fact: '2' },
      { year: 2017, fact: '3' },
    ];
    expect(forecastTarget(facts, 2017, 2018, '3.5', 'higher')).toMatchObject({ projected: 3.5, onTrack: true });
    expect(forecastTarget(facts, 2017, 2018, '3.5000001', 'higher')).toMatchObject({ projected: 3.5, onTrack: false });
    expect(forecastTarget(facts, 2017, 2018, '3.5', 'lower')).toMatchObject({ onTrack: true });
  });

  it('judges the exact projection, not a double: 17 significant digits on a line', () => {
    const facts = [
      { year: 2014, fact: '10000000000000000.01' },
      { year: 2015, fact: '10000000000000000.02' },
      { year: 2016, fact: '10000000000000000.03' },
    ];
    // Exactly .06 in 2019; as doubles every fact is 1e16 and the line stays below the target.
    expect(forecastTarget(facts, 2016, 2019, '10000000000000000.06', 'higher').onTrack).toBe(true);
    expect(forecastTarget(facts, 2016, 2019, '10000000000000000.07', 'higher').onTrack).toBe(false);
  });

  it('a projection beyond a double is shown as "-" in the reason', () => {
    const facts = [
      { year: 2014, fact: '1e308' },
      { year: 2015, fact: '1.5e308' },
      { year: 2016, fact: '1.7e308' },
    ];
    const f = forecastTarget(facts, 2016, 2030, '1', 'higher');
    expect([f.projected, f.onTrack]).toEqual([null, true]);
    expect(f.reason.en).toBe('On the current path - is expected in 2030 against a target of 1: on track');
  });
});
