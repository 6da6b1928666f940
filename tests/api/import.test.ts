/**
 * Spreadsheet import (POST /plans/{id}/import) and its template: files written the way the
 * official 2016 report is (decimal commas, "(жоспар)"/"(факт)" suffixes, "-", HTML fragments,
 * the misprinted goal "1.1" under direction 2), the report's own section 2 text as a CSV, and
 * files that must be refused without changing anything.
 */
import { readFileSync } from 'node:fs';
import ExcelJS from 'exceljs';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { loadDemoDataset } from '../../src/demo/dataset.js';
import { XLSX_TYPE } from '../../src/imports/parse.js';
import type { Json } from '../helpers/app.js';
import { bearer, call, setupApp, tokenFor } from '../helpers/app.js';
import { API, expectProblem, expectStatus, queryRows, uniqueCode } from '../helpers/fixtures.js';

const ctx = setupApp();
const demo = loadDemoDataset();
const demoIndicators = demo.directions.flatMap((d) => d.goals.flatMap((g) => g.indicators));
const value2016 = (code: string) =>
  demoIndicators.find((i) => i.code === code)!.measurements.find((m) => m.year === 2016)!;

/** The demo's organization, plan, directions, goals and indicators, without measurements. */
async function loadStructure(): Promise<{ planId: string; organizationId: string; goalIds: Map<string, string> }> {
  const app = ctx.app;
  const org = expectStatus(
    await call(app, 'POST', `${API}/organizations`, { ...demo.organization, code: uniqueCode('ORG') }),
    201,
  );
  const plan = expectStatus(await call(app, 'POST', `${API}/plans`, { ...demo.plan, organizationId: org.id }), 201);
  const goalIds = new Map<string, string>();
  for (const d of demo.directions) {
    const dir = expectStatus(
      await call(app, 'POST', `${API}/plans/${plan.id}/directions`, {
        code: d.code,
        title: d.title,
        position: d.position,
      }),
      201,
    );
    for (const g of d.goals) {
      const goal = expectStatus(
        await call(app, 'POST', `${API}/directions/${dir.id}/goals`, {
          code: g.code,
          title: g.title,
          position: g.position,
        }),
        201,
      );
      goalIds.set(g.code, goal.id);
      for (const { measurements: _m, reportVerdict: _v, ...indicator } of g.indicators) {
        expectStatus(await call(app, 'POST', `${API}/goals/${goal.id}/indicators`, indicator), 201);
      }
    }
  }
  return { planId: plan.id, organizationId: org.id, goalIds };
}

/** Writes a number the way the report does: "6,3 (факт)". */
const printed = (v: number | null, suffix: string) => (v === null ? '-' : `${String(v).replace('.', ',')} (${suffix})`);

/** Section 2 of the report, rebuilt from the demo data as the report prints it. */
function reportRows(): (string | number | null)[][] {
  const rows: (string | number | null)[][] = [
    [
      'Нысаналы индикатордың атауы',
      'Ақпарат көзі',
      'Өлш. бірл.',
      'Есепті кезең',
      null,
      'Ескертпе (орындалуы/ орындалмауы туралы ақпарат)',
    ],
    [null, null, null, 'Жоспар', 'Факт', null],
    [1, 2, 3, 4, 5, 6],
  ];
  for (const d of demo.directions) {
    const title = d.code === '1' ? d.title.kk!.replace(/\s/g, '') : d.title.kk!; // the report lost the spaces here
    rows.push([`${d.code}-стратегиялық бағыт. ${title}`]);
    for (const g of d.goals) {
      // The report misprints goal 2.1 as "1.1" (with 1.1's title).
      const goal = g.code === '2.1' ? demo.directions[0]!.goals[0]! : g;
      rows.push([`<p>${goal.code}-мақсат. ${goal.title.kk}</p>`]);
      let group: string | undefined;
      for (const i of g.indicators) {
        if (i.group?.kk && i.group.kk !== group) rows.push([i.group.kk]);
        group = i.group?.kk;
        const m = i.measurements.find((x) => x.year === 2016)!;
        rows.push([
          `<p>${i.name.kk}</p>`,
          i.source.kk!,
          `<p>${i.unit.kk}</p>`,
          `<p>${printed(m.plan, 'жоспар')}</p>`,
          printed(m.fact, 'факт'),
          '<p>Орындалды</p>',
        ]);
        rows.push([null, null, null, null, null, '<p>жалғасы &nbsp; (continued note)</p>']);
        rows.push(['---', '------', '---', '----', '----', '---']);
      }
    }
  }
  return rows;
}

