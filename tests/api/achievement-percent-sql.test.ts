/**
 * achievementPercent, deviation and trend are written twice, like the status rule: in TypeScript
 * (src/achievement/compute.ts) for answers, and in SQL (src/achievement/status-sql.ts) for the
 * OData feed's $filter and $orderby on them. This property test runs the SQL forms on the test
 * database (PostgreSQL or PGlite) over arbitrary decimals, zero, negative, missing, equal in other
 * spellings, huge and tiny, and holds them equal to the TypeScript rules.
 */
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BetterWhen } from '../../src/achievement/compute.js';
import { achievementPercent, deviation, trend } from '../../src/achievement/compute.js';
import { achievementPercentSql, deviationSql, trendSql } from '../../src/achievement/status-sql.js';
import { setupApp } from '../helpers/app.js';
import { queryRows } from '../helpers/fixtures.js';

const ctx = setupApp();

fc.configureGlobal({ interruptAfterTimeLimit: 60_000, markInterruptAsFailure: true });

const digits = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
const decimal = fc.oneof(
  fc.constantFrom(
    '0',
    '-0',
    '0.000',
    '1',
    '-1',
    '0.5',
    '99.995',
    '1e300',
    '1e-300',
    '9'.repeat(300),
    `0.${'0'.repeat(80)}1`,
    '3',
    '7',
    '0.0003',
  ),
  fc
    .tuple(fc.constantFrom('', '-'), digits(1, 18), fc.option(digits(1, 18), { nil: undefined }))
    .map(([sign, int, frac]) => `${sign}${int}${frac === undefined ? '' : `.${frac}`}`),
  fc
    .tuple(fc.constantFrom('', '-'), digits(1, 12), fc.integer({ min: -300, max: 300 }))
    .map(([sign, m, e]) => `${sign}${m}e${e}`),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e15, max: 1e15 }).map(String),
);
const value = fc.option(decimal, { nil: null, freq: 6 });
const aCase = fc.record({ plan: value, fact: value, betterWhen: fc.constantFrom<BetterWhen>('higher', 'lower') });
type Case = { plan: string | null; fact: string | null; betterWhen: BetterWhen };

/** Both SQL forms over every case in one statement, in order, as JS numbers (null stays null). */
async function sqlValues(
  cases: Case[],
): Promise<{ percent: number | null; deviation: number | null; trend: string | null }[]> {
  const [plan, fact, better] = [sql`c.plan::numeric`, sql`c.fact::numeric`, sql`c.better_when`];
  const rows = await queryRows(
    ctx,
    // trend reads the pair as (previous fact, fact).
    sql`select (${achievementPercentSql(plan, fact, better)})::text as percent, (${deviationSql(plan, fact)})::text as deviation,
        ${trendSql(plan, fact, better)} as trend
      from jsonb_to_recordset(${JSON.stringify(cases.map((c, i) => ({ i, plan: c.plan, fact: c.fact, better_when: c.betterWhen })))}::jsonb)
      as c(i int, plan text, fact text, better_when text) order by c.i`,
  );
  const toNumber = (v: unknown) => {
    if (v === null) return null;
    const n = Number(v);
    return Number.isFinite(n) ? n || 0 : null;
  };
  return rows.map((r) => ({
    percent: toNumber(r.percent),
    deviation: toNumber(r.deviation),
    trend: (r.trend as string | null) ?? null,
  }));
}

const expected = (c: Case) => ({
  percent: achievementPercent(c.plan, c.fact, c.betterWhen),
  deviation: deviation(c.plan, c.fact),
  trend: trend(c.plan, c.fact, c.betterWhen),
});
const percentAndDeviation = ({ percent, deviation }: { percent: number | null; deviation: number | null }) => ({
  percent,
  deviation,
});

describe('achievementPercent, deviation and trend in SQL', () => {
  it('agree with the TypeScript rules on arbitrary values', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(aCase, { minLength: 1, maxLength: 60 }), async (cases) => {
        expect(await sqlValues(cases)).toEqual(cases.map(expected));
      }),
      { numRuns: 120 },
    );
  });

  it('agree on the edges by name: zero divisors, negatives, missing, rounding half away from zero, beyond a double', async () => {
    const cases: (Case & { percent: number | null; deviation: number | null })[] = [
      { plan: '0', fact: '0', betterWhen: 'higher', percent: null, deviation: 0 },
      { plan: '0', fact: '5', betterWhen: 'higher', percent: null, deviation: 5 },
      { plan: '5', fact: '0', betterWhen: 'lower', percent: null, deviation: -5 },
      { plan: '-1', fact: '5', betterWhen: 'higher', percent: null, deviation: 6 },
      { plan: '10', fact: null, betterWhen: 'higher', percent: null, deviation: null },
      { plan: '3', fact: '1', betterWhen: 'higher', percent: 33.33, deviation: -2 },
      { plan: '3', fact: '2', betterWhen: 'higher', percent: 66.67, deviation: -1 },
      { plan: '8', fact: '10', betterWhen: 'lower', percent: 80, deviation: 2 },
      { plan: '1.30', fact: '1.3', betterWhen: 'higher', percent: 100, deviation: 0 },
      { plan: '1', fact: '0.00005', betterWhen: 'higher', percent: 0.01, deviation: -1 },
      { plan: '1', fact: '1.005', betterWhen: 'higher', percent: 100.5, deviation: 0.01 },
      { plan: '0', fact: '-0.005', betterWhen: 'higher', percent: null, deviation: -0.01 },
      { plan: '1e-300', fact: '1e300', betterWhen: 'higher', percent: null, deviation: 1e300 },
    ];
    expect((await sqlValues(cases)).map(percentAndDeviation)).toEqual(
      cases.map((c) => ({ percent: c.percent, deviation: c.deviation })),
    );
    expect(cases.map(expected).map(percentAndDeviation)).toEqual(
      cases.map((c) => ({ percent: c.percent, deviation: c.deviation })),
    );
  });
});
