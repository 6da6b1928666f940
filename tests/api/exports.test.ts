/**
 * Exports BI tools open directly: the flat status feed and CRUD lists as CSV (UTF-8 with BOM,
 * "," or ";") and XLSX, equal to the JSON; a large export streamed with bounded memory.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import ExcelJS from 'exceljs';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { XLSX_TYPE } from '../../src/exports/tabular.js';
import type { Json } from '../helpers/app.js';
import { adminToken, call, setupApp } from '../helpers/app.js';
import { loadDemoThroughApi } from '../helpers/demo.js';
import {
  API,
  createDirection,
  createGoal,
  createOrganization,
  createPlan,
  expectStatus,
  queryRows,
} from '../helpers/fixtures.js';
import { STATUS_COLUMNS as COLUMNS, parseCsv, statusCells, statusValue } from '../helpers/csv.js';

const ctx = setupApp();

async function xlsxRows(payload: Buffer): Promise<unknown[][]> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(payload as unknown as ArrayBuffer);
  const rows: unknown[][] = [];
  workbook.worksheets[0]!.eachRow((r) => rows.push((r.values as unknown[]).slice(1)));
  return rows;
}

describe('exports', () => {
  it('CSV and XLSX of the status feed equal the JSON feed', async () => {
    const demo = await loadDemoThroughApi(ctx.app, 'EXP-1');
    const json = expectStatus(
      await call(ctx.app, 'GET', `${API}/status?year=2016&planId=${demo.planId}&limit=500`),
      200,
    ).items as Json[];
    expect(json).toHaveLength(19);

    for (const sep of [',', ';']) {
      const res = await call(
        ctx.app,
        'GET',
        `${API}/status?year=2016&planId=${demo.planId}&format=csv&sep=${encodeURIComponent(sep)}`,
      );
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/csv/);
      expect(res.raw.body.startsWith('\uFEFF')).toBe(true);
      const rows = parseCsv(res.raw.body.slice(1), sep);
      expect(rows[0]).toEqual(COLUMNS);
      // ";" goes with a decimal comma (what Excel reads as a number under Kazakh and Russian locales).
      expect(rows.slice(1)).toEqual(json.map((row) => statusCells(row, 'kk', sep === ';' ? ',' : '.')));
    }
    // ?delimiter= and Accept: text/csv work too.
    const accepted = await call(
      ctx.app,
      'GET',
      `${API}/status?year=2016&planId=${demo.planId}&delimiter=;`,
      undefined,
      { accept: 'text/csv' },
    );
    expect(parseCsv(accepted.raw.body.slice(1), ';')).toHaveLength(20);

    const xlsx = await call(ctx.app, 'GET', `${API}/status?year=2016&planId=${demo.planId}&format=xlsx`);
    expect(xlsx.status).toBe(200);
    expect(xlsx.headers['content-type']).toBe(XLSX_TYPE);
    const rows = await xlsxRows(xlsx.raw.rawPayload);
    expect(rows[0]).toEqual(COLUMNS);
    expect(rows.slice(1)).toHaveLength(19);
    rows.slice(1).forEach((cells, i) => {
      const row = json[i]!;
      const expected = COLUMNS.map((c) => statusValue(row, c));
      // exceljs leaves trailing empty cells out.
      expect(COLUMNS.map((_, k) => cells[k] ?? null)).toEqual(expected);
    });
    const byAccept = await call(ctx.app, 'GET', `${API}/status?year=2016&planId=${demo.planId}`, undefined, {
      accept: XLSX_TYPE,
    });
    expect(byAccept.headers['content-type']).toBe(XLSX_TYPE);
  });

  it('keeps page semantics when ?limit is given', async () => {
    const demo = await loadDemoThroughApi(ctx.app, 'EXP-2');
    const first = await call(ctx.app, 'GET', `${API}/status?year=2016&planId=${demo.planId}&format=csv&limit=5`);
    expect(parseCsv(first.raw.body.slice(1), ',')).toHaveLength(6);
    expect(first.headers.link).toMatch(/rel="next"/);
    const cursor = first.headers['x-next-cursor'] as string;
    const second = await call(
      ctx.app,
      'GET',
      `${API}/status?year=2016&planId=${demo.planId}&format=xlsx&limit=5&cursor=${cursor}`,
    );
    const json = expectStatus(
      await call(ctx.app, 'GET', `${API}/status?year=2016&planId=${demo.planId}&limit=5&cursor=${cursor}`),
      200,
    );
    const rows = await xlsxRows(second.raw.rawPayload);
    expect(rows.slice(1).map((r) => r[COLUMNS.indexOf('indicatorId')])).toEqual(
      json.items.map((r: Json) => r.indicatorId),
    );
  });

  it('CRUD lists export as CSV and XLSX with one column per language', async () => {
    const demo = await loadDemoThroughApi(ctx.app, 'EXP-3');
    const json = expectStatus(await call(ctx.app, 'GET', `${API}/plans/${demo.planId}/directions`), 200)
      .items as Json[];
    const csv = await call(ctx.app, 'GET', `${API}/plans/${demo.planId}/directions?format=csv&sep=;`);
    expect(csv.status).toBe(200);
    const rows = parseCsv(csv.raw.body.slice(1), ';');
    const header = rows[0]!;
    expect(header).toEqual(
      expect.arrayContaining(['id', 'planId', 'code', 'title.kk', 'title.ru', 'title.en', 'position', 'version']),
    );
    expect(rows.slice(1).map((r) => [r[header.indexOf('id')], r[header.indexOf('title.kk')]])).toEqual(
      json.map((d) => [d.id, d.title.kk]),
    );

    const goalId = demo.goalIds.get('3.2')!;
    const indicators = expectStatus(await call(ctx.app, 'GET', `${API}/goals/${goalId}/indicators`), 200)
      .items as Json[];
    const xlsx = await call(ctx.app, 'GET', `${API}/goals/${goalId}/indicators?format=xlsx`);
    expect(xlsx.headers['content-type']).toBe(XLSX_TYPE);
    const sheet = await xlsxRows(xlsx.raw.rawPayload);
    const h = sheet[0] as string[];
    expect(
      sheet.slice(1).map((r) => [r[h.indexOf('code')], r[h.indexOf('name.ru')], r[h.indexOf('valueType')]]),
    ).toEqual(indicators.map((i) => [i.code, i.name.ru, i.valueType]));
    // ?limit gives that page only, with the next cursor in X-Next-Cursor.
    const paged = await call(ctx.app, 'GET', `${API}/goals/${goalId}/indicators?format=csv&limit=2`);
    expect(parseCsv(paged.raw.body.slice(1), ',')).toHaveLength(3);
    expect(paged.headers['x-next-cursor']).toEqual(expect.any(String));
    // An indicator's measurements too.
    const cpi = demo.indicatorIds.get('3.2.1')!;
    const years = expectStatus(await call(ctx.app, 'GET', `${API}/indicators/${cpi}/measurements`), 200)
      .items as Json[];
    const mcsv = parseCsv(
      (await call(ctx.app, 'GET', `${API}/indicators/${cpi}/measurements?format=csv`)).raw.body.slice(1),
      ',',
    );
    const mh = mcsv[0]!;
    expect(
      mcsv.slice(1).map((r) => [Number(r[mh.indexOf('year')]), r[mh.indexOf('plan')], r[mh.indexOf('fact')]]),
    ).toEqual(years.map((m) => [m.year, m.plan === null ? '' : String(m.plan), m.fact === null ? '' : String(m.fact)]));
    // Unknown parent: still a 404 problem.
    const missing = await call(
      ctx.app,
      'GET',
      `${API}/goals/00000000-0000-4000-8000-000000000000/indicators?format=csv`,
    );
    expect(missing.status).toBe(404);
  });

  it('streams a 50,000-row status export with bounded memory', async () => {
    const org = await createOrganization(ctx.app);
    const plan = await createPlan(ctx.app, org.id);
    const direction = await createDirection(ctx.app, plan.id);
    const goal = await createGoal(ctx.app, direction.id);
    await queryRows(
      ctx,
      sql`insert into indicators (goal_id, code, name, unit, source, value_type, better_when, position)
          select ${goal.id}::uuid, 'x.' || g, jsonb_build_object('kk', 'Индикатор ' || g), '{"kk":"%"}'::jsonb, '{"kk":"Есептік мәліметтер"}'::jsonb,
                 'percent', 'higher', g
          from generate_series(1, 10000) g`,
    );
    await queryRows(
      ctx,
      sql`insert into measurements (indicator_id, year, plan, fact)
          select i.id, y, 50 + (y - 2014), 45 + (y - 2014) * 2.5 from indicators i cross join generate_series(2014, 2018) y
          where i.goal_id = ${goal.id}::uuid`,
    );
    const address = await ctx.app.listen({ port: 0, host: '127.0.0.1' });
    const token = await adminToken(ctx.app);
    // Live memory, not garbage waiting for a collection: collect before each sample.
    setFlagsFromString('--expose_gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    // Every 200 ms: each sample is a full collection of the worker's heap, which dominated this
    // test's time at 50 ms; a buffered export would hold its 14 MB for far longer than that.
    const sampler = setInterval(() => {
      gc();
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }, 200);
    try {
      for (const format of ['csv', 'xlsx'] as const) {
        const res = await fetch(`${address}${API}/status?planId=${plan.id}&format=${format}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        expect(res.status).toBe(200);
        let bytes = 0;
        let lines = 0;
        const reader = res.body!.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          bytes += value.length;
          if (format === 'csv') for (const b of value) if (b === 10) lines++;
        }
        if (format === 'csv') expect(lines).toBe(50_001);
        if (process.env.EXPORT_MEMORY_LOG)
          console.log(
            `${format}: ${bytes} bytes, peak heap growth so far ${((peak - before) / 1048576).toFixed(1)} MB`,
          );
        expect(bytes).toBeGreaterThan(100_000);
      }
    } finally {
      clearInterval(sampler);
    }
    // Loose: holding the whole 14 MB CSV, or 50,000 rows and their DTOs, would take far more.
    const growthMb = (peak - before) / 1024 / 1024;
    if (process.env.EXPORT_MEMORY_LOG)
      console.log(`peak live heap growth during the exports: ${growthMb.toFixed(1)} MB`);
    expect(growthMb).toBeLessThan(60);
  }, 300_000);
});
