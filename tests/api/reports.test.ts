/**
 * The annual implementation report of the 2016 demo plan, read back from every format: the
 * report's 3 directions, 4 goals, 19 indicators with plan, fact and derived verdict in order, and
 * its 6 risks. The expectations come from the demo dataset (the report as printed), never from
 * the code under test.
 */
import JSZip from 'jszip';
import ExcelJS from 'exceljs';
import { parse } from 'node-html-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDemoDataset } from '../../src/demo/dataset.js';
import type { Json } from '../helpers/app.js';
import { call, setupApp } from '../helpers/app.js';
import { parseCsv } from '../helpers/csv.js';
import type { LoadedDemo } from '../helpers/demo.js';
import { loadDemoThroughApi } from '../helpers/demo.js';
import { expectProblem, expectStatus } from '../helpers/fixtures.js';

// No load shedding: PGlite runs in this process, so seeding and big renders stall the event loop.
const ctx = setupApp({ MAX_EVENT_LOOP_DELAY_MS: 0 });
let demo: LoadedDemo;
const data = loadDemoDataset();

const VERDICT_KK: Record<string, string> = {
  achieved: 'Орындалды',
  not_achieved: 'Орындалмады',
  pending: 'Орындау барысында',
};
const EXECUTION_KK: Record<string, string> = {
  executed: 'Орындалды',
  not_executed: 'Орындалмады',
  in_progress: 'Орындау барысында',
};

/** "6,3" as the Kazakh report prints 6.3; "-" for a missing value. */
const kkNumber = (n: number | null) => (n === null ? '-' : String(n).replace('.', ','));

/** The fact cell as an official writes it in Kazakh: a rank with its rating size and score, "131 (176 елдің ішінде; 29 балл)". */
function kkFact({ code, fact }: { code: string; fact: number | null }): string {
  const i = { fact, ...rankOf.get(code)! };
  const details = [
    i.ratingSize !== null && `${i.ratingSize} елдің ішінде`,
    i.score !== null && `${kkNumber(i.score)} балл`,
  ].filter(Boolean);
  return i.fact !== null && details.length > 0 ? `${kkNumber(i.fact)} (${details.join('; ')})` : kkNumber(i.fact);
}

/** The report as printed, in order. */
const expected = {
  directions: data.directions.map((d) => `${d.code}-стратегиялық бағыт. ${d.title.kk}`),
  goals: data.directions.flatMap((d) => d.goals.map((g) => `${g.code}-мақсат. ${g.title.kk}`)),
  indicators: data.directions.flatMap((d) =>
    d.goals.flatMap((g) =>
      g.indicators.map((i) => {
        const m = i.measurements.find((x) => x.year === 2016)!;
        return { code: i.code, name: i.name.kk!, plan: m.plan, fact: m.fact, status: i.reportVerdict };
      }),
    ),
  ),
  risks: data.directions.flatMap((d) =>
    d.goals.flatMap((g) => g.risks.map((r) => ({ goal: g.code, risk: r.risk.kk!, status: r.executionStatus }))),
  ),
};

/** Each 2016 measurement's rating size and score, by indicator code. */
const rankOf = new Map(
  data.directions.flatMap((d) =>
    d.goals.flatMap((g) =>
      g.indicators.map((i) => {
        const m = i.measurements.find((x) => x.year === 2016)!;
        return [
          i.code,
          {
            ratingSize: i.valueType === 'rank' ? (m.ratingSize ?? null) : null,
            score: i.valueType === 'rank' ? (m.score ?? null) : null,
          },
        ] as const;
      }),
    ),
  ),
);

const reportUrl = (query = '', year = 2016, planId = demo.planId) => `/api/v1/plans/${planId}/reports/${year}${query}`;

beforeAll(async () => {
  demo = await loadDemoThroughApi(ctx.app);
});

describe('the demo dataset', () => {
  it('holds what the 2016 report prints: 3 directions, 4 goals, 19 indicators, 6 risks', () => {
    expect(expected.directions).toHaveLength(3);
    expect(expected.goals).toHaveLength(4);
    expect(expected.indicators).toHaveLength(19);
    expect(expected.risks).toHaveLength(6);
    expect(expected.risks.map((r) => r.goal)).toEqual(['1.1', '1.1', '1.1', '2.1', '3.2', '3.2']);
  });
});

