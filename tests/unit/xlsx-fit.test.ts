/** The XLSX text-fitting estimate: word wrap, and cutting long text into row-sized pieces without losing any. */
import { describe, expect, it } from 'vitest';
import { MAX_LINES, charsPerLine, lineCount, splitToFit } from '../../src/reports/xlsx-fit.js';

const flat = (pieces: { text: string }[][]) => pieces.map((p) => p.map((s) => s.text).join('')).join('\n');
const words = (s: string) => s.split(/\s+/).filter(Boolean);

describe('xlsx fit', () => {
  it('wraps at spaces greedily and counts paragraph breaks', () => {
    expect(charsPerLine(8)).toBe(10);
    expect(lineCount([{ text: 'aaaa bbbb' }], 8)).toBe(1);
    expect(lineCount([{ text: 'aaaa bbbbbb' }], 8)).toBe(2); // 11 chars > 10
    expect(lineCount([{ text: 'aaaa\nb' }], 8)).toBe(2);
    expect(lineCount([{ text: '' }], 8)).toBe(1);
    expect(lineCount([{ text: 'x'.repeat(25) }], 8)).toBe(3); // a long word breaks across lines
    expect(lineCount([{ text: '131', bold: true }, { text: ', next' }], 8)).toBe(1); // glued, no space counted
  });

  it('text that fits stays one piece, exactly as it was', () => {
    const segs = [{ text: 'Done', bold: true }, { text: '\nthe note, with **stars** kept' }];
    const pieces = splitToFit(segs, 40);
    expect(pieces).toHaveLength(1);
    expect(pieces[0]).toEqual(segs);
  });

  it('cuts long text into pieces of at most MAX_LINES lines, losing no word, preferring paragraph breaks', () => {
    const paragraph = (n: number) => Array.from({ length: 60 }, (_, i) => `w${n}_${i}`).join(' ');
    const text = Array.from({ length: 12 }, (_, n) => paragraph(n)).join('\n');
    const pieces = splitToFit([{ text }], 40);
    expect(pieces.length).toBeGreaterThan(1);
    for (const p of pieces) expect(lineCount(p, 40)).toBeLessThanOrEqual(MAX_LINES);
    expect(words(flat(pieces))).toEqual(words(text));
    // every piece but the last ends at a paragraph end (each paragraph needs ~10 lines of 50 characters)
    for (const p of pieces.slice(0, -1)) expect(p.map((s) => s.text).join('')).toMatch(/_59$/);
  });

  it('cuts a single huge paragraph between words, and keeps styles', () => {
    const text = Array.from({ length: 2000 }, (_, i) => `word${i}`).join(' ');
    const pieces = splitToFit([{ text: 'Head', bold: true }, { text: ` ${text}` }], 30);
    for (const p of pieces) expect(lineCount(p, 30)).toBeLessThanOrEqual(MAX_LINES);
    expect(pieces[0]![0]).toEqual({ text: 'Head ', bold: true });
    expect(words(flat(pieces))).toEqual(['Head', ...words(text)]);
  });
});