async function xlsxOf(rows: (string | number | null)[][]): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('2');
  for (const row of rows) sheet.addRow(row);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

async function upload(
  planId: string,
  body: Buffer | string,
  type: string,
  query = 'year=2016',
  headers: Record<string, string> = {},
) {
  return call(ctx.app, 'POST', `${API}/plans/${planId}/import?${query}`, body, { 'content-type': type, ...headers });
}

async function feed(planId: string): Promise<Json[]> {
  return expectStatus(await call(ctx.app, 'GET', `${API}/status?year=2016&planId=${planId}&limit=500`), 200).items;
}

async function auditCount(): Promise<number> {
  const [row] = await queryRows(ctx, sql`select count(*)::int as n from audit_log`);
  return row!.n as number;
}

describe('POST /plans/{id}/import', () => {
  it('previews, then imports all 19 indicators of a report-style .xlsx with the right numbers', async () => {
    const { planId } = await loadStructure();
    const file = await xlsxOf(reportRows());
    const preview = expectStatus(await upload(planId, file, XLSX_TYPE), 200);
    expect(preview.committed).toBe(false);
    expect(preview.summary).toMatchObject({
      indicatorRows: 19,
      indicatorsMatched: 19,
      indicatorsCreated: 0,
      measurementsCreated: 19,
      errors: 0,
    });
    expect(preview.summary.directionsMatched).toBe(3);
    // The misprinted goal heading is reported, not silently accepted.
    expect(
      preview.problems.some((p: Json) => p.severity === 'warning' && /printed under direction 2/.test(p.message)),
    ).toBe(true);
    for (const row of preview.indicators) {
      const m = value2016(row.code);
      expect([row.code, row.plan, row.fact]).toEqual([row.code, m.plan, m.fact]);
      expect(row.change).toBe('create');
    }
    // A preview stores nothing.
    expect((await feed(planId)).every((r) => r.plan === null && r.fact === null)).toBe(true);

    const auditBefore = await auditCount();
    const committed = expectStatus(await upload(planId, file, XLSX_TYPE, 'year=2016&commit=true'), 200);
    expect(committed.committed).toBe(true);
    // One audit row per stored measurement, in the import's transaction.
    expect(await auditCount()).toBe(auditBefore + 19);
    const rows = await feed(planId);
    expect(rows).toHaveLength(19);
    for (const r of rows) {
      const m = value2016(r.code);
      expect({ code: r.code, plan: r.plan, fact: r.fact }).toEqual({ code: r.code, plan: m.plan, fact: m.fact });
    }
    const turnover = rows.find((r) => r.code === '1.1.1')!;
    expect([turnover.plan, turnover.fact, turnover.status]).toEqual([9, 6.3, 'achieved']);
    expect(rows.filter((r) => r.status === 'pending')).toHaveLength(1); // the "-" fact
    // Notes keep the continuation rows, without HTML.
    const one = expectStatus(
      await call(ctx.app, 'GET', `${API}/indicators/${turnover.indicatorId}/measurements/2016`),
      200,
    );
    expect(one.note.kk).toBe('Орындалды жалғасы (continued note)');

    // Importing the same file again changes nothing.
    const again = expectStatus(await upload(planId, file, XLSX_TYPE), 200);
    expect(again.summary).toMatchObject({ measurementsUnchanged: 19, measurementsCreated: 0, measurementsChanged: 0 });
  });

  it('reads section 2 of the reference report, copied as text, as a CSV', async () => {
    const { planId } = await loadStructure();
    // A copy of ../shared/reference/ kept with the tests, so a clone alone can run them.
    const text = readFileSync(new URL('../fixtures/agency-strategic-plan-report-2016.kk.txt', import.meta.url), 'utf8');
    const start = text.indexOf('Нысаналы индикатордың атауы');
    const section = text.slice(start, text.indexOf('3. Талдамалық жазба'));
    const preview = expectStatus(await upload(planId, section, 'text/csv'), 200);
    expect(preview.summary).toMatchObject({ indicatorsMatched: 19, indicatorsCreated: 0, errors: 0 });
    for (const row of preview.indicators) {
      const m = value2016(row.code);
      expect({ code: row.code, plan: row.plan, fact: row.fact }).toEqual({
        code: row.code,
        plan: m.plan,
        fact: m.fact,
      });
    }
  });

  it('creates new indicators only when higher/lower is said; ranks are recognised from the unit', async () => {
    const { planId } = await loadStructure();
    const rows = [
      ['Индикатор', 'Источник информации', 'Ед. изм.', 'План', 'Факт', 'Примечание', 'betterWhen'],
      ['Стратегическое направление 3. Противодействие коррупции'],
      ['Цель 3.2. Снижение уровня коррупции'],
      ['Место в новом рейтинге', 'Данные рейтинга', 'место в рейтинге', '40 (план)', '38 (факт)', null, null],
      ['Доля нового показателя', 'Отчёты', '%', '12,5', '-', null, null],
      ['Текучесть нового типа', 'Отчёты', '%', '7', '8', null, 'меньше'],
    ];
    const preview = expectStatus(await upload(planId, await xlsxOf(rows), XLSX_TYPE, 'year=2016&lang=ru'), 200);
    expect(preview.summary).toMatchObject({ indicatorsCreated: 3, errors: 1 });
    const created = preview.indicators.map((i: Json) => [i.code, i.valueType, i.betterWhen]);
    expect(created).toEqual([
      ['3.2.6', 'rank', 'lower'],
      ['3.2.7', 'percent', null],
      ['3.2.8', 'percent', 'lower'],
    ]);
    expect(preview.problems.find((p: Json) => p.severity === 'error')).toMatchObject({ row: 5, column: 'betterWhen' });
    // The commit refuses the whole file and stores nothing.
    const before = await auditCount();
    const refused = await upload(planId, await xlsxOf(rows), XLSX_TYPE, 'year=2016&lang=ru&commit=true');
    expectProblem(refused, 400, ['body.rows[5].betterWhen']);
    expect(await auditCount()).toBe(before);

    rows[4]![6] = 'higher';
    const done = expectStatus(
      await upload(planId, await xlsxOf(rows), XLSX_TYPE, 'year=2016&lang=ru&commit=true'),
      200,
    );
    expect(done.summary).toMatchObject({ indicatorsCreated: 3, measurementsCreated: 3, errors: 0 });
    const stored = (await feed(planId))
      .filter((r) => ['3.2.6', '3.2.7', '3.2.8'].includes(r.code))
      .sort((a, b) => a.code.localeCompare(b.code));
    expect(stored.map((r) => [r.code, r.valueType, r.betterWhen, r.plan, r.fact, r.unit.ru])).toEqual([
      ['3.2.6', 'rank', 'lower', 40, 38, 'место в рейтинге'],
      ['3.2.7', 'percent', 'higher', 12.5, null, '%'],
      ['3.2.8', 'percent', 'lower', 7, 8, '%'],
    ]);
  });

  it('refuses wrong columns, an empty file, a non-spreadsheet and a 50 MB file, changing nothing', async () => {
    const { planId } = await loadStructure();
    const before = await auditCount();
    const wrongColumns = await xlsxOf([
      ['name', 'value'],
      ['x', 1],
    ]);
    expect(expectProblem(await upload(planId, wrongColumns, XLSX_TYPE, 'year=2016&commit=true'), 400).detail).toMatch(
      /columns/,
    );
    expectProblem(await upload(planId, 'name;value\nx;1\n', 'text/csv', 'year=2016&commit=true'), 400);
    expect(
      expectProblem(await upload(planId, Buffer.alloc(0), XLSX_TYPE, 'year=2016&commit=true'), 400).detail,
    ).toMatch(/empty/i);
    expectProblem(await upload(planId, '', 'text/csv', 'year=2016&commit=true'), 400);
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    expectProblem(await upload(planId, png, XLSX_TYPE, 'year=2016&commit=true'), 400);
    expectProblem(
      await upload(
        planId,
        Buffer.concat([Buffer.from('PK\u0003\u0004'), Buffer.alloc(100, 7)]),
        XLSX_TYPE,
        'year=2016&commit=true',
      ),
      400,
    );
    expectProblem(await upload(planId, png, 'text/csv', 'year=2016&commit=true'), 400);
    expectProblem(await upload(planId, '{"a":1}', 'application/json', 'year=2016&commit=true'), 415);
    expectProblem(await upload(planId, png, 'image/png', 'year=2016&commit=true'), 415);
    expectProblem(await upload(planId, Buffer.alloc(50 * 1024 * 1024, 65), 'text/csv', 'year=2016&commit=true'), 413);
    expectProblem(await upload(planId, await xlsxOf(reportRows()), XLSX_TYPE, 'commit=true'), 400, ['query.year']);
    expectProblem(await upload(planId, await xlsxOf(reportRows()), XLSX_TYPE, 'year=1990'), 400, ['query.year']);
    expect(await auditCount()).toBe(before);
    expect((await feed(planId)).every((r) => r.plan === null)).toBe(true);
  });

  it('accepts multipart/form-data with a file field', async () => {
    const { planId } = await loadStructure();
    const file = await xlsxOf(reportRows());
    const boundary = '----nysana-test';
    const body = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="report.xlsx"\r\nContent-Type: ${XLSX_TYPE}\r\n\r\n`,
      ),
      file,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const preview = expectStatus(await upload(planId, body, `multipart/form-data; boundary=${boundary}`), 200);
    expect(preview.summary).toMatchObject({ indicatorsMatched: 19, errors: 0 });
  });

  it('respects approved years and the editor organization scope', async () => {
    const { planId, organizationId } = await loadStructure();
    const file = await xlsxOf(reportRows());
    const otherOrg = expectStatus(
      await call(ctx.app, 'POST', `${API}/organizations`, { code: uniqueCode('ORG'), name: { en: 'Other' } }),
      201,
    );
    const other = await tokenFor(ctx, { role: 'editor', organizationId: otherOrg.id });
    expectProblem(await upload(planId, file, XLSX_TYPE, 'year=2016', bearer(other)), 403);
    const viewer = await tokenFor(ctx, { role: 'viewer' });
    expectProblem(await upload(planId, file, XLSX_TYPE, 'year=2016', bearer(viewer)), 403);
    const editor = await tokenFor(ctx, { role: 'editor', organizationId });
    expectStatus(await upload(planId, file, XLSX_TYPE, 'year=2016', bearer(editor)), 200);

    expectStatus(
      await call(ctx.app, 'POST', `${API}/plans/${planId}/years/2016/approve`, {
        document: { en: 'Order No. 63' },
        date: '2016-11-22',
      }),
      201,
    );
    const preview = expectStatus(await upload(planId, file, XLSX_TYPE, 'year=2016', bearer(editor)), 200);
    expect(preview.problems.some((p: Json) => /approved/.test(p.message))).toBe(true);
    expectProblem(await upload(planId, file, XLSX_TYPE, 'year=2016&commit=true', bearer(editor)), 409);
    expect((await feed(planId)).every((r) => r.plan === null)).toBe(true);
  });
});

describe('GET /plans/{id}/template.xlsx', () => {
  it('gives the layout with headings and indicators; filled in, it imports by code', async () => {
    const { planId } = await loadStructure();
    const res = await call(ctx.app, 'GET', `${API}/plans/${planId}/template.xlsx`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(XLSX_TYPE);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(res.raw.rawPayload as unknown as ArrayBuffer);
    const sheet = workbook.worksheets[0]!;
    const values = (n: number) => (sheet.getRow(n).values as unknown[]).slice(1);
    expect(values(1)[0]).toBe('Нысаналы индикатордың атауы');
    expect(values(2)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(String(values(3)[0])).toMatch(/^1-стратегиялық бағыт\. /);
    expect(String(values(4)[0])).toMatch(/^1\.1-мақсат\. /);
    expect(String(values(5)[0])).toMatch(/^1\.1\.1 /);
    // Fill plan and fact in every indicator row, then import.
    sheet.eachRow((row) => {
      const code = /^(\d+\.\d+\.\d+) /.exec(String(row.getCell(1).value ?? ''))?.[1];
      if (!code) return;
      const m = value2016(code);
      row.getCell(4).value = m.plan;
      row.getCell(5).value = m.fact;
    });
    const filled = Buffer.from(await workbook.xlsx.writeBuffer());
    const done = expectStatus(await upload(planId, filled, XLSX_TYPE, 'year=2016&commit=true'), 200);
    expect(done.summary).toMatchObject({ indicatorsMatched: 19, measurementsCreated: 19, errors: 0 });
    expect(done.indicators.every((i: Json) => i.match === 'code')).toBe(true);
    for (const r of await feed(planId))
      expect([r.plan, r.fact]).toEqual([value2016(r.code).plan, value2016(r.code).fact]);
  });
});
