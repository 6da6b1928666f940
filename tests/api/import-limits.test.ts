/**
 * Imports that cannot stall or exhaust the service: a zip bomb is refused from its directory (413)
 * with nothing stored, a part that unzips beyond what the directory declared is refused as it
 * streams, too many rows are a 400 naming IMPORT_MAX_ROWS, an impossible numeric entity is a 400
 * naming the cell, and /health/live keeps answering while a large sheet is read.
 */
import ExcelJS from 'exceljs';
import JSZip from 'jszip';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { XLSX_TYPE } from '../../src/imports/parse.js';
import type { TestContext } from '../helpers/app.js';
import { NO_AUTH, call, setupApp } from '../helpers/app.js';
import { API, expectProblem, expectStatus, queryRows, uniqueCode } from '../helpers/fixtures.js';

const MAX_ROWS = 40;
const limited = setupApp({ IMPORT_MAX_ROWS: MAX_ROWS });
/** The defaults (64 MiB unzipped, 20,000 rows). */
const standard = setupApp();

const HEADER = [
  'Нысаналы индикатордың атауы',
  'Ақпарат көзі',
  'Өлш. бірл.',
  'Жоспар',
  'Факт',
  'Ескертпе',
  'betterWhen',
];

/** A header, a direction and a goal heading, then `count` new indicator rows. */
function layout(count: number, note = (i: number) => `note ${i}`): (string | number)[][] {
  const rows: (string | number)[][] = [HEADER, ['1-стратегиялық бағыт. Limits'], ['1.1-мақсат. Limits goal']];
  for (let i = 0; i < count; i++) rows.push([`Indicator ${i}`, 'Statistics', '%', 10 + i, 9 + i, note(i), 'higher']);
  return rows;
}

async function xlsxOf(rows: (string | number)[][]): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('2');
  for (const row of rows) sheet.addRow(row);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

const csvOf = (rows: (string | number)[][]) =>
  rows.map((r) => r.map((v) => `"${String(v).replace(/"/g, '""')}"`).join(';')).join('\n');

async function newPlan(ctx: TestContext): Promise<string> {
  const org = expectStatus(
    await call(ctx.app, 'POST', `${API}/organizations`, { code: uniqueCode('LIM'), name: { en: 'Limits' } }),
    201,
  );
  const plan = expectStatus(
    await call(ctx.app, 'POST', `${API}/plans`, {
      organizationId: org.id,
      code: uniqueCode('P'),
      title: { en: 'Limits plan' },
      startYear: 2014,
      endYear: 2018,
    }),
    201,
  );
  return plan.id;
}

const upload = (
  ctx: TestContext,
  planId: string,
  body: Buffer | string,
  type: string,
  query = 'year=2016&commit=true',
) => call(ctx.app, 'POST', `${API}/plans/${planId}/import?${query}`, body, { 'content-type': type });

async function stored(ctx: TestContext): Promise<{ indicators: number; audit: number }> {
  const [row] = await queryRows(
    ctx,
    sql`select (select count(*)::int from indicators) as indicators, (select count(*)::int from audit_log) as audit`,
  );
  return { indicators: row!.indicators as number, audit: row!.audit as number };
}

/** A workbook whose sheet part is `sheetXml`, deflated by jszip (small compressed, as large as wanted unzipped). */
async function workbookWithSheet(sheetXml: string): Promise<Buffer> {
  const zip = new JSZip();
  zip.file(
    '[Content_Types].xml',
    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
  );
  zip.file(
    'xl/workbook.xml',
    '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ' +
      'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="2" sheetId="1" r:id="rId1"/></sheets></workbook>',
  );
  zip.file(
    'xl/_rels/workbook.xml.rels',
    '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
      '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
  );
  zip.file('xl/worksheets/sheet1.xml', sheetXml);
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE', compressionOptions: { level: 6 } });
}

/** Sheet XML: the layout's rows as inline strings, then `padding` bytes of empty rows. */
function sheetXml(rows: (string | number)[][], padding = 0): string {
  const cell = (v: string | number) =>
    `<c t="inlineStr"><is><t>${String(v).replace(/&/g, '&amp;').replace(/</g, '&lt;')}</t></is></c>`;
  const body = rows.map((r, i) => `<row r="${i + 1}">${r.map(cell).join('')}</row>`).join('');
  const empty = '<row><c/></row>';
  return `<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>${body}${empty.repeat(Math.ceil(padding / empty.length))}</sheetData></worksheet>`;
}

