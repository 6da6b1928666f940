/**
 * Nothing is stored that the API cannot serve (issue 16, item 1): imports check every row with the
 * API's own schemas, the database's CHECK constraints (migration 0009) hold every limit the API
 * states whichever path writes, and a write whose answer would not fit its response schema is
 * rolled back rather than committed behind a 500.
 */
import ExcelJS from 'exceljs';
import { sql } from 'drizzle-orm';
import type { SQL } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { XLSX_TYPE } from '../../src/imports/parse.js';
import type { Json } from '../helpers/app.js';
import { call, setupApp } from '../helpers/app.js';
import {
  API,
  createDirection,
  createGoal,
  createTree,
  expectProblem,
  expectStatus,
  queryRows,
} from '../helpers/fixtures.js';
import type { Tree } from '../helpers/fixtures.js';

const ctx = setupApp();

async function xlsxOf(rows: (string | number | null)[][]): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('2');
  for (const row of rows) sheet.addRow(row);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

const HEADER = ['Индикатор', 'Источник информации', 'Ед. изм.', 'План', 'Факт', 'Примечание', 'betterWhen'];

async function importRows(planId: string, rows: (string | number | null)[][], commit: boolean) {
  return call(
    ctx.app,
    'POST',
    `${API}/plans/${planId}/import?year=2016&lang=ru${commit ? '&commit=true' : ''}`,
    await xlsxOf([HEADER, ...rows]),
    {
      'content-type': XLSX_TYPE,
    },
  );
}

const counts = async () =>
  (
    await queryRows(
      ctx,
      sql`select (select count(*)::int from directions) as directions, (select count(*)::int from goals) as goals,
                 (select count(*)::int from indicators) as indicators, (select count(*)::int from measurements) as measurements,
                 (select count(*)::int from audit_log) as audit`,
    )
  )[0];

/** The SQLSTATE a statement fails with (undefined when it succeeds). */
async function failureOf(query: SQL): Promise<string | undefined> {
  try {
    await ctx.db.database.db.execute(query);
    return undefined;
  } catch (error) {
    let e: unknown = error;
    while (e && typeof e === 'object' && !('code' in e && typeof (e as { code: unknown }).code === 'string'))
      e = (e as { cause?: unknown }).cause;
    return (e as { code?: string } | undefined)?.code ?? 'unknown';
  }
}

describe('imports check every row with the API schemas', () => {
  let tree: Tree;
  let goal: Json;
  beforeAll(async () => {
    tree = await createTree(ctx.app, { plan: { startYear: 2014, endYear: 2018 } });
    // Numbered as a report numbers them, so the headings below match them by code.
    const direction = await createDirection(ctx.app, tree.plan.id, { code: '1' });
    goal = await createGoal(ctx.app, direction.id, { code: '1.1' });
  });
  const headings = () => [['Стратегическое направление 1. Direction'], ['Цель 1.1. Goal']];

  it('refuses an indicator code over 64 characters (400 naming the row and column); nothing is stored', async () => {
    const longCode = `1.1.${Array.from({ length: 40 }, () => '1').join('.')}`;
    expect(longCode.length).toBeGreaterThan(80);
    const rows = [...headings(), [`${longCode} Новый показатель`, 'Отчёты', '%', '1', '2', null, 'higher']];
    const preview = expectStatus(await importRows(tree.plan.id, rows, false), 200);
    expect(preview.problems).toContainEqual(expect.objectContaining({ row: 4, column: 'code', severity: 'error' }));
    const before = await counts();
    const refused = await importRows(tree.plan.id, rows, true);
    expectProblem(refused, 400, ['body.rows[4].code']);
    expect(await counts()).toEqual(before);
  });

  it('refuses a new direction whose code is over 64 characters', async () => {
    const longCode = '9'.repeat(70);
    const rows = [
      [`Стратегическое направление ${longCode}. Новое направление`],
      ['Цель 9.1. Новая цель'],
      ['Показатель', 'Отчёты', '%', '1', '2', null, 'higher'],
    ];
    const before = await counts();
    const refused = await importRows(tree.plan.id, rows, true);
    expect(refused.status, refused.raw.body).toBe(400);
    expect(refused.body.errors.map((e: Json) => e.path)).toContain('body.rows[2].code');
    expect(await counts()).toEqual(before);
  });

  it('refuses to append an indicator past position 1,000,000; one that fits is stored at the next position', async () => {
    const last = expectStatus(
      await call(ctx.app, 'POST', `${API}/goals/${goal.id}/indicators`, {
        code: '7.7.7',
        name: { ru: 'Последний' },
        unit: { ru: '%' },
        source: { ru: 'Отчёты' },
        valueType: 'percent',
        betterWhen: 'higher',
        position: 1_000_000,
      }),
      201,
    );
    const rows = [...headings(), ['Ещё один показатель', 'Отчёты', '%', '1', '2', null, 'higher']];
    const before = await counts();
    const refused = await importRows(tree.plan.id, rows, true);
    expectProblem(refused, 400, ['body.rows[4].position']);
    expect(await counts()).toEqual(before);

    // With room left, the appended position is the next one, and every read answers 200.
    expectStatus(await call(ctx.app, 'PATCH', `${API}/indicators/${last.id}`, { position: 10 }), 200);
    const done = expectStatus(await importRows(tree.plan.id, rows, true), 200);
    expect(done.summary).toMatchObject({ indicatorsCreated: 1, errors: 0 });
    const list = expectStatus(await call(ctx.app, 'GET', `${API}/goals/${goal.id}/indicators?limit=500`), 200);
    const created = list.items.find((i: Json) => i.name.ru === 'Ещё один показатель');
    expect(created.position).toBe(11);
    expectStatus(await call(ctx.app, 'GET', `${API}/indicators/${created.id}`), 200);
    expectStatus(await call(ctx.app, 'GET', `${API}/plans/${tree.plan.id}/directions`), 200);
  });
});