describe('GET /plans/{id}/reports/{year} as JSON', () => {
  let report: Json;
  beforeAll(async () => {
    report = expectStatus(await call(ctx.app, 'GET', reportUrl('?lang=kk')), 200);
  });

  it('has the three sections with the directions and goals in order', () => {
    expect(report).toMatchObject({
      planId: demo.planId,
      organizationId: demo.organizationId,
      year: 2016,
      lang: 'kk',
      fallback: false,
      fallbacks: [],
    });
    expect(report.reportingPeriod).toBe('Есепті кезең: 2016 жыл');
    expect(report.plan.approval).toEqual({ document: data.plan.approval!.document.kk, date: '2016-11-22' });
    const s = report.sections;
    expect([s.risks.number, s.indicators.number, s.analyticalNote.number]).toEqual([1, 2, 3]);
    expect(s.risks.title).toBe('1. Тәуекелдерді басқаруды талдау');
    expect(s.indicators.title).toBe('2. Мақсаттарға және нысаналы индикаторларға қол жеткізу');
    expect(s.analyticalNote.title).toBe('3. Талдамалық жазба');
    expect(s.risks.columns).toHaveLength(4);
    expect(s.indicators.columns).toHaveLength(6);
    for (const section of [s.risks, s.indicators]) {
      expect(section.directions.map((d: Json) => `${d.code}-стратегиялық бағыт. ${d.title}`)).toEqual(
        expected.directions,
      );
      expect(section.directions.flatMap((d: Json) => d.goals.map((g: Json) => `${g.code}-мақсат. ${g.title}`))).toEqual(
        expected.goals,
      );
    }
  });

  it('lists the 19 indicators with plan, fact and the derived verdict, in order', () => {
    const rows = report.sections.indicators.directions.flatMap((d: Json) => d.goals.flatMap((g: Json) => g.indicators));
    expect(
      rows.map((r: Json) => ({ code: r.code, name: r.name, plan: r.plan, fact: r.fact, status: r.status })),
    ).toEqual(expected.indicators);
    for (const r of rows) expect(r.verdict).toBe(VERDICT_KK[r.status]);
    const { targetRate, meanDegree, weightedDegree, score, overdue, ...today } = report.summary;
    expect(today).toEqual({ total: 19, achieved: 14, notAchieved: 4, pending: 1, noTarget: 0, achievementRate: 77.78 });
    // Evaluation methods (issue 18): the default method's additions.
    expect({ targetRate, score, overdue }).toEqual({ targetRate: 73.68, score: 77.78, overdue: 0 });
    expect(weightedDegree).toBe(meanDegree);
    const cpi = rows.find((r: Json) => r.code === '3.2.1');
    expect(cpi).toMatchObject({
      valueType: 'rank',
      betterWhen: 'lower',
      ratingSize: 176,
      score: 29,
      status: 'not_achieved',
      deviation: 11,
    });
    expect(cpi.note).toContain('176');
    expect(rows.find((r: Json) => r.code === '3.2.3').group).toBe(
      data.directions[2]!.goals[1]!.indicators[2]!.group!.kk,
    );
    expect(rows.find((r: Json) => r.code === '3.2.1').group).toBeNull();
  });

  it('has the 6 risks of section 1 under their goals, with execution status in words', () => {
    const goals = report.sections.risks.directions.flatMap((d: Json) => d.goals);
    const risks = goals.flatMap((g: Json) =>
      g.risks.map((r: Json) => ({ goal: g.code, risk: r.risk, status: r.executionStatus })),
    );
    expect(risks).toEqual(expected.risks);
    expect(goals.find((g: Json) => g.code === '3.1').risks).toEqual([]);
    const first = goals[0].risks[0];
    expect(first.id).toBe(demo.riskIds[0]);
    expect(first.executionStatusText).toBe(EXECUTION_KK[first.executionStatus]);
    expect(first.actualMeasures).toBe(data.directions[0]!.goals[0]!.risks[0]!.actualMeasures!.kk);
  });

  it('carries the analytical note as paragraphs and lists', () => {
    const note = report.sections.analyticalNote.note;
    expect(note.blocks).toHaveLength(data.analyticalNote!.blocks.length);
    expect(note.blocks[0]).toEqual({
      type: 'paragraph',
      text: (data.analyticalNote!.blocks[0] as { text: { kk: string } }).text.kk,
    });
    const lists = note.blocks.filter((b: Json) => b.type === 'list');
    expect(lists).toHaveLength(5);
    expect(lists[0]).toMatchObject({ ordered: false });
    expect(lists[0].items.length).toBeGreaterThan(1);
  });

  it('speaks Russian and English, labels and verdict words included', async () => {
    const ru = expectStatus(await call(ctx.app, 'GET', reportUrl('?lang=ru')), 200);
    const ruRows = ru.sections.indicators.directions.flatMap((d: Json) => d.goals.flatMap((g: Json) => g.indicators));
    expect(new Set(ruRows.map((r: Json) => r.verdict))).toEqual(
      new Set(['Достигнут', 'Не достигнут', 'В процессе достижения']),
    );
    expect(ru.sections.risks.title).toBe('1. Анализ управления рисками');
    expect(ruRows[0].name).toBe(data.directions[0]!.goals[0]!.indicators[0]!.name.ru);
    const en = expectStatus(
      await call(ctx.app, 'GET', reportUrl(), undefined, { 'accept-language': 'en-GB,en;q=0.8' }),
      200,
    );
    expect(en.lang).toBe('en');
    const enRows = en.sections.indicators.directions.flatMap((d: Json) => d.goals.flatMap((g: Json) => g.indicators));
    expect(new Set(enRows.map((r: Json) => r.verdict))).toEqual(new Set(['Achieved', 'Not achieved', 'In progress']));
    expect(en.sections.analyticalNote.title).toBe('3. Analytical note');
    // Without ?lang or Accept-Language the report is in Kazakh, the state language.
    expect((await call(ctx.app, 'GET', reportUrl())).body.lang).toBe('kk');
  });

  it('answers 304 to If-None-Match with the current ETag, and a new ETag after a change', async () => {
    const first = await call(ctx.app, 'GET', reportUrl('?lang=kk'));
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^W\/"/);
    expect(first.headers.vary).toMatch(/Accept/);
    expect((await call(ctx.app, 'GET', reportUrl('?lang=kk'), undefined, { 'if-none-match': etag })).status).toBe(304);
    const other = await call(ctx.app, 'GET', reportUrl('?lang=ru'));
    expect(other.headers.etag).not.toBe(etag);
  });
});