describe('import limits', () => {
  it('refuses a zip bomb (~1 MB that unzips to 80 MB) with 413 naming the limit, storing nothing', async () => {
    const planId = await newPlan(standard);
    const before = await stored(standard);
    const bomb = await workbookWithSheet(sheetXml(layout(3), 80 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(2 * 1024 * 1024);
    const res = await upload(standard, planId, bomb, XLSX_TYPE);
    expect(expectProblem(res, 413).detail).toMatch(/IMPORT_MAX_UNCOMPRESSED_BYTES/);
    expect(res.body.detail).toContain(String(64 * 1024 * 1024));
    expect(await stored(standard)).toEqual(before);
  });

  it('refuses, as it streams, a part that unzips beyond the size its directory declares', async () => {
    const planId = await newPlan(standard);
    const before = await stored(standard);
    const bomb = await workbookWithSheet(sheetXml(layout(3), 80 * 1024 * 1024));
    // Rewrite the sheet's declared sizes (central directory and local header) to 4 KB: the declared-size
    // check passes, and the inflated bytes must be counted.
    const name = Buffer.from('xl/worksheets/sheet1.xml');
    for (let at = bomb.indexOf(name); at !== -1; at = bomb.indexOf(name, at + 1)) {
      if (bomb.readUInt32LE(at - 46) === 0x02014b50) bomb.writeUInt32LE(4096, at - 46 + 24);
      if (bomb.readUInt32LE(at - 30) === 0x04034b50) bomb.writeUInt32LE(4096, at - 30 + 22);
    }
    expect(expectProblem(await upload(standard, planId, bomb, XLSX_TYPE), 413).detail).toMatch(
      /IMPORT_MAX_UNCOMPRESSED_BYTES/,
    );
    expect(await stored(standard)).toEqual(before);
  });

  it('accepts IMPORT_MAX_ROWS rows with values and refuses one more with 400 naming the limit (xlsx and csv)', async () => {
    const planId = await newPlan(limited);
    // Header + 2 headings + indicators: exactly MAX_ROWS rows with values.
    const exact = layout(MAX_ROWS - 3);
    const before = await stored(limited);
    for (const [body, type] of [
      [await xlsxOf(layout(MAX_ROWS - 2)), XLSX_TYPE],
      [csvOf(layout(MAX_ROWS - 2)), 'text/csv'],
    ] as const) {
      const res = await upload(limited, planId, body, type);
      expect(expectProblem(res, 400).detail).toMatch(new RegExp(`more than ${MAX_ROWS} rows.*IMPORT_MAX_ROWS`));
      expect(res.body.errors).toEqual([{ path: 'body', message: `more than IMPORT_MAX_ROWS = ${MAX_ROWS} rows` }]);
    }
    expect(await stored(limited)).toEqual(before);
    // Empty rows do not count; exactly the limit is accepted.
    const withGaps = [...exact.slice(0, 3), [], ['', ''], ...exact.slice(3)];
    const ok = expectStatus(await upload(limited, planId, csvOf(withGaps), 'text/csv', 'year=2016'), 200);
    expect(ok.committed).toBe(false);
    expectStatus(await upload(limited, planId, await xlsxOf(exact), XLSX_TYPE), 200);
    expect((await stored(limited)).indicators).toBe(before.indicators + MAX_ROWS - 3);
  });

  it('answers 400 naming the cell for a numeric entity that names no character, storing nothing', async () => {
    const planId = await newPlan(standard);
    const before = await stored(standard);
    for (const entity of ['&#99999999;', '&#x110000;', '&#xD800;', '&#0;']) {
      const rows = layout(3, (i) => (i === 1 ? `broken ${entity} note` : `note ${i}`));
      // Row 5 of the sheet: header, two headings, indicator 0, then indicator 1.
      for (const [body, type] of [
        [await xlsxOf(rows), XLSX_TYPE],
        [csvOf(rows), 'text/csv'],
      ] as const) {
        const res = await upload(standard, planId, body, type);
        expect(expectProblem(res, 400, ['body.rows[5].note']).detail).toMatch(/Row 5, column 6 \(note\)/);
        expect(res.body.detail).toContain(entity);
      }
    }
    // In a heading too (the header search reads the first rows).
    const heading = layout(2);
    heading[0] = ['&#x110000;', ...HEADER.slice(1)];
    expectProblem(await upload(standard, planId, csvOf(heading), 'text/csv'), 400, ['body.rows[1].name']);
    // The largest real character is fine.
    const fine = layout(2, () => 'max &#x10FFFF; ok');
    expectStatus(await upload(standard, planId, csvOf(fine), 'text/csv', 'year=2016'), 200);
    expect(await stored(standard)).toEqual(before);
  });

  it('keeps answering /health/live while a large sheet is imported', async () => {
    const planId = await newPlan(standard);
    // 20,000 rows (the default limit), written by ExcelJS as a real workbook.
    const big = await xlsxOf(layout(19_990));
    let importDone = false;
    const importing = upload(standard, planId, big, XLSX_TYPE, 'year=2016').then((res) => {
      importDone = true;
      return res;
    });
    // Health checks issued one after another while the import runs: answers must arrive before it ends.
    let answeredDuring = 0;
    while (!importDone) {
      const live = await standard.app.inject({ method: 'GET', url: '/health/live', headers: NO_AUTH });
      expect(live.statusCode).toBe(200);
      if (!importDone) answeredDuring++;
      if (answeredDuring >= 3) break;
    }
    expect(answeredDuring).toBeGreaterThanOrEqual(3);
    expect(importDone).toBe(false);
    expect((await importing).status).toBe(200);
  }, 120_000);
});
