import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from 'decimal.js';
import type { AchievementStatus, BetterWhen, ValueType } from '../../src/achievement/compute.js';
import { achievementPercent, computeIndicatorStatus, deviation, summarize } from '../../src/achievement/compute.js';
import type { Band } from '../../src/achievement/bands.js';
import { bandOf, validateBands } from '../../src/achievement/bands.js';
import type { EvaluationRules } from '../../src/achievement/methods.js';
import {
  capDegree,
  DEFAULT_RULES,
  evaluateIndicator,
  gapOf,
  isOverdue,
  rawDegree,
  scoreTrendOf,
} from '../../src/achievement/methods.js';
import { summarizeWith } from '../../src/achievement/rollup.js';
import { forecastTarget, leastSquaresAt } from '../../src/achievement/forecast.js';

fc.configureGlobal({ interruptAfterTimeLimit: 15_000, markInterruptAsFailure: true });

const betterWhen = fc.constantFrom<BetterWhen>('higher', 'lower');
const valueType = fc.constantFrom<ValueType>('percent', 'number', 'rank');
// Decimals with up to 2 places as strings, as PostgreSQL prints numeric; zero and equal values come up often.
const decimal = fc.oneof(
  fc.constantFrom('0', '1', '100', '0.5'),
  fc.integer({ min: -100_000, max: 10_000_000 }).map((c) => (c / 100).toFixed(2)),
);
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null, freq: 4 });
const NOW = new Date('2017-06-01T00:00:00Z');

const label = { kk: 'к', ru: 'р', en: 'e' };
const BANDS: Band[] = [
  { code: 'high', min: 1, label },
  { code: 'medium', min: 0.9, label },
  { code: 'low', min: 0, label },
];
const rulesArb: fc.Arbitrary<EvaluationRules> = fc.record({
  rankDegree: fc.constantFrom('places' as const, 'percentile' as const),
  cap: fc.option(fc.constantFrom(0, 0.5, 1, 1.2, 2), { nil: null }),
  bands: fc.constantFrom([], BANDS),
  rollUp: fc.constantFrom('share' as const, 'mean' as const, 'weighted' as const),
  pending: fc.constantFrom(
    { treatment: 'excluded' as const },
    { treatment: 'not_achieved_after' as const, deadline: '05-31' },
  ),
});

describe("the built-in default method is exactly today's rule", () => {
  it('per indicator: every existing field equals computeIndicatorStatus, gap is deviation signed by direction', () => {
    fc.assert(
      fc.property(betterWhen, valueType, maybe(decimal), maybe(decimal), maybe(decimal), (bw, vt, plan, fact, prev) => {
        const input = { betterWhen: bw, valueType: vt, plan, fact, previousFact: prev, year: 2016 };
        const r = evaluateIndicator(DEFAULT_RULES, input, NOW);
        const today = computeIndicatorStatus(input);
        expect({
          ...r,
          degree: undefined,
          band: undefined,
          gap: undefined,
          scoreTrend: undefined,
          overdue: undefined,
        }).toEqual({
          ...today,
          degree: undefined,
          band: undefined,
          gap: undefined,
          scoreTrend: undefined,
          overdue: undefined,
        });
        expect(r.overdue).toBe(false);
        expect(r.band).toBeNull();
        const d = deviation(plan, fact);
        expect(r.gap).toBe(d === null ? null : bw === 'higher' ? d : -d || 0);
        const pct = achievementPercent(plan, fact, bw);
        expect(r.degree === null).toBe(pct === null);
      }),
    );
  });

  it('roll-up: counts and achievementRate equal summarize() on random statuses', () => {
    const status = fc.constantFrom<AchievementStatus>('achieved', 'not_achieved', 'pending', 'no_target');
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            status,
            degree: maybe(fc.double({ min: 0, max: 5, noNaN: true })),
            weight: fc.constant(1),
            overdue: fc.constant(false),
          }),
        ),
        (items) => {
          const s = summarizeWith(DEFAULT_RULES, items);
          const today = summarize(items.map((i) => i.status));
          expect({
            total: s.total,
            achieved: s.achieved,
            notAchieved: s.notAchieved,
            pending: s.pending,
            noTarget: s.noTarget,
            achievementRate: s.achievementRate,
          }).toEqual(today);
          expect(s.score).toBe(today.achievementRate);
          expect(s.overdue).toBe(0);
        },
      ),
    );
  });
});