describe('the database refuses rows that break a limit of the API, whatever writes them', () => {
  it('answers 23514 (check_violation) to direct SQL inserts and updates beyond each limit', async () => {
    const tree = await createTree(ctx.app);
    const goal = tree.goal.id;
    const indicator = (code: string, position: number, name = '{"en":"n"}') =>
      sql`insert into indicators (goal_id, code, name, unit, source, value_type, better_when, position)
          values (${goal}, ${code}, ${name}::jsonb, '{"en":"%"}', '{"en":"s"}', 'percent', 'higher', ${position})`;
    // Within the limits: accepted (so the refusals below are about the limit, not the statement).
    expect(await failureOf(indicator('5.5.5', 1_000_000))).toBeUndefined();
    const refusals: [string, SQL][] = [
      ['indicator code of 80 characters', indicator('1.'.repeat(40) + '1', 1)],
      ['indicator code with a space', indicator('1 1', 1)],
      ['indicator position 1,000,001', indicator('5.5.6', 1_000_001)],
      ['negative position', indicator('5.5.7', -1)],
      ['name without any text', indicator('5.5.8', 1, '{}')],
      ['name in an unknown language', indicator('5.5.9', 1, '{"de":"Name"}')],
      ['name of blanks only', indicator('5.5.10', 1, '{"en":"   "}')],
      ['name over 4000 characters', indicator('5.5.11', 1, JSON.stringify({ en: 'x'.repeat(4001) }))],
      ['name over 4000 UTF-16 units (2001 emoji)', indicator('5.5.12', 1, JSON.stringify({ en: '🌿'.repeat(2001) }))],
      [
        'direction code of 70 characters',
        sql`insert into directions (plan_id, code, title, position) values (${tree.plan.id}, ${'9'.repeat(70)}, '{"en":"t"}', 1)`,
      ],
      ['plan year 1899', sql`update plans set start_year = 1899 where id = ${tree.plan.id}`],
      [
        'plan approval without a date',
        sql`update plans set approval = '{"document":{"en":"Order"}}'::jsonb where id = ${tree.plan.id}`,
      ],
      [
        'measurement year 2201',
        sql`insert into measurements (indicator_id, year, plan) values (${tree.indicator.id}, 2201, 1)`,
      ],
      [
        'measurement plan beyond 1e15',
        sql`insert into measurements (indicator_id, year, plan) values (${tree.indicator.id}, 2016, 1e16)`,
      ],
      [
        'rating size 0',
        sql`insert into measurements (indicator_id, year, rating_size) values (${tree.indicator.id}, 2016, 0)`,
      ],
      ['organization name {}', sql`update organizations set name = '{}'::jsonb where id = ${tree.organization.id}`],
      [
        'risk position over the limit',
        sql`insert into risks (goal_id, year, position, risk, planned_measures, execution_status) values (${goal}, 2016, 1000001, '{"en":"r"}', '{"en":"m"}', 'executed')`,
      ],
      [
        'empty analytical note',
        sql`insert into analytical_notes (plan_id, year, blocks) values (${tree.plan.id}, 2016, '[]'::jsonb)`,
      ],
      ['user display name of 201 characters', sql`update users set display_name = ${'d'.repeat(201)}`],
      ['upper-case e-mail address', sql`update users set email = upper(email)`],
      ['client name empty', sql`insert into service_clients (name, role, secret_hash) values ('  ', 'viewer', 'h')`],
      [
        'approval date not YYYY-MM-DD',
        sql`insert into year_approvals (plan_id, year, document, date) values (${tree.plan.id}, 2016, '{"en":"d"}', '22.11.2016')`,
      ],
    ];
    for (const [what, query] of refusals) expect(await failureOf(query), what).toBe('23514');
  });

  it('answers 400 (not 500) when an API write reaches such a constraint', async () => {
    const tree = await createTree(ctx.app);
    // The schema allows 1e15; the database agrees at the edge.
    expectStatus(
      await call(ctx.app, 'PUT', `${API}/indicators/${tree.indicator.id}/measurements/2016`, {
        plan: 1e15,
        fact: -1e15,
      }),
      201,
    );
  });
});

