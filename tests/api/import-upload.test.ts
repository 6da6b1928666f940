/**
 * How an import file arrives: multipart/form-data forms (@fastify/multipart) and the CSV dialects
 * (csv-parse). Which form part is the file, the form's limits (413) and malformed forms (400), and
 * CSV files with a BOM, tabs, quoted separators, line breaks and doubled quotes in cells, ragged rows,
 * and an unclosed quote (400 naming the row and column). Refused uploads store nothing.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { XLSX_TYPE } from '../../src/imports/parse.js';
import { IMPORT_MAX_BYTES } from '../../src/imports/upload.js';
import { call, setupApp } from '../helpers/app.js';
import { API, expectProblem, expectStatus, queryRows, uniqueCode } from '../helpers/fixtures.js';

const ctx = setupApp();

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
function layout(count: number): string[][] {
  const rows = [HEADER, ['1-стратегиялық бағыт. Uploads'], ['1.1-мақсат. Upload goal']];
  for (let i = 0; i < count; i++)
    rows.push([`Indicator ${i}`, 'Statistics', '%', `${10 + i},5`, `${9 + i}`, `note ${i}`, 'higher']);
  return rows;
}

const csvOf = (rows: string[][], sep = ';', eol = '\n') =>
  rows.map((r) => r.map((v) => `"${v.replace(/"/g, '""')}"`).join(sep)).join(eol);

async function newPlan(): Promise<string> {
  const org = expectStatus(
    await call(ctx.app, 'POST', `${API}/organizations`, { code: uniqueCode('UPL'), name: { en: 'Uploads' } }),
    201,
  );
  const plan = expectStatus(
    await call(ctx.app, 'POST', `${API}/plans`, {
      organizationId: org.id,
      code: uniqueCode('P'),
      title: { en: 'Upload plan' },
      startYear: 2014,
      endYear: 2018,
    }),
    201,
  );
  return plan.id;
}

const BOUNDARY = '----nysana-upload-test';

interface Part {
  name: string;
  filename?: string;
  type?: string;
  content: Buffer | string;
}

function form(parts: Part[], boundary = BOUNDARY): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename === undefined ? '' : `; filename="${p.filename}"`}`;
    const type = p.type ? `\r\nContent-Type: ${p.type}` : '';
    const head = `--${boundary}\r\nContent-Disposition: ${disposition}${type}\r\n\r\n`;
    chunks.push(Buffer.from(head), Buffer.from(p.content), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

const upload = (planId: string, body: Buffer | string, type: string, query = 'year=2016') =>
  call(ctx.app, 'POST', `${API}/plans/${planId}/import?${query}`, body, { 'content-type': type });
const uploadForm = (planId: string, parts: Part[], query = 'year=2016') =>
  upload(planId, form(parts), `multipart/form-data; boundary=${BOUNDARY}`, query);

async function indicatorCount(): Promise<number> {
  const [row] = await queryRows(ctx, sql`select count(*)::int as n from indicators`);
  return row!.n as number;
}

describe('import forms (multipart/form-data)', () => {
  it('takes the part named "file" even after other files and fields, and reads a .csv file name as CSV', async () => {
    const planId = await newPlan();
    const preview = expectStatus(
      await uploadForm(planId, [
        { name: 'comment', content: 'a plain field' },
        { name: 'attachment', filename: 'other.csv', type: 'text/csv', content: csvOf(layout(1)) },
        { name: 'file', filename: 'report.csv', type: 'application/octet-stream', content: csvOf(layout(3)) },
      ]),
      200,
    );
    expect(preview.summary.indicatorRows).toBe(3);
    expect(preview.indicators.map((i: { name: string; plan: number }) => [i.name, i.plan])).toEqual([
      ['Indicator 0', 10.5],
      ['Indicator 1', 11.5],
      ['Indicator 2', 12.5],
    ]);
  });

  it('takes the first file part when none is named "file", and commits it', async () => {
    const planId = await newPlan();
    const before = await indicatorCount();
    const part = { name: 'upload', filename: 'x.txt', type: 'text/csv', content: csvOf(layout(2)) };
    const done = expectStatus(await uploadForm(planId, [part], 'year=2016&commit=true'), 200);
    expect(done.committed).toBe(true);
    expect(await indicatorCount()).toBe(before + 2);
  });

  it('answers 400 for a form without a file, an empty file, a malformed form, and a form without a boundary', async () => {
    const planId = await newPlan();
    const before = await indicatorCount();
    expectProblem(
      await uploadForm(planId, [{ name: 'file', content: csvOf(layout(1)) }], 'year=2016&commit=true'),
      400,
      ['body.file'],
    );
    expectProblem(
      await uploadForm(planId, [{ name: 'file', filename: 'a.csv', content: '' }], 'year=2016&commit=true'),
      400,
      ['body'],
    );
    const truncated = form([{ name: 'file', filename: 'a.csv', content: csvOf(layout(1)) }]).subarray(0, 60);
    expectProblem(
      await upload(planId, truncated, `multipart/form-data; boundary=${BOUNDARY}`, 'year=2016&commit=true'),
      400,
    );
    expectProblem(await upload(planId, form([]), 'multipart/form-data', 'year=2016&commit=true'), 400);
    expect(await indicatorCount()).toBe(before);
  });

  it('answers 413 for a file over the limit and for a form of too many files, storing nothing', async () => {
    const planId = await newPlan();
    const before = await indicatorCount();
    const big = Buffer.concat([Buffer.from(csvOf(layout(1))), Buffer.alloc(IMPORT_MAX_BYTES, 0x20)]);
    const tooBig = expectProblem(
      await uploadForm(planId, [{ name: 'file', filename: 'big.csv', content: big }], 'year=2016&commit=true'),
      413,
    );
    expect(tooBig.detail).toMatch(String(IMPORT_MAX_BYTES));
    const many = Array.from({ length: 6 }, (_, i) => ({
      name: `f${i}`,
      filename: `f${i}.csv`,
      content: csvOf(layout(1)),
    }));
    expectProblem(await uploadForm(planId, many, 'year=2016&commit=true'), 413);
    expect(await indicatorCount()).toBe(before);
  });

  it('still reads an .xlsx form part that says nothing of its type as a workbook (and refuses what is not one)', async () => {
    const planId = await newPlan();
    const notZip = expectProblem(
      await uploadForm(planId, [{ name: 'file', filename: 'report.xlsx', content: 'plain text' }]),
      400,
    );
    expect(notZip.detail).toMatch(/not an .xlsx workbook/);
    expect(XLSX_TYPE).toMatch(/spreadsheetml/);
  });
});

describe('CSV dialects (csv-parse)', () => {
  it('reads a BOM, tab separators, CRLF, and quoted cells holding separators, line breaks and doubled quotes', async () => {
    const planId = await newPlan();
    const rows = layout(2);
    rows[3]![0] = 'Indicator "quoted"; with\tseparators,\r\nand a line break';
    const preview = expectStatus(await upload(planId, `\uFEFF${csvOf(rows, '\t', '\r\n')}`, 'text/csv'), 200);
    expect(preview.summary.indicatorRows).toBe(2);
    expect(preview.indicators.map((i: { row: number }) => i.row)).toEqual([4, 5]);
    const names = preview.indicators.map((i: { name: string }) => i.name);
    expect(names).toEqual(['Indicator "quoted"; with separators, and a line break', 'Indicator 1']);
  });

  it('reads unquoted comma files with ragged rows and a quote inside an unquoted cell', async () => {
    const planId = await newPlan();
    const text = [
      'Нысаналы индикатордың атауы,Ақпарат көзі,Өлш. бірл.,Жоспар,Факт,Ескертпе,betterWhen',
      '1-стратегиялық бағыт. Commas',
      '',
      '1.1-мақсат. Comma goal,,,,',
      'Indicator 5" wide,Statistics,%,10,9,note,higher,extra,cells',
      'Indicator short,Statistics,%,1,2',
    ].join('\n');
    const preview = expectStatus(await upload(planId, text, 'text/csv'), 200);
    expect(preview.indicators.map((i: { row: number; name: string }) => [i.row, i.name])).toEqual([
      [5, 'Indicator 5" wide'],
      [6, 'Indicator short'],
    ]);
  });

  it('answers 400 naming the row and column of a quoted cell that is never closed, storing nothing', async () => {
    const planId = await newPlan();
    const before = await indicatorCount();
    const text = `${csvOf(layout(2))}\n"Indicator broken";"Statistics";"%";"1";"2";"note never closed\nthe rest of the file;read into it\n`;
    const problem = expectProblem(await upload(planId, text, 'text/csv', 'year=2016&commit=true'), 400, [
      'body.rows[6].note',
    ]);
    expect(problem.detail).toMatch(/^Row 6, column 6: a quoted cell is not closed/);
    expect(await indicatorCount()).toBe(before);
  });
});