describe('degree', () => {
  it('is monotonic in the fact in the better direction, for every method', () => {
    fc.assert(
      fc.property(rulesArb, betterWhen, decimal, decimal, decimal, (rules, bw, plan, f1, f2) => {
        const [a, b] = Number(f1) <= Number(f2) ? [f1, f2] : [f2, f1]; // a <= b
        const [worse, better] = bw === 'higher' ? [a, b] : [b, a];
        const d = (fact: string) =>
          capDegree(rawDegree({ valueType: 'number', betterWhen: bw, plan, fact }, rules.rankDegree), rules.cap);
        const dw = d(worse);
        const db = d(better);
        if (dw !== null && db !== null) expect(db).toBeGreaterThanOrEqual(dw);
      }),
    );
  });

  it('percentile-aware rank degree is monotonic in the place and never exceeds the cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 300 }),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 300 }),
        fc.option(fc.constantFrom(0, 1, 1.5), { nil: null }),
        (size, plan, f1, f2, cap) => {
          const d = (fact: number) =>
            capDegree(
              rawDegree({ valueType: 'rank', betterWhen: 'lower', plan, fact, ratingSize: size }, 'percentile'),
              cap,
            );
          const [better, worse] = f1 <= f2 ? [f1, f2] : [f2, f1];
          const db = d(better);
          const dw = d(worse);
          if (db !== null && dw !== null) expect(db).toBeGreaterThanOrEqual(dw);
          for (const x of [db, dw]) if (x !== null && cap !== null) expect(x).toBeLessThanOrEqual(cap);
          if (plan >= size || f1 > size) expect(d(f1)).toBeNull();
        },
      ),
    );
  });

  it('never exceeds the cap; a negative cap is refused', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        fc.double({ min: 0, max: 10, noNaN: true }),
        (degree, cap) => {
          expect(capDegree(degree, cap)).toBeLessThanOrEqual(cap);
          expect(capDegree(degree, null)).toBe(degree);
        },
      ),
    );
    expect(() => capDegree(1, -0.1)).toThrow(RangeError);
    expect(capDegree(null, 1)).toBeNull();
  });

  it('the CPI 2016 example: places 120/131, percentile (176-131)/(176-120)', () => {
    const cpi = { valueType: 'rank' as const, betterWhen: 'lower' as const, plan: '120', fact: '131', ratingSize: 176 };
    expect(rawDegree(cpi, 'places')).toBe(0.916);
    expect(rawDegree(cpi, 'percentile')).toBe(0.8036);
    expect(rawDegree({ ...cpi, ratingSize: null }, 'percentile')).toBeNull();
    expect(rawDegree({ ...cpi, plan: '176' }, 'percentile')).toBeNull();
  });
});

describe('bands', () => {
  it('first match, exhaustive over degrees >= 0 when valid', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.double({ min: 0.01, max: 5, noNaN: true }), { minLength: 0, maxLength: 6 }),
        fc.double({ min: 0, max: 10, noNaN: true }),
        (mins, degree) => {
          const sorted = [...mins].sort((a, b) => b - a);
          const bands: Band[] = [...sorted, 0].map((min, i) => ({ code: `b${i}`, min, label }));
          expect(validateBands(bands)).toEqual([]);
          const match = bandOf(bands, degree);
          expect(match).not.toBeNull();
          const index = bands.findIndex((b) => b.code === match!.code);
          expect(bands[index]!.min).toBeLessThanOrEqual(degree);
          for (const earlier of bands.slice(0, index)) expect(earlier.min).toBeGreaterThan(degree);
        },
      ),
    );
  });

  it('refuses unordered, overlapping, negative, non-exhaustive bands and duplicate codes', () => {
    expect(
      validateBands([
        { code: 'a', min: 0.9, label },
        { code: 'b', min: 1, label },
        { code: 'c', min: 0, label },
      ]).length,
    ).toBeGreaterThan(0);
    expect(
      validateBands([
        { code: 'a', min: 1, label },
        { code: 'b', min: 1, label },
        { code: 'c', min: 0, label },
      ]).length,
    ).toBeGreaterThan(0);
    expect(
      validateBands([
        { code: 'a', min: 1, label },
        { code: 'b', min: -1, label },
      ]),
    ).not.toEqual([]);
    expect(
      validateBands([
        { code: 'a', min: 1, label },
        { code: 'b', min: 0.5, label },
      ]),
    ).not.toEqual([]);
    expect(
      validateBands([
        { code: 'a', min: 1, label },
        { code: 'a', min: 0, label },
      ]),
    ).not.toEqual([]);
    expect(validateBands([])).toEqual([]);
    expect(bandOf([], 1)).toBeNull();
    expect(bandOf(BANDS, 0.95)?.code).toBe('medium');
    expect(bandOf(BANDS, 1)?.code).toBe('high');
    expect(bandOf(BANDS, 0)?.code).toBe('low');
  });
});

