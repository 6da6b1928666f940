/**
 * The annual report as an official would sign it (issue 17), read back from the files:
 * - XLSX: no cell holds more text than its row height and column width can display, by the estimate
 *   stated below; print setup that keeps text at 9 pt or more; nothing of a long risk lost;
 * - page furniture: running header and "page N of M" fields in DOCX and XLSX, page-margin boxes in HTML;
 * - the signature block in every format; the note's sub-headings and emphasis in every format;
 * - a rank's rating size and score in the fact cell, and ?compare=previous.
 */
import ExcelJS from 'exceljs';
import JSZip from 'jszip';
import { parse } from 'node-html-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDemoDataset } from '../../src/demo/dataset.js';
import { seedDemo } from '../../src/demo/seed.js';
import type { Json } from '../helpers/app.js';
import { call, setupApp } from '../helpers/app.js';
import { API, createOrganization, createTree, expectStatus } from '../helpers/fixtures.js';

const ctx = setupApp({ MAX_EVENT_LOOP_DELAY_MS: 0 });
const data = loadDemoDataset();
let planId: string;
const report = (query: string) => call(ctx.app, 'GET', `${API}/plans/${planId}/reports/2016${query}`);

beforeAll(async () => {
  planId = (await seedDemo(ctx.db.database.db)).planId!;
});

/**
 * The estimate, stated here on its own: a column width w (in characters of Excel's default font)
 * holds floor(w / 0.8) characters of the report's 10-pt text per line (LibreOffice prints ~w / 0.67);
 * text wraps at spaces, a longer word breaks across lines; a line takes 12 pt, a cell 4 pt of
 * padding; no row may be taller than 409 pt (what Excel and LibreOffice can show).
 */
function linesNeeded(text: string, width: number): number {
  const cap = Math.max(1, Math.floor(width / 0.8));
  let lines = 0;
  for (const paragraph of text.split('\n')) {
    let len = 0;
    lines++;
    for (const word of paragraph.split(' ').filter((w) => w !== '')) {
      if (len > 0 && len + 1 + word.length <= cap) len += 1 + word.length;
      else {
        if (len > 0) lines++;
        lines += Math.ceil(word.length / cap) - 1;
        len = word.length % cap || cap;
      }
    }
  }
  return Math.max(1, lines);
}

const colNumber = (letters: string) => [...letters].reduce((n, c) => n * 26 + c.charCodeAt(0) - 64, 0);

/** Every cell that shows text: its text, the width it has and the height of its row(s). */
function displayedCells(sheet: ExcelJS.Worksheet) {
  const merged = new Map<string, { width: number; height: number }>();
  const covered = new Set<string>();
  const width = (c: number) => sheet.getColumn(c).width ?? 9;
  const height = (r: number) => sheet.getRow(r).height ?? 15;
  for (const range of (sheet.model as unknown as { merges: string[] }).merges) {
    const [, c1, r1, c2, r2] = /^([A-Z]+)(\d+):([A-Z]+)(\d+)$/.exec(range)!;
    const [left, right, top, bottom] = [colNumber(c1!), colNumber(c2!), Number(r1), Number(r2)];
    let w = 0;
    let h = 0;
    for (let c = left; c <= right; c++) w += width(c);
    for (let r = top; r <= bottom; r++) h += height(r);
    for (let r = top; r <= bottom; r++)
      for (let c = left; c <= right; c++) if (r !== top || c !== left) covered.add(`${r}:${c}`);
    merged.set(`${top}:${left}`, { width: w, height: h });
  }
  const out: { address: string; text: string; width: number; height: number; rowHeight: number }[] = [];
  sheet.eachRow({ includeEmpty: false }, (row, r) => {
    row.eachCell({ includeEmpty: false }, (cell, c) => {
      if (covered.has(`${r}:${c}`) || cell.text === '') return;
      const m = merged.get(`${r}:${c}`);
      out.push({
        address: cell.address,
        text: cell.text,
        width: m?.width ?? width(c),
        height: m?.height ?? height(r),
        rowHeight: height(r),
      });
    });
  });
  return out;
}