describe('a write whose answer cannot be served is rolled back', () => {
  it('a row breaking a limit the database cannot express (a code with non-ASCII punctuation): PATCH answers 500 and commits nothing', async () => {
    const tree = await createTree(ctx.app);
    // The letter-or-digit rule of codes depends on Unicode classes the database's locale may lack, so
    // the CHECK covers ASCII only; the API's schema refuses "«1»", and a direct SQL write can store it.
    await queryRows(ctx, sql`update indicators set code = '«1»' where id = ${tree.indicator.id}`);
    const auditBefore = await queryRows(
      ctx,
      sql`select count(*)::int as n from audit_log where entity_id = ${tree.indicator.id}`,
    );
    const res = await call(ctx.app, 'PATCH', `${API}/indicators/${tree.indicator.id}`, { name: { en: 'Renamed' } });
    expectProblem(res, 500);
    expect(res.body.detail).toMatch(/nothing was changed/);
    const [row] = await queryRows(ctx, sql`select version, name from indicators where id = ${tree.indicator.id}`);
    expect(row).toEqual({ version: tree.indicator.version, name: tree.indicator.name });
    expect(
      await queryRows(ctx, sql`select count(*)::int as n from audit_log where entity_id = ${tree.indicator.id}`),
    ).toEqual(auditBefore);
    // Repaired, the row is writable again.
    await queryRows(ctx, sql`update indicators set code = '1.1.9' where id = ${tree.indicator.id}`);
    expectStatus(
      await call(ctx.app, 'PATCH', `${API}/indicators/${tree.indicator.id}`, { name: { en: 'Renamed' } }),
      200,
    );
  });

  it('a row stored before migration 0009 (its constraint left NOT VALID): a write that keeps it bad answers 400, nothing changes', async () => {
    const tree = await createTree(ctx.app);
    // As the migration leaves a database that already held such a row: constraint added NOT VALID.
    await queryRows(ctx, sql`alter table indicators drop constraint indicators_code_check`);
    try {
      await queryRows(ctx, sql`update indicators set code = ${'X'.repeat(80)} where id = ${tree.indicator.id}`);
    } finally {
      await queryRows(
        ctx,
        sql`alter table indicators add constraint indicators_code_check check (nysana_code_ok(code)) not valid`,
      );
    }
    expectProblem(
      await call(ctx.app, 'PATCH', `${API}/indicators/${tree.indicator.id}`, { name: { en: 'Renamed' } }),
      400,
    );
    const [row] = await queryRows(ctx, sql`select version from indicators where id = ${tree.indicator.id}`);
    expect(row).toEqual({ version: tree.indicator.version });
    // Fixed through the API itself, the constraint then validates.
    expectStatus(await call(ctx.app, 'PATCH', `${API}/indicators/${tree.indicator.id}`, { code: '1.1.8' }), 200);
    await queryRows(ctx, sql`alter table indicators validate constraint indicators_code_check`);
  });
});
