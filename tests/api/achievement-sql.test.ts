/**
 * The achievement status rule is written twice on purpose: in TypeScript (deriveStatus,
 * src/achievement/compute.ts) for answers, and in SQL (statusSql, src/achievement/status-sql.ts)
 * for the database to filter by it. This property test runs the SQL form on the test database
 * (PostgreSQL or PGlite) over arbitrary values, zero, negative, equal in other spellings, missing,
 * huge and long decimals, and holds it equal to the TypeScript rule. NaN and +-Infinity, the values
 * on which the two could not agree, cannot be stored (migration 0011): the second block checks that.
 */
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BetterWhen } from '../../src/achievement/compute.js';
import { deriveStatus } from '../../src/achievement/compute.js';
import { statusSql } from '../../src/achievement/status-sql.js';
import { setupApp } from '../helpers/app.js';
import type { Tree } from '../helpers/fixtures.js';
import { createTree, queryRows } from '../helpers/fixtures.js';

const ctx = setupApp();

// A failing property can shrink for long on a busy machine; report what was found by then.
fc.configureGlobal({ interruptAfterTimeLimit: 60_000, markInterruptAsFailure: true });

const digits = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
/** Decimal text as the API or PostgreSQL could hand it over: signs, zeros, long fractions, exponents. */
const decimal = fc.oneof(
  fc.constantFrom(
    '0',
    '-0',
    '+0',
    '0.000',
    '-0.0',
    '1',
    '-1',
    '0.5',
    '99.995',
    '1e300',
    '-1e300',
    '1e-300',
    '9'.repeat(300),
    `0.${'0'.repeat(80)}1`,
  ),
  fc
    .tuple(fc.constantFrom('', '-', '+'), digits(1, 40), fc.option(digits(1, 40), { nil: undefined }))
    .map(([sign, int, frac]) => `${sign}${int}${frac === undefined ? '' : `.${frac}`}`),
  fc
    .tuple(fc.constantFrom('', '-'), digits(1, 20), fc.integer({ min: -300, max: 300 }))
    .map(([sign, m, e]) => `${sign}${m}e${e}`),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
);
/** The same number spelled otherwise: trailing zeros, an exponent of zero, a plus sign. */
const sameValue = (text: string) =>
  fc.constantFrom(
    text,
    /[.e]/i.test(text) ? text : `${text}.000`,
    /e/i.test(text) ? text : `${text}e0`,
    text.startsWith('-') || text.startsWith('+') ? text : `+${text}`,
  );
const value = fc.option(decimal, { nil: null, freq: 6 });
const aCase = value.chain((plan) =>
  fc.record({
    plan: fc.constant(plan),
    fact: plan === null ? value : fc.oneof(value, sameValue(plan)),
    betterWhen: fc.constantFrom<BetterWhen>('higher', 'lower'),
  }),
);

/** statusSql over every case in one statement, in order. */
async function sqlStatuses(
  cases: { plan: string | null; fact: string | null; betterWhen: BetterWhen }[],
): Promise<string[]> {
  const rule = statusSql(sql`c.plan::numeric`, sql`c.fact::numeric`, sql`c.better_when`);
  const rows = await queryRows(
    ctx,
    sql`select ${rule} as status from jsonb_to_recordset(${JSON.stringify(cases.map((c, i) => ({ i, plan: c.plan, fact: c.fact, better_when: c.betterWhen })))}::jsonb)
      as c(i int, plan text, fact text, better_when text) order by c.i`,
  );
  return rows.map((r) => r.status as string);
}

describe('the status rule in SQL', () => {
  it('decides as the TypeScript rule on arbitrary values', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(aCase, { minLength: 1, maxLength: 60 }), async (cases) => {
        const expected = cases.map((c) => deriveStatus(c.plan, c.fact, c.betterWhen));
        expect(await sqlStatuses(cases)).toEqual(expected);
      }),
      { numRuns: 150 },
    );
  });

  it('agrees on the edges by name: missing, equal in other spellings, zero against minus zero, huge against tiny', async () => {
    const cases = [
      { plan: null, fact: '1', betterWhen: 'higher' as const, status: 'no_target' },
      { plan: '1', fact: null, betterWhen: 'lower' as const, status: 'pending' },
      { plan: '1.30', fact: '1.3', betterWhen: 'higher' as const, status: 'achieved' },
      { plan: '1.30', fact: '1.3', betterWhen: 'lower' as const, status: 'achieved' },
      { plan: '0', fact: '-0', betterWhen: 'higher' as const, status: 'achieved' },
      { plan: '-5', fact: '-6', betterWhen: 'higher' as const, status: 'not_achieved' },
      { plan: '1e-300', fact: '1e300', betterWhen: 'lower' as const, status: 'not_achieved' },
      { plan: `0.${'0'.repeat(60)}1`, fact: `0.${'0'.repeat(60)}2`, betterWhen: 'higher' as const, status: 'achieved' },
    ];
    expect(await sqlStatuses(cases)).toEqual(cases.map((c) => c.status));
    expect(cases.map((c) => deriveStatus(c.plan, c.fact, c.betterWhen))).toEqual(cases.map((c) => c.status));
  });
});

describe('measurement values are finite numbers', () => {
  let tree: Tree;
  beforeAll(async () => {
    tree = await createTree(ctx.app);
  });

  it.each(['plan', 'fact', 'score'])('the database refuses NaN and +-Infinity as %s', async (column) => {
    for (const bad of ['NaN', 'Infinity', '-Infinity']) {
      const insert = queryRows(
        ctx,
        sql`insert into measurements (indicator_id, year, ${sql.identifier(column)}) values (${tree.indicator.id}, 2016, ${bad}::numeric)`,
      );
      await expect(insert).rejects.toMatchObject({ cause: { code: '23514' } });
    }
    // A finite value in the same place is stored (the largest the API accepts: measurements_values_check bounds them at 1e15).
    await queryRows(
      ctx,
      sql`insert into measurements (indicator_id, year, ${sql.identifier(column)}) values (${tree.indicator.id}, 2016, ${'1e15'}::numeric)`,
    );
    await queryRows(ctx, sql`delete from measurements where indicator_id = ${tree.indicator.id}`);
  });
});