async function workbookOf(query: string) {
  const res = await report(query);
  expect(res.status).toBe(200);
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(res.raw.rawPayload as unknown as ArrayBuffer);
  return workbook;
}

describe('the XLSX report shows everything', () => {
  for (const query of [
    '?format=xlsx&lang=kk',
    '?format=xlsx&lang=ru',
    '?format=xlsx&lang=en',
    '?format=xlsx&lang=kk&compare=previous',
  ]) {
    it(`no cell holds more text than its row can display (${query})`, async () => {
      const workbook = await workbookOf(query);
      let cells = 0;
      for (const sheet of workbook.worksheets) {
        for (const cell of displayedCells(sheet)) {
          cells++;
          expect(cell.rowHeight, `${sheet.name}!${cell.address} row height`).toBeLessThanOrEqual(409);
          const needed = linesNeeded(cell.text, cell.width) * 12 + 4;
          expect(
            needed,
            `${sheet.name}!${cell.address}: "${cell.text.slice(0, 60)}..." needs ${needed} pt, has ${cell.height}`,
          ).toBeLessThanOrEqual(cell.height + 0.01);
        }
      }
      expect(cells).toBeGreaterThan(200);
    });
  }

  it('keeps every word of the longest risk (goal 3.2), continued on following rows', async () => {
    const sheet = (await workbookOf('?format=xlsx&lang=kk')).worksheets[0]!;
    const column3: string[] = [];
    sheet.eachRow((row) => column3.push(row.getCell(3).text));
    const words = (s: string) => s.split(/\s+/).filter(Boolean);
    const risk = data.directions[2]!.goals[1]!.risks[0]!.actualMeasures!.kk!;
    expect(risk.length).toBeGreaterThan(3000); // ~57 lines in its column: more than one row (409 pt) can show
    expect(risk).toContain('185 адам мадақталған');
    expect(risk).toContain('ГРЕКО');
    expect(words(column3.join('\n')).join(' ')).toContain(words(risk).join(' '));
    const holding = column3.filter((t) => t !== '' && risk.includes(t.split('\n')[0]!));
    expect(holding.length).toBeGreaterThan(1);
  });

  it('prints landscape A4, one page wide at 100 % (text stays 10 pt, at least 9), header rows repeated', async () => {
    const workbook = await workbookOf('?format=xlsx&lang=kk&compare=previous');
    for (const [i, sheet] of workbook.worksheets.entries()) {
      const setup = sheet.pageSetup;
      expect(setup).toMatchObject({
        orientation: 'landscape',
        paperSize: 9,
        fitToPage: true,
        fitToWidth: 1,
        fitToHeight: 0,
      });
      // Excel shrinks to fit the width: scale = printable width / content width (7 px a width unit, 5 px padding).
      const printable = (841.89 / 72 - setup.margins!.left - setup.margins!.right) * 72;
      let content = 0;
      for (let c = 1; c <= sheet.columnCount; c++) content += (sheet.getColumn(c).width ?? 9) * 5.25 + 3.75;
      expect(10 * Math.min(1, printable / content), sheet.name).toBeGreaterThanOrEqual(9);
      if (i < 2) expect(setup.printTitlesRow).toMatch(/^\d+:\d+$/);
    }
  });
});

