/**
 * The lists outside the CRUD factory export too: the plan's risk register, the audit trail,
 * users and clients, as CSV and XLSX with the same rows as the JSON list.
 */
import ExcelJS from 'exceljs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Json } from '../helpers/app.js';
import { adminToken, call, setupApp } from '../helpers/app.js';
import type { LoadedDemo } from '../helpers/demo.js';
import { loadDemoThroughApi } from '../helpers/demo.js';
import { API } from '../helpers/fixtures.js';

const ctx = setupApp();
let demo: LoadedDemo;

beforeAll(async () => {
  demo = await loadDemoThroughApi(ctx.app);
  await call(ctx.app, 'POST', `${API}/clients`, { name: 'Statistics bureau; "BI"', role: 'viewer' });
});

/** Data lines of a CSV body (BOM and header dropped); enough for counting rows and finding ids. */
function csvLines(text: string): string[] {
  expect(text.startsWith('\uFEFF')).toBe(true);
  return text.slice(1).trim().split('\r\n').slice(1);
}

async function xlsxRows(raw: string | Buffer): Promise<number> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(Buffer.from(raw as Buffer) as never);
  return workbook.worksheets[0]!.actualRowCount - 1;
}

describe('exports of the remaining lists', () => {
  const lists = () => [
    { url: `${API}/plans/${demo.planId}/risks`, id: 'id' },
    { url: `${API}/audit`, id: 'id' },
    { url: `${API}/users`, id: 'id' },
    { url: `${API}/clients`, id: 'id' },
  ];

  it('answers CSV (with ; too) and XLSX holding every row of the JSON list', async () => {
    for (const { url, id } of lists()) {
      const json = await call(ctx.app, 'GET', `${url}${url.includes('?') ? '&' : '?'}limit=500`);
      expect(json.status, url).toBe(200);
      const items: Json[] = json.body.items;
      expect(items.length, url).toBeGreaterThan(0);

      const csv = await call(ctx.app, 'GET', `${url}?format=csv`);
      expect(csv.status, url).toBe(200);
      expect(csv.headers['content-type']).toMatch(/^text\/csv/);
      const lines = csvLines(csv.raw.body);
      expect(lines, url).toHaveLength(items.length);
      for (const item of items)
        expect(
          lines.some((l) => l.includes(String(item[id]))),
          url,
        ).toBe(true);

      const semicolon = await call(ctx.app, 'GET', `${url}?format=csv&sep=;`);
      expect(csvLines(semicolon.raw.body)[0]).toContain(';');

      const xlsx = await ctx.app.inject({
        method: 'GET',
        url: `${url}?format=xlsx`,
        headers: { authorization: `Bearer ${await adminToken(ctx.app)}` },
      });
      expect(xlsx.statusCode, url).toBe(200);
      expect(await xlsxRows(xlsx.rawPayload)).toBe(items.length);
    }
  });

  it('exports the six risks of the 2016 report and pages with ?limit', async () => {
    const csv = await call(ctx.app, 'GET', `${API}/plans/${demo.planId}/risks?format=csv&year=2016`);
    expect(csvLines(csv.raw.body)).toHaveLength(6);
    const page = await call(ctx.app, 'GET', `${API}/plans/${demo.planId}/risks?format=csv&limit=4`);
    expect(csvLines(page.raw.body)).toHaveLength(4);
    expect(page.headers['x-next-cursor']).toBeTruthy();
    expect(
      (await call(ctx.app, 'GET', `${API}/plans/00000000-0000-4000-8000-000000000000/risks?format=csv`)).status,
    ).toBe(404);
  });

  it('never exports a secret or a hash', async () => {
    for (const url of [`${API}/users?format=csv`, `${API}/clients?format=csv`, `${API}/audit?format=csv`]) {
      const text = (await call(ctx.app, 'GET', url)).raw.body;
      expect(text).not.toMatch(/\$argon2id\$|passwordHash|secretHash|nys_/);
    }
  });
});