describe('roll-ups', () => {
  const item = fc.record({
    status: fc.constantFrom<AchievementStatus>('achieved', 'not_achieved', 'pending', 'no_target'),
    degree: maybe(fc.integer({ min: 0, max: 300 }).map((c) => c / 100)),
    weight: fc.integer({ min: 0, max: 10 }),
    overdue: fc.boolean(),
  });
  it('weights: equal weights give the mean; scaling every weight changes nothing; counts still add up', () => {
    fc.assert(
      fc.property(rulesArb, fc.array(item, { maxLength: 30 }), fc.integer({ min: 1, max: 7 }), (rules, items, k) => {
        const s = summarizeWith(rules, items);
        expect(s.achieved + s.notAchieved + s.pending + s.noTarget).toBe(s.total);
        const equal = summarizeWith(
          rules,
          items.map((i) => ({ ...i, weight: 3 })),
        );
        expect(equal.weightedDegree).toBe(equal.meanDegree);
        const scaled = summarizeWith(
          rules,
          items.map((i) => ({ ...i, weight: i.weight * k })),
        );
        expect(scaled.weightedDegree).toBe(s.weightedDegree);
        expect(s.score).toBe(
          rules.rollUp === 'share' ? s.achievementRate : rules.rollUp === 'mean' ? s.meanDegree : s.weightedDegree,
        );
      }),
    );
    expect(() => summarizeWith(DEFAULT_RULES, [{ status: 'achieved', degree: 1, weight: -1, overdue: false }])).toThrow(
      RangeError,
    );
  });

  it('the 2016 report: 14 achieved, 4 not, 1 pending -> 77.78% of decided, 73.68% of all with a target', () => {
    const statuses: AchievementStatus[] = [
      ...Array<AchievementStatus>(14).fill('achieved'),
      ...Array<AchievementStatus>(4).fill('not_achieved'),
      'pending',
    ];
    const items = statuses.map((status) => ({
      status,
      degree: status === 'pending' ? null : 1,
      weight: 1,
      overdue: status === 'pending',
    }));
    const today = summarizeWith(DEFAULT_RULES, items);
    expect([today.achievementRate, today.targetRate, today.pending, today.overdue]).toEqual([77.78, 73.68, 1, 0]);
    const strict = summarizeWith(
      { ...DEFAULT_RULES, pending: { treatment: 'not_achieved_after', deadline: '05-31' } },
      items,
    );
    expect([strict.achievementRate, strict.notAchieved, strict.pending, strict.overdue]).toEqual([73.68, 5, 0, 1]);
  });

  it('pending deadline: in time on the day, overdue after it', () => {
    const rule = { treatment: 'not_achieved_after' as const, deadline: '05-31' };
    expect(isOverdue(rule, 2016, new Date('2017-05-31T23:59:59Z'))).toBe(false);
    expect(isOverdue(rule, 2016, new Date('2017-06-01T00:00:00Z'))).toBe(true);
    expect(isOverdue({ treatment: 'excluded' }, 2000, NOW)).toBe(false);
    expect(() => isOverdue({ treatment: 'not_achieved_after', deadline: 'May' }, 2016, NOW)).toThrow(RangeError);
  });
});

describe('gap and scoreTrend', () => {
  it('gap is positive exactly when better than planned', () => {
    fc.assert(
      fc.property(betterWhen, decimal, decimal, (bw, plan, fact) => {
        const gap = gapOf(plan, fact, bw)!;
        const better = bw === 'higher' ? new Decimal(fact).gt(plan) : new Decimal(fact).lt(plan);
        if (better) expect(gap).toBeGreaterThanOrEqual(0);
        else expect(gap).toBeLessThanOrEqual(0);
      }),
    );
    expect(gapOf('120', '131', 'lower')).toBe(-11);
    expect(gapOf(null, '1', 'higher')).toBeNull();
  });
  it('scoreTrend: CPI score 28 -> 29 improved while the place worsened', () => {
    expect(scoreTrendOf('rank', '28', '29')).toBe('improved');
    expect(scoreTrendOf('number', '28', '29')).toBeNull();
    expect(scoreTrendOf('rank', null, '29')).toBeNull();
  });
});

describe('forecast', () => {
  it('is exact on points on a line', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -500, max: 500 }),
        fc.integer({ min: -100_000, max: 100_000 }),
        fc.integer({ min: 3, max: 8 }),
        betterWhen,
        (slopeCents, interceptCents, n, bw) => {
          const facts = Array.from({ length: n }, (_, i) => ({
            year: 2010 + i,
            fact: ((interceptCents + slopeCents * i) / 100).toFixed(2),
          }));
          const f = forecastTarget(facts, 2030, 2020, '10', bw);
          expect(f.projected).toBe(Number(((interceptCents + slopeCents * 10) / 100).toFixed(2)));
          expect(f.points).toBe(n);
          expect(f.onTrack).toBe(bw === 'higher' ? f.projected! >= 10 : f.projected! <= 10);
        },
      ),
    );
  });
  it('needs three facts, ignores later years, and says why', () => {
    const two = forecastTarget(
      [
        { year: 2014, fact: '1' },
        { year: 2015, fact: '2' },
      ],
      2016,
      2018,
      '3',
      'higher',
    );
    expect([two.projected, two.onTrack, two.points]).toEqual([null, null, 2]);
    expect(two.reason.en).toContain('at least 3');
    const later = forecastTarget(
      [
        { year: 2014, fact: '1' },
        { year: 2015, fact: '2' },
        { year: 2016, fact: '3' },
        { year: 2017, fact: '100' },
      ],
      2016,
      2018,
      '5',
      'higher',
    );
    expect([later.projected, later.onTrack]).toEqual([5, true]);
    expect(forecastTarget([], 2016, 2018, null, 'higher').reason.ru).toContain('Нет плана');
    expect(
      leastSquaresAt(
        [
          { x: 1, y: new Decimal(1) },
          { x: 1, y: new Decimal(2) },
          { x: 1, y: new Decimal(3) },
        ],
        2,
      ),
    ).toBeNull();
  });
});