describe('XLSX pages break like a printed report', () => {
  it('no printed page ends with a heading row (direction, goal, group): breaks are set before them', async () => {
    const res = await report('?format=xlsx&lang=kk');
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(res.raw.rawPayload as unknown as ArrayBuffer);
    const zip = await JSZip.loadAsync(res.raw.rawPayload);
    let breaks = 0;
    for (const [index, sheet] of workbook.worksheets.slice(0, 2).entries()) {
      // Pages at 100 % (the print test above): A4 landscape, 0.75" top and bottom margins; the title rows repeat.
      const pageHeight = 595.28 - 72 * 1.5;
      const [from, to] = sheet.pageSetup.printTitlesRow!.split(':').map(Number) as [number, number];
      const height = (r: number) => sheet.getRow(r).height ?? 15;
      let repeated = 0;
      for (let r = from; r <= to; r++) repeated += height(r);
      // Manual breaks, read from the sheet's XML (exceljs does not read them back): <brk id="n"/> breaks after row n.
      const xml = await zip.file(`xl/worksheets/sheet${index + 1}.xml`)!.async('string');
      const manual = new Set([...xml.matchAll(/<brk id="(\d+)"/g)].map((m) => Number(m[1])));
      breaks += manual.size;
      const isHeading = (r: number) =>
        (sheet.getCell(r, 1).fill as ExcelJS.FillPattern | undefined)?.fgColor?.argb === 'FFE8E8E8';
      const pageEnds: number[] = [];
      let used = 0;
      for (let r = 1; r <= sheet.rowCount; r++) {
        if ((used + height(r) > pageHeight && used > repeated) || manual.has(r - 1)) {
          pageEnds.push(r - 1);
          used = repeated;
        }
        used += height(r);
      }
      expect(pageEnds.length, sheet.name).toBeGreaterThan(1);
      for (const end of pageEnds)
        expect(isHeading(end), `${sheet.name}: page ends with heading row ${end}`).toBe(false);
    }
    expect(breaks).toBeGreaterThan(0);
  });
});

