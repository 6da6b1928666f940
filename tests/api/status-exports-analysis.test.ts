/**
 * Analysis-ready flat exports (issue 15): codes and localized names next to the ids, a localized
 * status label next to the status code, the natural order, a decimal comma with ";" (or
 * ?decimal=), codes that stay text in XLSX, and dates that are Excel dates in every XLSX export.
 * The streamed CSV (PostgreSQL: status-csv.ts) and the generic encoder (PGlite, ?limit pages)
 * must write the same cells.
 */
import ExcelJS from 'exceljs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Json } from '../helpers/app.js';
import { call, setupApp } from '../helpers/app.js';
import { STATUS_COLUMNS, parseCsv } from '../helpers/csv.js';
import {
  API,
  createDirection,
  createGoal,
  createIndicator,
  createOrganization,
  createPlan,
  expectProblem,
  putMeasurement,
} from '../helpers/fixtures.js';

const ctx = setupApp();
const col = (name: string) => STATUS_COLUMNS.indexOf(name);

let org: Json;
let plan: Json;

beforeAll(async () => {
  org = await createOrganization(ctx.app, {
    code: 'ORG-AN',
    name: { kk: 'Агенттік', ru: 'Агентство; "А"', en: 'Agency' },
  });
  plan = await createPlan(ctx.app, org.id, { code: '2014-2018', title: { ru: 'План', en: 'Plan' } });
  const dir = await createDirection(ctx.app, plan.id, { code: '1', title: { en: 'Direction' } });
  const goal = await createGoal(ctx.app, dir.id, { code: '1.1', title: { kk: '=Мақсат' } });
  for (const code of ['1.1.10', '1.1.9', '1.1.7']) {
    const ind = await createIndicator(ctx.app, goal.id, { code });
    if (code === '1.1.10') await putMeasurement(ctx.app, ind.id, 2016, { plan: 99.5, fact: 40.25 });
    if (code === '1.1.9') await putMeasurement(ctx.app, ind.id, 2016, { plan: 10 });
  }
});

async function csv(query: string, sep = ','): Promise<string[][]> {
  const res = await call(
    ctx.app,
    'GET',
    `${API}/status?year=2016&planId=${plan.id}&format=csv&sep=${encodeURIComponent(sep)}&${query}`,
  );
  expect(res.status).toBe(200);
  const rows = parseCsv(res.raw.body.slice(1), sep);
  expect(rows[0]).toEqual(STATUS_COLUMNS);
  return rows.slice(1);
}

describe('status CSV', () => {
  for (const paged of [false, true]) {
    const limit = paged ? '&limit=500' : '';
    it(`carries codes and names next to the ids and a status label, in natural order${paged ? ' (?limit page)' : ''}`, async () => {
      const rows = await csv(`lang=ru${limit}`);
      expect(rows.map((r) => r[col('code')])).toEqual(['1.1.7', '1.1.9', '1.1.10']);
      const r = rows[2]!;
      expect([r[col('organizationId')], r[col('organizationCode')], r[col('organizationName')]]).toEqual([
        org.id,
        'ORG-AN',
        'Агентство; "А"',
      ]);
      expect([r[col('planCode')], r[col('planTitle')], r[col('directionCode')], r[col('directionTitle')]]).toEqual([
        '2014-2018',
        'План',
        '1',
        'Direction',
      ]);
      // A name that looks like a formula is neutralized, as every text cell.
      expect([r[col('goalCode')], r[col('goalTitle')]]).toEqual(['1.1', "'=Мақсат"]);
      expect([r[col('status')], r[col('statusLabel')]]).toEqual(['not_achieved', 'Не достигнут']);
      expect(rows.map((x) => x[col('statusLabel')])).toEqual([
        'Плановое значение не установлено',
        'В процессе достижения',
        'Не достигнут',
      ]);
    });

    it(`writes a decimal comma with ";" and a point with ",", unless ?decimal= says otherwise${paged ? ' (?limit page)' : ''}`, async () => {
      const value = async (q: string, sep: string) =>
        (await csv(`${q}${limit}`, sep))[2]!.slice(col('plan'), col('fact') + 1);
      expect(await value('', ';')).toEqual(['99,5', '40,25']);
      expect(await value('', ',')).toEqual(['99.5', '40.25']);
      expect(await value('decimal=point', ';')).toEqual(['99.5', '40.25']);
      // A decimal comma with "," as separator: the cell is quoted (parseCsv unquotes it).
      expect(await value('decimal=comma', ',')).toEqual(['99,5', '40,25']);
      const raw = await call(
        ctx.app,
        'GET',
        `${API}/status?year=2016&planId=${plan.id}&format=csv&decimal=comma${limit}`,
      );
      expect(raw.raw.body).toContain('"99,5","40,25"');
      // Integers and empty cells are the same either way; percentages too.
      const semi = (await csv(`lang=en${limit}`, ';'))[2]!;
      expect(semi[col('achievementPercent')]).toBe('40,45');
      expect(semi[col('ratingSize')]).toBe('');
    });
  }

  it('labels the status in each language, kk by default', async () => {
    for (const [lang, label] of [
      ['kk', 'Орындалмады'],
      ['ru', 'Не достигнут'],
      ['en', 'Not achieved'],
    ] as const) {
      expect((await csv(`lang=${lang}`))[2]![col('statusLabel')]).toBe(label);
    }
    expect((await csv(''))[2]![col('statusLabel')]).toBe('Орындалмады');
  });

  it('refuses an unknown ?decimal (400)', async () => {
    expectProblem(await call(ctx.app, 'GET', `${API}/status?year=2016&format=csv&decimal=dot`), 400);
  });
});

async function sheetOf(url: string): Promise<ExcelJS.Worksheet> {
  const res = await call(ctx.app, 'GET', url);
  expect(res.status).toBe(200);
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(res.raw.rawPayload as unknown as ArrayBuffer);
  return workbook.worksheets[0]!;
}

describe('XLSX', () => {
  for (const paged of [false, true]) {
    it(`keeps codes as text and numbers as numbers${paged ? ' (?limit page)' : ''}`, async () => {
      const sheet = await sheetOf(
        `${API}/status?year=2016&planId=${plan.id}&format=xlsx&lang=en${paged ? '&limit=500' : ''}`,
      );
      const last = sheet.getRow(4);
      for (const key of ['code', 'planCode', 'goalCode', 'directionCode']) {
        expect(last.getCell(col(key) + 1).type, key).toBe(ExcelJS.ValueType.String);
      }
      expect(sheet.getRow(2).getCell(col('code') + 1).value).toBe('1.1.7');
      expect(last.getCell(col('fact') + 1).value).toBe(40.25);
      expect(last.getCell(col('statusLabel') + 1).value).toBe('Not achieved');
    });
  }

  it('writes dates and timestamps of the lists as Excel dates with a date format', async () => {
    const sheet = await sheetOf(`${API}/organizations?format=xlsx`);
    const headers = (sheet.getRow(1).values as unknown[]).slice(1);
    const created = headers.indexOf('createdAt') + 1;
    expect(created).toBeGreaterThan(0);
    const cell = sheet.getRow(2).getCell(created);
    expect(cell.type).toBe(ExcelJS.ValueType.Date);
    expect(cell.numFmt).toBe('yyyy-mm-dd hh:mm:ss');
    expect(Math.abs((cell.value as Date).getTime() - Date.now())).toBeLessThan(24 * 3600 * 1000);
    // Text columns stay text: the code.
    expect(sheet.getRow(2).getCell(headers.indexOf('code') + 1).type).toBe(ExcelJS.ValueType.String);
  });
});