/** Text of a WordprocessingML fragment: paragraphs joined by "\n". */
function wordText(xml: string): string {
  const decode = (s: string) =>
    s
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'")
      .replace(/&amp;/g, '&');
  return (xml.match(/<w:p[ >][\s\S]*?<\/w:p>/g) ?? [])
    .map((p) =>
      (p.match(/<w:t(?: [^>]*)?>([\s\S]*?)<\/w:t>/g) ?? []).map((t) => decode(t.replace(/<[^>]+>/g, ''))).join(''),
    )
    .join('\n');
}

const cellsOf = (row: string) => row.match(/<w:tc>[\s\S]*?<\/w:tc>/g) ?? [];

/** Rows of a table after its numbered row "1 2 ... n", each as the text of its cells. */
function bodyRows(table: string, columns: number): string[][] {
  const rows = (table.match(/<w:tr[ >][\s\S]*?<\/w:tr>/g) ?? []).map((r) => cellsOf(r).map(wordText));
  const numbered = rows.findIndex(
    (cells) => cells.join(' ') === Array.from({ length: columns }, (_, i) => i + 1).join(' '),
  );
  expect(numbered).toBeGreaterThan(0);
  return rows.slice(numbered + 1);
}

describe('the report as .docx', () => {
  let xml: string;
  beforeAll(async () => {
    const res = await call(ctx.app, 'GET', reportUrl('?lang=kk'), undefined, {
      accept: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/vnd.openxmlformats-officedocument.wordprocessingml.document');
    expect(res.headers['content-disposition']).toMatch(
      /^attachment; filename="nysana-report-2014-2018-2016-kk\.docx"$/,
    );
    const zip = await JSZip.loadAsync(res.raw.rawPayload);
    xml = await zip.file('word/document.xml')!.async('string');
  });

  it('is A4 landscape with the title and the three section headings', () => {
    expect(xml).toMatch(/<w:pgSz [^>]*w:orient="landscape"/);
    const text = wordText(xml);
    expect(text).toContain('Стратегиялық жоспарды іске асыру бойынша есеп');
    expect(text).toContain('Есепті кезең: 2016 жыл');
    const headings = [
      '1. Тәуекелдерді басқаруды талдау',
      '2. Мақсаттарға және нысаналы индикаторларға қол жеткізу',
      '3. Талдамалық жазба',
    ];
    const at = headings.map((h) => text.indexOf(h));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });

  it('lays out section 2 like the official table: headings, the 1..6 row, 19 indicators in order', () => {
    const tables = xml.match(/<w:tbl>[\s\S]*?<\/w:tbl>/g)!;
    expect(tables).toHaveLength(2);
    const header = tables[1]!.match(/<w:tr[ >][\s\S]*?<\/w:tr>/g)!.slice(0, 3);
    expect(header.every((r) => r.includes('<w:tblHeader/>'))).toBe(true);
    expect(wordText(header[0]!)).toContain('Есепті кезең');
    const rows = bodyRows(tables[1]!, 6);
    const headings = rows.filter((cells) => cells.length === 1).map((cells) => cells[0]);
    expect(headings.filter((h) => /^\d+-стратегиялық бағыт\./.test(h!))).toEqual(expected.directions);
    expect(headings.filter((h) => /^\d+\.\d+-мақсат\./.test(h!))).toEqual(expected.goals);
    const indicators = rows.filter((cells) => cells.length === 6);
    expect(indicators.map((c) => ({ name: c[0], plan: c[3], fact: c[4], verdict: c[5]!.split('\n')[0] }))).toEqual(
      expected.indicators.map((i) => ({
        name: i.name,
        plan: kkNumber(i.plan),
        fact: kkFact(i),
        verdict: VERDICT_KK[i.status],
      })),
    );
  });

  it('has the 6 risks in section 1 under their goals', () => {
    const rows = bodyRows(xml.match(/<w:tbl>[\s\S]*?<\/w:tbl>/g)![0]!, 4);
    let goal = '';
    const risks: { goal: string; risk: string; status: string }[] = [];
    for (const cells of rows) {
      if (cells.length === 1) {
        const m = /^(\d+\.\d+)-мақсат\./.exec(cells[0]!);
        if (m) goal = m[1]!;
      } else risks.push({ goal, risk: cells[0]!, status: cells[3]!.split('\n')[0]! });
    }
    expect(risks).toEqual(expected.risks.map((r) => ({ goal: r.goal, risk: r.risk, status: EXECUTION_KK[r.status] })));
  });

  it('carries the analytical note with its bullet lists', () => {
    const text = wordText(xml);
    const firstParagraph = (data.analyticalNote!.blocks[0] as { text: { kk: string } }).text.kk;
    expect(text.indexOf(firstParagraph)).toBeGreaterThan(text.indexOf('3. Талдамалық жазба'));
    expect(xml).toContain('<w:numPr>');
  });
});

describe('the report as .xlsx', () => {
  let workbook: ExcelJS.Workbook;
  beforeAll(async () => {
    const res = await call(ctx.app, 'GET', reportUrl('?format=xlsx&lang=kk'));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(res.raw.rawPayload as unknown as ArrayBuffer);
  });

  /** Rows after the numbered row "1..n" as cell texts; heading rows are merged across, so only column A counts. */
  function sheetRows(sheet: ExcelJS.Worksheet, columns: number) {
    const out: { heading: boolean; cells: ExcelJS.CellValue[]; texts: string[] }[] = [];
    let started = false;
    sheet.eachRow((row) => {
      const texts = Array.from({ length: columns }, (_, i) => row.getCell(i + 1).text);
      if (!started) {
        started = texts.join(' ') === Array.from({ length: columns }, (_, i) => i + 1).join(' ');
        return;
      }
      const heading = row.getCell(2).isMerged && row.getCell(2).master.address === row.getCell(1).address;
      out.push({ heading, cells: Array.from({ length: columns }, (_, i) => row.getCell(i + 1).value), texts });
    });
    expect(started).toBe(true);
    return out;
  }

  it('has one sheet per section', () => {
    expect(workbook.worksheets.map((s) => s.name)).toEqual(['1 Тәуекелдер', '2 Индикаторлар', '3 Талдамалық жазба']);
  });

  it('lays out section 2 with merged heading rows and 19 indicators with numeric plan and fact, in order', () => {
    const sheet = workbook.worksheets[1]!;
    const rows = sheetRows(sheet, 6);
    const headings = rows.filter((r) => r.heading).map((r) => r.texts[0]!);
    expect(headings.filter((h) => /^\d+-стратегиялық бағыт\./.test(h))).toEqual(expected.directions);
    expect(headings.filter((h) => /^\d+\.\d+-мақсат\./.test(h))).toEqual(expected.goals);
    const indicators = rows.filter((r) => !r.heading && r.texts[0] !== '' && r.texts[3] !== '');
    expect(
      indicators.map((r) => ({
        name: r.texts[0],
        plan: r.cells[3],
        fact: r.cells[4],
        verdict: r.texts[5]!.split('\n')[0],
      })),
    ).toEqual(
      // A rank with its rating size or score is text as an official writes it; other facts stay numbers.
      expected.indicators.map((i) => ({
        name: i.name,
        plan: i.plan,
        fact: kkFact(i) === kkNumber(i.fact) ? (i.fact ?? '-') : kkFact(i),
        verdict: VERDICT_KK[i.status],
      })),
    );
    // The column titles: "reporting period" spans plan and fact.
    const title = sheet.getRow(5);
    expect(title.getCell(4).text).toBe('Есепті кезең');
    expect(title.getCell(5).master.address).toBe(title.getCell(4).address);
    expect(sheet.getRow(6).getCell(4).text).toBe('Жоспар');
  });

  it('has the 6 risks in section 1', () => {
    const rows = sheetRows(workbook.worksheets[0]!, 4);
    let goal = '';
    const risks: { goal: string; risk: string; status: string }[] = [];
    for (const r of rows) {
      if (r.heading) {
        const m = /^(\d+\.\d+)-мақсат\./.exec(r.texts[0]!);
        if (m) goal = m[1]!;
      } else if (r.texts[0]) risks.push({ goal, risk: r.texts[0], status: r.texts[3]!.split('\n')[0]! });
    }
    expect(risks).toEqual(expected.risks.map((r) => ({ goal: r.goal, risk: r.risk, status: EXECUTION_KK[r.status] })));
  });

  it('has the analytical note on the third sheet', () => {
    const texts: string[] = [];
    workbook.worksheets[2]!.eachRow((row) => texts.push(row.getCell(1).text));
    expect(texts).toContain((data.analyticalNote!.blocks[0] as { text: { kk: string } }).text.kk);
    expect(texts.some((t) => t.startsWith('• '))).toBe(true);
  });
});

describe('the report as CSV (section 2)', () => {
  it('has one row per indicator in order, with a BOM', async () => {
    const res = await call(ctx.app, 'GET', reportUrl('?lang=kk'), undefined, { accept: 'text/csv' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv; charset=utf-8/);
    const text = res.raw.body;
    expect(text.startsWith('\uFEFF')).toBe(true);
    const rows = parseCsv(text.slice(1));
    const header = rows[0]!;
    const col = (name: string) => header.indexOf(name);
    const body = rows.slice(1);
    expect(body).toHaveLength(19);
    expect(
      body.map((r) => ({
        code: r[col('indicatorCode')],
        name: r[col('indicator')],
        plan: r[col('plan')] === '' ? null : Number(r[col('plan')]),
        fact: r[col('fact')] === '' ? null : Number(r[col('fact')]),
        status: r[col('status')],
      })),
    ).toEqual(expected.indicators);
    expect(body.map((r) => r[col('verdict')])).toEqual(expected.indicators.map((i) => VERDICT_KK[i.status]));
    expect(new Set(body.map((r) => r[col('directionCode')]))).toEqual(new Set(['1', '2', '3']));
  });
});

describe('the report as printable HTML', () => {
  let html: string;
  beforeAll(async () => {
    const res = await call(ctx.app, 'GET', reportUrl('?lang=kk'), undefined, {
      accept: 'text/html,application/xhtml+xml,*/*;q=0.8',
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers['content-disposition']).toMatch(/^inline/);
    html = res.raw.body;
  });

  it('is a self-contained page in Kazakh without scripts', () => {
    const root = parse(html);
    expect(root.querySelector('html')!.getAttribute('lang')).toBe('kk');
    expect(root.querySelector('meta[charset]')!.getAttribute('charset')).toBe('utf-8');
    expect(root.querySelectorAll('script')).toHaveLength(0);
    expect(html).not.toMatch(/(?:src|href)=/);
    expect(root.querySelectorAll('section h2').map((h) => h.text)).toEqual([
      '1. Тәуекелдерді басқаруды талдау',
      '2. Мақсаттарға және нысаналы индикаторларға қол жеткізу',
      '3. Талдамалық жазба',
    ]);
  });

  it('has the official table of section 2 with its headings, the 1..6 row and 19 indicators in order', () => {
    const section = parse(html).querySelector('#section-2')!;
    expect(section.querySelectorAll('thead tr.numbers th').map((th) => th.text)).toEqual([
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
    ]);
    expect(section.querySelectorAll('tr.direction').map((tr) => tr.text.trim())).toEqual(expected.directions);
    expect(section.querySelectorAll('tr.goal').map((tr) => tr.text.trim())).toEqual(expected.goals);
    expect(section.querySelectorAll('tr.group')).toHaveLength(1);
    const rows = section.querySelectorAll('tr.indicator');
    expect(
      rows.map((tr) => ({
        code: tr.getAttribute('data-code'),
        name: tr.querySelector('td.name')!.text,
        plan: tr.querySelector('td.plan')!.text,
        fact: tr.querySelector('td.fact')!.text,
        verdict: tr.querySelector('td.note .verdict')!.text,
      })),
    ).toEqual(
      expected.indicators.map((i) => ({
        code: i.code,
        name: i.name,
        plan: kkNumber(i.plan),
        fact: kkFact(i),
        verdict: VERDICT_KK[i.status],
      })),
    );
  });

  it('has the 6 risks of section 1 and the analytical note', () => {
    const root = parse(html);
    const section = root.querySelector('#section-1')!;
    expect(section.querySelectorAll('tr.direction')).toHaveLength(3);
    expect(section.querySelectorAll('tr.goal')).toHaveLength(4);
    const risks = section.querySelectorAll('tr.risk');
    expect(risks.map((tr) => tr.querySelector('td')!.text)).toEqual(expected.risks.map((r) => r.risk));
    expect(risks.map((tr) => tr.getAttribute('data-execution-status'))).toEqual(expected.risks.map((r) => r.status));
    const note = root.querySelector('#section-3')!;
    expect(note.querySelectorAll('ul')).toHaveLength(5);
    expect(note.querySelectorAll('p')[0]!.text).toBe(
      (data.analyticalNote!.blocks[0] as { text: { kk: string } }).text.kk,
    );
  });

  it('escapes user text', async () => {
    const goalId = demo.goalIds.get('3.1')!;
    const created = expectStatus(
      await call(ctx.app, 'POST', `/api/v1/goals/${goalId}/risks`, {
        year: 2017,
        risk: { kk: '<script>alert(1)</script> & «тәуекел»' },
        plannedMeasures: { kk: '<img src=x onerror=alert(1)>' },
      }),
      201,
    );
    try {
      const page = (await call(ctx.app, 'GET', reportUrl('?format=html', 2017))).raw.body;
      expect(page).not.toContain('<script>');
      expect(page).not.toContain('<img');
      expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; «тәуекел»');
    } finally {
      expectStatus(await call(ctx.app, 'DELETE', `/api/v1/risks/${created.id}`), 204);
    }
  });
});

describe('text missing in the chosen language', () => {
  it('falls back and is marked: listed in JSON, "[ru] " in the documents', async () => {
    // A plan whose texts are only partly translated: the direction title exists in Russian only.
    const org = expectStatus(
      await call(ctx.app, 'POST', '/api/v1/organizations', {
        code: 'FALLBACK-ORG',
        name: { kk: 'Агенттік', en: 'Agency' },
      }),
      201,
    );
    const plan = expectStatus(
      await call(ctx.app, 'POST', '/api/v1/plans', {
        organizationId: org.id,
        code: 'СП-1',
        title: { kk: 'Жоспар' },
        startYear: 2020,
        endYear: 2022,
      }),
      201,
    );
    const direction = expectStatus(
      await call(ctx.app, 'POST', `/api/v1/plans/${plan.id}/directions`, { code: '1', title: { ru: 'Направление' } }),
      201,
    );
    const goal = expectStatus(
      await call(ctx.app, 'POST', `/api/v1/directions/${direction.id}/goals`, {
        code: '1.1',
        title: { kk: 'Мақсат', en: 'Goal' },
      }),
      201,
    );
    const indicator = expectStatus(
      await call(ctx.app, 'POST', `/api/v1/goals/${goal.id}/indicators`, {
        code: '1.1.1',
        name: { en: 'Share of services online' },
        unit: { kk: '%' },
        source: { kk: 'Есептік мәліметтер' },
        valueType: 'percent',
        betterWhen: 'higher',
      }),
      201,
    );
    expectStatus(
      await call(ctx.app, 'PUT', `/api/v1/indicators/${indicator.id}/measurements/2021`, {
        plan: 50,
        fact: 40,
        note: { ru: 'Причина' },
      }),
      201,
    );
    expectStatus(
      await call(ctx.app, 'PUT', `/api/v1/plans/${plan.id}/notes/2021`, {
        blocks: [{ type: 'paragraph', text: { en: 'Only in English' } }],
      }),
      201,
    );
    const url = `/api/v1/plans/${plan.id}/reports/2021?lang=kk`;

    const json = expectStatus(await call(ctx.app, 'GET', url), 200);
    expect(json.fallback).toBe(true);
    expect(json.fallbacks).toEqual(
      expect.arrayContaining([
        { path: '/sections/risks/directions/0/title', lang: 'ru' },
        { path: '/sections/indicators/directions/0/title', lang: 'ru' },
        { path: '/sections/indicators/directions/0/goals/0/indicators/0/name', lang: 'en' },
        { path: '/sections/indicators/directions/0/goals/0/indicators/0/note', lang: 'ru' },
        { path: '/sections/analyticalNote/note/blocks/0/text', lang: 'en' },
      ]),
    );
    expect(json.fallbacks.map((f: Json) => f.path)).not.toContain('/organization/name');
    expect(json.fallbacks).toHaveLength(5);
    expect(json.sections.indicators.directions[0].title).toBe('Направление');
    // Every pointer resolves to the text it names.
    for (const f of json.fallbacks) {
      const value = f.path
        .split('/')
        .slice(1)
        .reduce((node: Json, key: string) => node[key], json);
      expect(typeof value).toBe('string');
    }
    // The verdict is derived all the same: 40 < 50, higher is better.
    expect(json.sections.indicators.directions[0].goals[0].indicators[0]).toMatchObject({
      status: 'not_achieved',
      verdict: 'Орындалмады',
    });

    const html = (await call(ctx.app, 'GET', `${url}&format=html`)).raw.body;
    const root = parse(html);
    expect(root.querySelector('#section-2 tr.direction')!.text.trim()).toBe('1-стратегиялық бағыт. [ru] Направление');
    expect(root.querySelector('#section-2 td.name')!.text).toBe('[en] Share of services online');
    expect(root.querySelector('#section-2 td.name [lang="en"]')).not.toBeNull();
    expect(root.querySelector('.fallback-legend')!.text).toContain('[ru], [en]');

    const docx = await call(ctx.app, 'GET', `${url}&format=docx`);
    const xml = await (await JSZip.loadAsync(docx.raw.rawPayload)).file('word/document.xml')!.async('string');
    const text = wordText(xml);
    expect(text).toContain('1-стратегиялық бағыт. [ru] Направление');
    expect(text).toContain('[en] Share of services online');
    expect(text).toContain('[en] Only in English');

    const xlsx = new ExcelJS.Workbook();
    await xlsx.xlsx.load((await call(ctx.app, 'GET', `${url}&format=xlsx`)).raw.rawPayload as unknown as ArrayBuffer);
    const cells: string[] = [];
    xlsx.worksheets[1]!.eachRow((row) => cells.push(row.getCell(1).text));
    expect(cells).toContain('1-стратегиялық бағыт. [ru] Направление');
    expect(cells).toContain('[en] Share of services online');

    const csvRes = await call(ctx.app, 'GET', `${url}&format=csv`);
    expect(csvRes.raw.body).toContain('[en] Share of services online');
    // A plan code in Cyrillic: an ASCII filename, and the real one in filename*.
    expect(csvRes.headers['content-disposition']).toBe(
      `attachment; filename="nysana-report-_-1-2021-kk.csv"; filename*=UTF-8''${encodeURIComponent('nysana-report-СП-1-2021-kk.csv')}`,
    );

    // Fully translated text is never marked.
    const complete = expectStatus(await call(ctx.app, 'GET', `/api/v1/plans/${plan.id}/reports/2021?lang=en`), 200);
    expect(complete.fallbacks.map((f: Json) => f.path)).not.toContain(
      '/sections/indicators/directions/0/goals/0/indicators/0/name',
    );
    expectStatus(await call(ctx.app, 'DELETE', `/api/v1/organizations/${org.id}?cascade=true`), 204);
  });
});

describe('report edges', () => {
  it('answers an empty report for a plan year without data', async () => {
    const res = expectStatus(await call(ctx.app, 'GET', reportUrl('', 2018)), 200);
    expect(res.summary).toMatchObject({ total: 19, noTarget: 19 });
    expect(res.sections.analyticalNote.note).toBeNull();
    expect(res.sections.risks.directions.flatMap((d: Json) => d.goals.flatMap((g: Json) => g.risks))).toEqual([]);
    const rows = res.sections.indicators.directions.flatMap((d: Json) => d.goals.flatMap((g: Json) => g.indicators));
    expect(new Set(rows.map((r: Json) => r.verdict))).toEqual(new Set(['Жоспарлы мән белгіленбеген']));
    const html = (await call(ctx.app, 'GET', reportUrl('?format=html', 2018))).raw.body;
    expect(parse(html).querySelector('#section-3 .empty')!.text).toBe('Талдамалық жазба енгізілмеген.');
  });

  it('answers 404 for an unknown plan, 400 for a year outside the plan, a bad year, format or language', async () => {
    expectProblem(await call(ctx.app, 'GET', reportUrl('', 2016, '00000000-0000-4000-8000-000000000000')), 404);
    expectProblem(await call(ctx.app, 'GET', reportUrl('', 2019)), 400, ['params.year']);
    expectProblem(await call(ctx.app, 'GET', reportUrl('', 2013)), 400, ['params.year']);
    expectProblem(await call(ctx.app, 'GET', `/api/v1/plans/${demo.planId}/reports/abc`), 400, ['params.year']);
    expectProblem(await call(ctx.app, 'GET', `/api/v1/plans/not-a-uuid/reports/2016`), 400, ['params.id']);
    expectProblem(await call(ctx.app, 'GET', reportUrl('?format=pdf&lang=de')), 400, ['query.format', 'query.lang']);
  });

  it('negotiates by Accept and answers 406 when nothing it can make is acceptable', async () => {
    const type = async (accept: string) =>
      (await call(ctx.app, 'GET', reportUrl(), undefined, { accept })).headers['content-type'];
    expect(await type('*/*')).toMatch(/^application\/json/);
    expect(await type('application/json')).toMatch(/^application\/json/);
    expect(await type('text/html, */*')).toMatch(/^text\/html/);
    expect(await type('text/csv;q=0.5, application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')).toMatch(
      /spreadsheetml/,
    );
    expect(await type('text/*')).toMatch(/^text\/html/);
    expectProblem(await call(ctx.app, 'GET', reportUrl(), undefined, { accept: 'application/pdf' }), 406);
    expectProblem(await call(ctx.app, 'GET', reportUrl(), undefined, { accept: 'application/json;q=0' }), 406);
    // ?format wins over Accept.
    expect(
      (await call(ctx.app, 'GET', reportUrl('?format=csv'), undefined, { accept: 'application/pdf' })).headers[
        'content-type'
      ],
    ).toMatch(/^text\/csv/);
  });
});