describe('page furniture', () => {
  it('DOCX: a running header with the state body and the title, PAGE and NUMPAGES in the footer', async () => {
    const zip = await JSZip.loadAsync((await report('?format=docx&lang=kk')).raw.rawPayload);
    const names = Object.keys(zip.files);
    const header = await zip.file(names.find((n) => /^word\/header\d*\.xml$/.test(n))!)!.async('string');
    const footer = await zip.file(names.find((n) => /^word\/footer\d*\.xml$/.test(n))!)!.async('string');
    expect(header).toContain(data.organization.name.kk!);
    expect(header).toContain('Стратегиялық жоспарды іске асыру бойынша есеп, 2016');
    expect(footer).toMatch(/<w:instrText[^>]*>\s*PAGE\s*<\/w:instrText>/);
    expect(footer).toMatch(/<w:instrText[^>]*>\s*NUMPAGES\s*<\/w:instrText>/);
    expect(footer).toContain('Бет ');
    const document = await zip.file('word/document.xml')!.async('string');
    expect(document).toMatch(/<w:headerReference [^>]*w:type="default"/);
    expect(document).toMatch(/<w:footerReference [^>]*w:type="default"/);
  });

  it('XLSX: header and footer with the page number and count on every sheet', async () => {
    const workbook = await workbookOf('?format=xlsx&lang=ru');
    for (const sheet of workbook.worksheets) {
      expect(sheet.headerFooter.oddHeader).toContain(data.organization.name.ru!);
      expect(sheet.headerFooter.oddHeader).toContain('Отчёт о реализации стратегического плана, 2016');
      expect(sheet.headerFooter.oddFooter).toMatch(/Страница &P из &N/);
    }
  });

  it('HTML: page-margin boxes with the state body, the title and counter(page) of counter(pages)', async () => {
    const html = (await report('?format=html&lang=en')).raw.body;
    const css = parse(html).querySelector('style')!.text;
    expect(css).toMatch(/@top-left \{ content: "[^"]*Agency/);
    expect(css).toContain('@top-right { content: "Report on the implementation of the strategic plan, 2016"');
    expect(css).toMatch(/@bottom-center \{ content: "Page " counter\(page\) " of " counter\(pages\)/);
  });
});

describe('page furniture with hostile text', () => {
  it('HTML: a state body name cannot end the CSS string or the style element', async () => {
    const organization = await createOrganization(ctx.app, {
      name: { kk: 'A"; } body { display: none } </style><script>alert(1)</script>\\' },
    });
    const t = await createTree(ctx.app, { organizationId: organization.id });
    const html = (await call(ctx.app, 'GET', `${API}/plans/${t.plan.id}/reports/2016?format=html&lang=kk`)).raw.body;
    const style = html.slice(html.indexOf('<style>'), html.indexOf('</style>'));
    expect(style).toContain(
      '@top-left { content: "A\\22 ; } body { display: none } \\3c /style\\3e \\3c script\\3e alert(1)\\3c /script\\3e \\5c ";',
    );
    expect(html).not.toContain('<script>');
  });
});

describe('the signature block', () => {
  const text = {
    kk: ['Төраға', 'Қ. Қожамжаров'],
    ru: ['Председатель', 'К. Кожамжаров'],
    en: ['Chairman', 'K. Kozhamzharov'],
  } as const;
  const editionTitle = {
    kk: 'Осы басылым туралы ескертпелер',
    ru: 'Примечания к настоящему изданию',
    en: 'Notes on this edition',
  };

  it('ends the document in every format and language, the remark in ru and en only', async () => {
    for (const lang of ['kk', 'ru', 'en'] as const) {
      const [position, name] = text[lang];
      const json = expectStatus(await report(`?lang=${lang}`), 200);
      expect(json.signature).toMatchObject({ position, name });
      expect(json.signature.remark === null).toBe(lang === 'kk');

      const docx = await (
        await JSZip.loadAsync((await report(`?format=docx&lang=${lang}`)).raw.rawPayload)
      )
        .file('word/document.xml')!
        .async('string');
      // After the note: the position, a tab to the right margin, the name; then the notes on this edition.
      const paragraphs = docx.match(/<w:p>(?:(?!<w:p>)[\s\S])*?<\/w:p>/g)!.filter((p) => p.includes('<w:t'));
      const at = paragraphs.findIndex(
        (p) =>
          /<w:tab w:val="right"/.test(p) &&
          p.replace(/<w:tab\/>/g, '\t').replace(/<[^>]+>/g, '') === `${position}\t${name}`,
      );
      expect(at).toBeGreaterThan(paragraphs.findIndex((p) => p.includes('3. ')));
      const after = paragraphs.slice(at + 1).map((p) => p.replace(/<w:tab\/>/g, '\t').replace(/<[^>]+>/g, ''));
      expect(after[0]).toBe(editionTitle[lang]);
      expect(after.slice(1)).toHaveLength(9);
      expect(after[1]).toMatch({ kk: /^1\.\t2-бөлім/, ru: /^1\.\tРаздел 2/, en: /^1\.\tSection 2/ }[lang]);

      const sheet = (await workbookOf(`?format=xlsx&lang=${lang}`)).worksheets[2]!;
      const texts: string[][] = [];
      sheet.eachRow((row) => texts.push([row.getCell(1).text, row.getCell(2).text]));
      const signatureRow = texts.findIndex(([a, b]) => a === position && b === name);
      expect(signatureRow).toBeGreaterThan(0);
      expect(texts[signatureRow + 1]![0]).toBe(editionTitle[lang]);
      expect(texts.slice(signatureRow + 2).filter(([a]) => /^\d\. /.test(a!))).toHaveLength(9);

      const html = parse((await report(`?format=html&lang=${lang}`)).raw.body);
      expect(html.querySelector('footer.signature .position')!.text).toBe(position);
      expect(html.querySelector('footer.signature .name')!.text).toBe(name);
      expect(html.querySelector('footer.signature .remark') === null).toBe(lang === 'kk');
      expect(html.querySelector('footer.signature .edition-notes h3')!.text).toBe(editionTitle[lang]);
      const notes = html.querySelectorAll('footer.signature .edition-notes li').map((li) => li.text);
      expect(notes).toHaveLength(9);
      // Each value from outside the document names its source.
      expect(
        notes.filter((n) => /Transparency International|World Economic Forum|Всемирный экономический форум/.test(n))
          .length,
      ).toBeGreaterThanOrEqual(2);
    }
  });
});

describe('the analytical note keeps its sub-headings and emphasis', () => {
  const headings = [
    'Мемлекеттік қызметтің кәсіби жүйесін құру бойынша',
    'Мемлекеттік қызметтерді көрсету сапасын көтеру бойынша',
    'Сыбайлас жемқорлыққа қарсы іс-қимыл бойынша',
  ];

  it('the demo: sub-headings in HTML, DOCX and XLSX; bold and italic from the original', async () => {
    const html = parse((await report('?format=html&lang=kk')).raw.body);
    expect(html.querySelectorAll('#section-3 h3').map((h) => h.text)).toEqual(headings);
    expect(html.querySelectorAll('#section-3 strong').map((s) => s.text)).toContain('үш сатылы жүйесі');
    expect(html.querySelectorAll('#section-3 em').length).toBeGreaterThanOrEqual(5);
    expect(html.querySelector('#section-3')!.text).not.toContain('**');

    const docx = await (
      await JSZip.loadAsync((await report('?format=docx&lang=kk')).raw.rawPayload)
    )
      .file('word/document.xml')!
      .async('string');
    expect(docx).toMatch(
      /<w:r><w:rPr><w:b\/>(?:<w:bCs\/>)?<\/w:rPr><w:t xml:space="preserve">үш сатылы жүйесі<\/w:t><\/w:r>/,
    );
    for (const h of headings) expect(docx).toMatch(new RegExp(`<w:keepNext/>[\\s\\S]{0,200}<w:b/>[\\s\\S]{0,120}${h}`));
    expect(docx).not.toContain('**');

    const sheet = (await workbookOf('?format=xlsx&lang=kk')).worksheets[2]!;
    const values: ExcelJS.CellValue[] = [];
    sheet.eachRow((row) => values.push(row.getCell(1).value));
    const runs = values.flatMap((v) => (v && typeof v === 'object' && 'richText' in v ? v.richText : []));
    expect(runs).toContainEqual(
      expect.objectContaining({ text: 'үш сатылы жүйесі', font: expect.objectContaining({ bold: true }) }),
    );
    expect(runs.filter((r) => r.font?.italic).length).toBeGreaterThanOrEqual(5);
    for (const h of headings)
      expect(runs).toContainEqual(expect.objectContaining({ text: h, font: expect.objectContaining({ bold: true }) }));
  });

  it('escapes HTML and keeps plain notes plain: only emphasis is markup', async () => {
    const t = await createTree(ctx.app);
    const blocks = [
      { type: 'heading', text: { kk: 'Бөлім *бір*' } },
      {
        type: 'paragraph',
        text: { kk: '<b>Қалың</b> емес, **қалың** және _көлбеу_, \\*жұлдыз\\* [сілтеме](http://x) snake_case_name' },
      },
      { type: 'paragraph', text: { kk: 'Жай мәтін.' } },
    ];
    expectStatus(await call(ctx.app, 'PUT', `${API}/plans/${t.plan.id}/notes/2016`, { blocks }), 201);
    const html = (await call(ctx.app, 'GET', `${API}/plans/${t.plan.id}/reports/2016?format=html&lang=kk`)).raw.body;
    const note = html.slice(html.indexOf('<section id="section-3"'));
    expect(note).toContain('<h3><span>Бөлім <em>бір</em></span></h3>');
    expect(note).toContain(
      '&lt;b&gt;Қалың&lt;/b&gt; емес, <strong>қалың</strong> және <em>көлбеу</em>, *жұлдыз* [сілтеме](http://x) snake_case_name',
    );
    expect(note).toContain('<p><span>Жай мәтін.</span></p>');
    expect(note).not.toMatch(/<a |<b>/);
  });
});

describe('rank indicators as officials write them', () => {
  const cpi = (json: Json) =>
    json.sections.indicators.directions
      .flatMap((d: Json) => d.goals.flatMap((g: Json) => g.indicators))
      .find((i: Json) => i.code === '3.2.1');

  it('prints the rating size and score in the fact cell in kk, ru and en', async () => {
    const expected = {
      kk: '131 (176 елдің ішінде; 29 балл)',
      ru: '131 (из 176 стран; 29 баллов)',
      en: '131 (of 176 countries; 29 points)',
    };
    for (const lang of ['kk', 'ru', 'en'] as const) {
      expect(`131 (${cpi(expectStatus(await report(`?lang=${lang}`), 200)).rankDetails})`).toBe(expected[lang]);
      const html = parse((await report(`?format=html&lang=${lang}`)).raw.body);
      expect(html.querySelector('tr.indicator[data-code="3.2.1"] td.fact')!.text).toBe(expected[lang]);
      const sheet = (await workbookOf(`?format=xlsx&lang=${lang}`)).worksheets[1]!;
      const texts: string[] = [];
      sheet.eachRow((row) => texts.push(row.getCell(5).text));
      expect(texts).toContain(expected[lang]);
    }
    const docx = await (
      await JSZip.loadAsync((await report('?format=docx&lang=kk')).raw.rawPayload)
    )
      .file('word/document.xml')!
      .async('string');
    expect(docx).toContain('131 (176 елдің ішінде; 29 балл)');
    // A percentage keeps its plain number.
    expect(
      parse((await report('?format=html&lang=kk')).raw.body).querySelector('tr.indicator[data-code="1.1.1"] td.fact')!
        .text,
    ).toBe('6,3');
  });

  it('?compare=previous adds the previous fact and the trend: CPI 123 -> 131 worsened', async () => {
    const html = parse((await report('?format=html&lang=kk&compare=previous')).raw.body);
    expect(html.querySelectorAll('#section-2 thead tr.numbers th')).toHaveLength(8);
    const row = html.querySelector('tr.indicator[data-code="3.2.1"]')!;
    expect(row.querySelector('td.previous-fact')!.text).toBe('123');
    expect(row.querySelector('td.trend')!.text).toBe('Нашарлады');
    expect(html.querySelector('tr.indicator[data-code="3.2.3"] td.previous-fact')!.text).toBe('-');
    const plain = parse((await report('?format=html&lang=kk')).raw.body);
    expect(plain.querySelectorAll('td.previous-fact')).toHaveLength(0);

    const sheet = (await workbookOf('?format=xlsx&lang=en&compare=previous')).worksheets[1]!;
    const rows: string[][] = [];
    sheet.eachRow((r) => rows.push(Array.from({ length: 8 }, (_, i) => r.getCell(i + 1).text)));
    expect(rows.find((r) => r[4]!.startsWith('131 ('))!.slice(5, 7)).toEqual(['123', 'Worsened']);
    const docx = await (
      await JSZip.loadAsync((await report('?format=docx&lang=ru&compare=previous')).raw.rawPayload)
    )
      .file('word/document.xml')!
      .async('string');
    expect(docx).toContain('Факт предыдущего года');
    expect(docx).toContain('Ухудшение');
  });
});

describe('tables that break like a printed report', () => {
  it('DOCX heading rows cannot split and keep with the next row; header titles break only between words', async () => {
    const docx = await (
      await JSZip.loadAsync((await report('?format=docx&lang=kk')).raw.rawPayload)
    )
      .file('word/document.xml')!
      .async('string');
    const shaded = docx.match(/<w:tr>(?:(?!<\/w:tr>)[\s\S])*?w:fill="E8E8E8"[\s\S]*?<\/w:tr>/g) ?? [];
    expect(shaded.length).toBeGreaterThanOrEqual(14); // 3 + 4 headings in each table, and the group
    for (const row of shaded) {
      expect(row).toContain('<w:cantSplit/>');
      expect(row).toContain('<w:keepNext/>');
    }
    expect(docx).toContain('орындалуы/ орындалмауы');
  });
});

describe('the CSV report (section 2 as data)', () => {
  it('uses a decimal point with "," and a decimal comma with ?sep=;', async () => {
    const comma = (await report('?format=csv&lang=kk')).raw.body.split('\r\n');
    const semicolon = (await report('?format=csv&lang=kk&sep=;')).raw.body.split('\r\n');
    expect(semicolon[0]).toBe(comma[0]!.replaceAll(',', ';'));
    const row = (lines: string[]) => lines.find((l) => l.includes(';1.1.1;') || l.includes(',1.1.1,'))!;
    expect(row(comma)).toMatch(/,9,6\.3,/); // plan 9, fact 6.3
    expect(row(semicolon)).toMatch(/;9;6,3;/);
    expect(semicolon.filter((l) => l !== '')).toHaveLength(20);
  });

  it('gives each variant its own ETag', async () => {
    const tags = await Promise.all(
      ['?format=csv', '?format=csv&sep=;', '?format=html', '?format=html&compare=previous'].map(
        async (q) => (await report(q)).headers.etag,
      ),
    );
    expect(new Set(tags).size).toBe(4);
  });
});
