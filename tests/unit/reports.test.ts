/** Pure parts of the report: format negotiation, text resolution with fallback marks, numbers. */
import { describe, expect, it } from 'vitest';
import { HttpProblem } from '../../src/http/problem.js';
import { chooseFormat } from '../../src/reports/negotiate.js';
import { formatNumber, lines, plain, resolveTxt } from '../../src/reports/text.js';
import { escapeHtml } from '../../src/reports/render-html.js';

describe('chooseFormat', () => {
  it('lets ?format win, and defaults to JSON', () => {
    expect(chooseFormat('docx', 'text/html')).toBe('docx');
    expect(chooseFormat(undefined, undefined)).toBe('json');
    expect(chooseFormat(undefined, '')).toBe('json');
    expect(chooseFormat(undefined, '*/*')).toBe('json');
  });

  it('picks by quality, then specificity', () => {
    expect(chooseFormat(undefined, 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8')).toBe('html');
    expect(chooseFormat(undefined, '*/*, text/csv')).toBe('csv');
    expect(chooseFormat(undefined, 'text/csv;q=0.4, application/json;q=0.5')).toBe('json');
    expect(chooseFormat(undefined, 'text/*')).toBe('html');
    expect(chooseFormat(undefined, 'application/pdf, text/csv;q=0.1')).toBe('csv');
    expect(chooseFormat(undefined, 'APPLICATION/VND.OPENXMLFORMATS-OFFICEDOCUMENT.WORDPROCESSINGML.DOCUMENT')).toBe(
      'docx',
    );
  });

  it('answers 406 when nothing acceptable can be made', () => {
    for (const accept of ['application/pdf', 'image/png, application/json;q=0', 'text/csv;q=abc']) {
      expect(() => chooseFormat(undefined, accept)).toThrow(HttpProblem);
      try {
        chooseFormat(undefined, accept);
      } catch (error) {
        expect((error as HttpProblem).status).toBe(406);
      }
    }
  });
});

describe('resolveTxt', () => {
  it('takes the asked language, else falls back kk, ru, en and says so', () => {
    expect(resolveTxt({ kk: 'Мақсат', ru: 'Цель' }, 'ru')).toEqual({ text: 'Цель', lang: 'ru', fallback: false });
    expect(resolveTxt({ ru: 'Цель', en: 'Goal' }, 'kk')).toEqual({ text: 'Цель', lang: 'ru', fallback: true });
    expect(resolveTxt({ kk: 'Мақсат', en: 'Goal' }, 'ru')).toEqual({ text: 'Мақсат', lang: 'kk', fallback: true });
    expect(resolveTxt({ kk: '  ', en: 'Goal' }, 'kk')).toEqual({ text: 'Goal', lang: 'en', fallback: true });
    expect(resolveTxt(null, 'kk')).toBeNull();
    expect(resolveTxt({}, 'kk')).toBeNull();
  });

  it('marks fallback text in plain documents', () => {
    expect(plain(resolveTxt({ ru: 'Цель' }, 'kk'))).toBe('[ru] Цель');
    expect(plain(resolveTxt({ kk: 'Мақсат' }, 'kk'))).toBe('Мақсат');
    expect(plain(null, '-')).toBe('-');
  });
});

describe('formatting', () => {
  it('prints numbers as the report does: decimal comma in kk and ru, point in en, "-" when missing', () => {
    expect(formatNumber(6.3, 'kk', '-')).toBe('6,3');
    expect(formatNumber(6.3, 'ru', '-')).toBe('6,3');
    expect(formatNumber(6.3, 'en', '-')).toBe('6.3');
    expect(formatNumber(120, 'kk', '-')).toBe('120');
    expect(formatNumber(2103, 'kk', '-')).toBe('2103');
    expect(formatNumber(1e-7, 'en', '-')).toBe('0.0000001');
    expect(formatNumber(null, 'kk', '-')).toBe('-');
  });

  it('splits multi-line text into lines without blanks, and escapes HTML', () => {
    expect(lines('бір\n\n  екі \r\nүш')).toEqual(['бір', 'екі', 'үш']);
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
