/**
 * The streamed status export (src/exports/status.ts, status-query.ts): one server-side cursor on
 * PostgreSQL, keyset pages on PGlite, rows as arrays, precompiled CSV encoders. What a rewrite of
 * that hot path could break: rows across many fetch batches, filters, languages, the ";"
 * separator, formula neutralization, and the database connection of an export the client
 * abandons half-way.
 */
import ExcelJS from 'exceljs';
import { sql } from 'drizzle-orm';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { exportTuning } from '../../src/exports/status.js';
import { exportHandleOf } from '../../src/db/export-handle.js';
import type { Json } from '../helpers/app.js';
import { adminToken, call, setupApp } from '../helpers/app.js';
import { loadDemoThroughApi } from '../helpers/demo.js';
import type { LoadedDemo } from '../helpers/demo.js';
import {
  API,
  createDirection,
  createGoal,
  createIndicator,
  createOrganization,
  createPlan,
  expectStatus,
  putMeasurement,
  queryRows,
} from '../helpers/fixtures.js';
import { STATUS_COLUMNS as COLUMNS, parseCsv, statusCells, statusValue } from '../helpers/csv.js';
import { hasTwoConnections, leftOutOnOneConnection } from '../helpers/two-connections.js';

// Eight exports at once below: more than the exports' own pool (4 connections) holds, all admitted
// (the bound that would refuse them is tested in exports-starvation.test.ts).
const ctx = setupApp({ EXPORT_CONCURRENCY: 8 });

/** What a JSON feed row looks like as CSV cells (names resolved to the language; `;` writes a decimal comma). */
const col = (name: string) => COLUMNS.indexOf(name);
const asCells = (row: Json, lang: 'kk' | 'ru' | 'en', sep = ',') => statusCells(row, lang, sep === ';' ? ',' : '.');

/** Every JSON feed row for a query, following the pages. */
async function jsonFeed(query: string): Promise<Json[]> {
  const items: Json[] = [];
  let cursor: string | null = null;
  do {
    const body = expectStatus(
      await call(ctx.app, 'GET', `${API}/status?${query}&limit=500${cursor ? `&cursor=${cursor}` : ''}`),
      200,
    );
    items.push(...body.items);
    cursor = body.nextCursor;
  } while (cursor);
  return items;
}

async function csvOf(query: string, sep = ','): Promise<string[][]> {
  const res = await call(ctx.app, 'GET', `${API}/status?${query}&format=csv&sep=${encodeURIComponent(sep)}`);
  expect(res.status, `${query} ${res.raw.body.slice(0, 300)}`).toBe(200);
  expect(res.raw.body.startsWith('\uFEFF')).toBe(true);
  const rows = parseCsv(res.raw.body.slice(1), sep);
  expect(rows[0]).toEqual(COLUMNS);
  return rows.slice(1);
}

let demo: LoadedDemo;
let other: LoadedDemo;
const defaults = { ...exportTuning };
/** Rows per FETCH (PostgreSQL) and per keyset page (PGlite). */
const batchRows = (n: number) => Object.assign(exportTuning, { fetchRows: n, pageRows: n });

beforeAll(async () => {
  demo = await loadDemoThroughApi(ctx.app, 'STREAM-1');
  other = await loadDemoThroughApi(ctx.app, 'STREAM-2');
  // A second year with values, so the whole feed (no year) spans years and previous-year trends.
  for (const [code, id] of demo.indicatorIds)
    if (code.endsWith('.1')) await putMeasurement(ctx.app, id, 2017, { plan: 10, fact: 12 });
}, 120_000);

afterEach(() => {
  Object.assign(exportTuning, defaults);
});

describe('streamed status export', () => {
  it('equals the JSON feed across many fetch batches, with and without a year, for every filter', async () => {
    batchRows(4); // 19-40 rows: many FETCHes (or keyset pages), one ending exactly on a batch
    const queries = [
      'year=2016',
      `year=2016&planId=${demo.planId}`,
      `year=2016&organizationId=${other.organizationId}`,
      'year=2016&status=achieved',
      'year=2016&valueType=rank',
      `planId=${demo.planId}`,
      'status=not_achieved',
      '',
    ];
    for (const query of queries) {
      const json = await jsonFeed(query);
      expect(json.length, query).toBeGreaterThan(0);
      expect(await csvOf(query), query).toEqual(json.map((row) => asCells(row, 'kk')));
    }
    // A batch size that divides the row count exactly: the last FETCH comes back empty.
    const json = await jsonFeed(`year=2016&planId=${demo.planId}`);
    batchRows(json.length);
    expect(await csvOf(`year=2016&planId=${demo.planId}`)).toEqual(json.map((row) => asCells(row, 'kk')));
  });

  it('resolves name and unit to ?lang with the kk, ru, en fallback, and writes ";" CSV', async () => {
    batchRows(5);
    const goal = await createGoal(ctx.app, (await createDirection(ctx.app, demo.planId)).id);
    // Only Russian and English text: kk falls back to ru.
    const created = expectStatus(
      await call(ctx.app, 'POST', `${API}/goals/${goal.id}/indicators`, {
        code: 'L.1',
        name: { ru: 'Доля; "кавычки"', en: 'Share' },
        unit: { en: '%' },
        source: { en: 'Data' },
        valueType: 'percent',
        betterWhen: 'higher',
      }),
      201,
    );
    await putMeasurement(ctx.app, created.id, 2016, { plan: 1.5, fact: -2.25 });
    for (const lang of ['kk', 'ru', 'en'] as const) {
      const json = await jsonFeed(`year=2016&planId=${demo.planId}&lang=${lang}`);
      const rows = await csvOf(`year=2016&planId=${demo.planId}&lang=${lang}`, ';');
      expect(rows).toEqual(json.map((row) => asCells(row, lang, ';')));
      const mine = rows.find((r) => r[col('indicatorId')] === created.id)!;
      expect(mine[col('name')]).toBe(lang === 'en' ? 'Share' : 'Доля; "кавычки"');
      expect(mine[col('unit')]).toBe('%');
      expect(mine[col('fact')]).toBe('-2,25'); // a negative number is a number, not a formula; ";" writes a decimal comma
    }
  });

  it('neutralizes spreadsheet formulas in text cells and quotes what would break a row', async () => {
    batchRows(2);
    const org = await createOrganization(ctx.app);
    const plan = await createPlan(ctx.app, org.id);
    const goal = await createGoal(ctx.app, (await createDirection(ctx.app, plan.id)).id);
    const texts = ['=1+2', '+SUM(A1:A9)', '-3+4', '@cmd', '\tTAB', 'line\nbreak', 'a,b', 'quote "q"', 'plain'];
    // Stored directly: the API's own validation is not what is under test.
    await queryRows(
      ctx,
      sql`insert into indicators (goal_id, code, name, unit, source, value_type, better_when, position)
          select ${goal.id}::uuid, 'F.' || n, jsonb_build_object('kk', t), jsonb_build_object('kk', t), '{"kk":"s"}'::jsonb, 'number', 'lower', n
          from unnest(${sql.raw(`array[${texts.map((t) => `'${t.replace(/'/g, "''")}'`).join(',')}]`)}::text[]) with ordinality as x(t, n)`,
    );
    const res = await call(ctx.app, 'GET', `${API}/status?year=2016&planId=${plan.id}&format=csv`);
    const rows = parseCsv(res.raw.body.slice(1), ',').slice(1);
    const byCode = new Map(rows.map((r) => [r[col('code')], r]));
    texts.forEach((t, i) => {
      const expected = /^[=+\-@\t\r]/.test(t) ? `'${t}` : t;
      expect(byCode.get(`F.${i + 1}`)?.[col('name')], t).toBe(expected);
    });
    // The raw text: "," and ";" and quotes and line breaks quoted, formulas prefixed.
    expect(res.raw.body).toContain(`,'=1+2,'=1+2,`);
    expect(res.raw.body).toContain('"line\nbreak"');
    expect(res.raw.body).toContain('"quote ""q"""');
    expect(res.raw.body).toContain('"a,b"');
    // XLSX: the same text as string cells (a workbook cell is never a formula unless written as one).
    const xlsx = await call(ctx.app, 'GET', `${API}/status?year=2016&planId=${plan.id}&format=xlsx`);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(xlsx.raw.rawPayload as unknown as ArrayBuffer);
    const names: unknown[] = [];
    workbook.worksheets[0]!.eachRow((r, n) => n > 1 && names.push((r.values as unknown[])[col('name') + 1]));
    expect(names.sort()).toEqual([...texts].sort());
  });

  it('writes where each row sits (organization to goal) quoted, neutralized and in ?lang, for every tree filter, fresh after a rename', async () => {
    batchRows(2);
    const org = await createOrganization(ctx.app, { name: { kk: 'Org, "A"', en: 'Org' } });
    const plan = await createPlan(ctx.app, org.id, { title: { ru: 'План; 1', en: 'Plan' } }); // kk falls back to ru
    const direction = await createDirection(ctx.app, plan.id, { title: { kk: 'Dir\nX', en: 'Dir' } });
    const goals = [
      await createGoal(ctx.app, direction.id, { title: { kk: '=G1', en: 'G1' } }),
      await createGoal(ctx.app, direction.id, { title: { en: 'G2' } }),
    ];
    for (const goal of goals)
      for (const n of [1, 2, 3]) {
        const indicator = await createIndicator(ctx.app, goal.id, { code: `P.${n}` });
        await putMeasurement(ctx.app, indicator.id, 2016, { plan: 10, fact: n });
      }
    // The JSON feed's cells, with the formula sign neutralized as every CSV text cell is.
    const placed = ['organizationName', 'planTitle', 'directionTitle', 'goalTitle'].map(col);
    const expected = (row: Json, lang: 'kk' | 'ru' | 'en', sep: string) =>
      asCells(row, lang, sep).map((cell, i) => (placed.includes(i) && /^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell));
    const queries = [
      `year=2016&organizationId=${org.id}`,
      `year=2016&planId=${plan.id}`,
      `year=2016&directionId=${direction.id}`,
      `year=2016&goalId=${goals[1]!.id}`,
      `goalId=${goals[0]!.id}`,
    ];
    for (const query of queries)
      for (const [lang, sep] of [
        ['kk', ','],
        ['en', ';'],
      ] as const) {
        const json = await jsonFeed(`${query}&lang=${lang}`);
        expect(json.length, query).toBeGreaterThan(0);
        expect(await csvOf(`${query}&lang=${lang}`, sep), `${query} ${lang}`).toEqual(
          json.map((row) => expected(row, lang, sep)),
        );
      }
    const rows = await csvOf(`year=2016&organizationId=${org.id}`);
    expect(rows).toHaveLength(6);
    expect(new Set(rows.map((r) => r[col('organizationName')]))).toEqual(new Set(['Org, "A"']));
    expect(new Set(rows.map((r) => r[col('planTitle')]))).toEqual(new Set(['План; 1']));
    expect(new Set(rows.map((r) => r[col('directionTitle')]))).toEqual(new Set(['Dir\nX']));
    expect(rows.map((r) => r[col('goalTitle')]).sort()).toEqual(["'=G1", "'=G1", "'=G1", 'G2', 'G2', 'G2']);
    // Each export reads the names anew.
    expectStatus(
      await call(
        ctx.app,
        'PATCH',
        `${API}/goals/${goals[1]!.id}`,
        { title: { kk: 'G2 renamed' } },
        { 'if-match': `"${goals[1]!.version}"` },
      ),
      200,
    );
    const renamed = await csvOf(`year=2016&goalId=${goals[1]!.id}`);
    expect(renamed.map((r) => r[col('goalTitle')])).toEqual(['G2 renamed', 'G2 renamed', 'G2 renamed']);
  });

  it('XLSX equals the JSON feed across many fetch batches', async () => {
    batchRows(3);
    const json = await jsonFeed('year=2016');
    const res = await call(ctx.app, 'GET', `${API}/status?year=2016&format=xlsx`);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(res.raw.rawPayload as unknown as ArrayBuffer);
    const rows: unknown[][] = [];
    workbook.worksheets[0]!.eachRow((r) => rows.push((r.values as unknown[]).slice(1)));
    expect(rows[0]).toEqual(COLUMNS);
    expect(rows.slice(1).map((cells) => COLUMNS.map((_, k) => cells[k] ?? null))).toEqual(
      json.map((row) => COLUMNS.map((c) => statusValue(row, c))),
    );
  });

  it('runs more concurrent CSV exports than the pool has connections, each complete and each with its ETag', async () => {
    // Each export reads its ETag (up to four queries at once) and then holds one connection for its
    // cursor: nothing may hold one connection while waiting for another, or these would deadlock.
    batchRows(3);
    const url = `${API}/status?year=2016&format=csv`;
    // One export alone (the first test holds exports to the JSON feed), then eight at once.
    const alone = await call(ctx.app, 'GET', url);
    expect(parseCsv(alone.raw.body.slice(1), ',').length).toBeGreaterThan(40);
    const answers = await Promise.all(Array.from({ length: 8 }, () => call(ctx.app, 'GET', url)));
    const tags = new Set<string>([String(alone.headers.etag)]);
    for (const res of answers) {
      expect(res.status).toBe(200);
      expect(res.raw.body).toBe(alone.raw.body);
      tags.add(String(res.headers.etag));
    }
    expect(tags.size).toBe(1);
    expect((await call(ctx.app, 'GET', url, undefined, { 'if-none-match': [...tags][0]! })).status).toBe(304);
  });

  it('reads exports through connections that start no parallel workers (processes beyond the pool), and only those', async (context) => {
    const setting = async (db: typeof ctx.db.database.db) =>
      ((await db.execute(sql`show max_parallel_workers_per_gather`)) as unknown as { rows: Record<string, string>[] })
        .rows[0]!.max_parallel_workers_per_gather;
    const exportDb = exportHandleOf(ctx.db.database.db);
    if (exportDb === ctx.db.database.db) {
      // PGlite: one connection, no pool of the exports' own.
      await leftOutOnOneConnection(context, 'server settings of the exports pool');
      return;
    }
    expect(await setting(exportDb)).toBe('0');
    expect(await setting(ctx.db.database.db)).not.toBe('0');
  });

  it('gives the database connection back when the client aborts mid-export', async (context) => {
    batchRows(100);
    const org = await createOrganization(ctx.app);
    const plan = await createPlan(ctx.app, org.id);
    const goal = await createGoal(ctx.app, (await createDirection(ctx.app, plan.id)).id);
    await queryRows(
      ctx,
      sql`insert into indicators (goal_id, code, name, unit, source, value_type, better_when, position)
          select ${goal.id}::uuid, 'A.' || g, jsonb_build_object('kk', repeat('Индикатор ', 20) || g), '{"kk":"%"}'::jsonb, '{"kk":"s"}'::jsonb, 'percent', 'higher', g
          from generate_series(1, 4000) g`,
    );
    const address = await ctx.app.listen({ port: 0, host: '127.0.0.1' }); // closed by setupApp's afterAll
    {
      const token = await adminToken(ctx.app);
      // The exports read through their own pool (src/db/export-handle.ts); the API's must stay untouched too.
      const pool = ctx.db.database.exportPoolStats;
      const apiPool = ctx.db.database.poolStats;
      // More aborted exports than the pool has connections (4): a leak would exhaust it.
      // Both formats: the XLSX writer waits for the client differently (drain) from the CSV stream.
      // csv with 0: closed as soon as the answer starts.
      for (const [format, enough] of [
        ['csv', 100_000],
        ['csv', 0],
        ['xlsx', 20_000],
      ] as const) {
        // PGlite has no pool a leak could exhaust: two of each show the service outlives them.
        for (let i = 0; i < (pool ? 8 : 2); i++) {
          const abort = new AbortController();
          const res = await fetch(`${address}${API}/status?year=2016&planId=${plan.id}&format=${format}`, {
            headers: { authorization: `Bearer ${token}` },
            signal: abort.signal,
          });
          expect(res.status).toBe(200);
          const reader = res.body!.getReader();
          let got = 0;
          while (got < enough) got += (await reader.read()).value?.length ?? 0; // some rows, far from all
          abort.abort();
          await reader.cancel().catch(() => {});
        }
      }
      // PGlite is one connection with no pool (poolStats is undefined): there is nothing to leak, so the
      // pool and pg_stat_activity checks run on PostgreSQL only, and a PGlite run says it left them out.
      expect(pool === undefined).toBe(!hasTwoConnections());
      if (!pool)
        await leftOutOnOneConnection(context, 'connection-leak checks of aborted exports (exports-stream.test.ts)');
      else {
        // The server notices each closed socket, the cursor's transaction is rolled back, the client released.
        const deadline = Date.now() + 10_000;
        while (Date.now() < deadline && (pool().idle < pool().total || pool().waiting > 0))
          await new Promise((r) => setTimeout(r, 50));
        expect(pool()).toMatchObject({ waiting: 0 });
        expect(pool().idle).toBe(pool().total);
        expect(pool().total).toBeGreaterThan(0); // the exports did use it
        expect(apiPool!()).toMatchObject({ waiting: 0 });
        expect(apiPool!().idle).toBe(apiPool!().total);
        const open = await queryRows(
          ctx,
          sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and state like 'idle in transaction%'`,
        );
        expect(open[0]!.n).toBe(0);
      }
      // And the service still answers, an export included.
      const after = await fetch(`${address}${API}/status?year=2016&planId=${demo.planId}&format=csv`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(after.status).toBe(200);
      const rows = parseCsv(
        new TextDecoder('utf-8', { ignoreBOM: true }).decode(await after.arrayBuffer()).slice(1),
        ',',
      );
      expect(rows.slice(1)).toEqual(
        (await jsonFeed(`year=2016&planId=${demo.planId}`)).map((row) => asCells(row, 'kk')),
      );
    }
  }, 120_000);
});
