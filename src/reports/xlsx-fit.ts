/**
 * How much text an XLSX cell can show, and how to cut text that would not fit into pieces that do.
 *
 * Excel and LibreOffice never size rows to wrapped text on their own, and cap a row at 409 pt: text
 * beyond what the row height shows is silently clipped. So the renderer estimates, sets the height,
 * and continues a long cell on following rows. The estimate (the read-back test states the same):
 * - a column width w counts characters of Excel's default font (11-pt Calibri "0", 7 px); a line of
 *   the report's 10-pt Times New Roman holds w / 0.8 characters. Measured: LibreOffice prints about
 *   75 characters of Kazakh text on a line of a width-50 column (w / 0.67); the 20 % margin is for
 *   bold text and wide letters (Ж, Ш, Щ, capitals);
 * - text wraps at spaces (greedy, like both programs); a word longer than a line breaks across lines;
 * - each line takes 12 pt (10-pt Times is 11.5 pt from line to line), plus 4 pt of cell padding; a
 *   row holds at most 409 pt, so 33 lines.
 */

import type { Seg } from './inline.js';

export const LINE_HEIGHT_PT = 12;
export const ROW_PADDING_PT = 4;
export const MAX_ROW_HEIGHT_PT = 409;
export const MAX_LINES = Math.floor((MAX_ROW_HEIGHT_PT - ROW_PADDING_PT) / LINE_HEIGHT_PT);
export const CHAR_WIDTH_UNITS = 0.8;

export const charsPerLine = (width: number) => Math.max(1, Math.floor(width / CHAR_WIDTH_UNITS));
export const rowHeightFor = (lineCount: number) => Math.min(MAX_ROW_HEIGHT_PT, Math.max(1, lineCount) * LINE_HEIGHT_PT + ROW_PADDING_PT);


export type { Seg };

/** `glue`: no space between this word and the previous one (a style change inside a word, "**131**,"). */
type Token = { kind: 'word'; text: string; glue: boolean; style: Omit<Seg, 'text'> } | { kind: 'break' };

function tokenize(segs: Seg[], cap: number): Token[] {
  const out: Token[] = [];
  let spaced = true; // whitespace (or the start) precedes the next character
  for (const { text, ...style } of segs) {
    text.split('\n').forEach((para, i) => {
      if (i > 0) {
        out.push({ kind: 'break' });
        spaced = true;
      }
      for (const word of para.split(' ')) {
        if (word === '') {
          spaced = true;
          continue;
        }
        // A word longer than a line is broken across lines: cut it into line-sized pieces.
        for (let at = 0; at < word.length; at += cap) {
          out.push({ kind: 'word', text: word.slice(at, at + cap), glue: at > 0 || !spaced, style });
        }
        spaced = true;
      }
      // The segment's last word touches the next segment unless the text ended with a space.
      spaced = para.endsWith(' ') || para === '';
    });
  }
  return out;
}

/** Greedy word wrap over tokens: the lines used after each token. */
function wrap(tokens: Token[], cap: number): number[] {
  let lines = 1;
  let len = 0;
  return tokens.map((t) => {
    if (t.kind === 'break') {
      lines++;
      len = 0;
      return lines;
    }
    const gap = t.glue ? 0 : 1;
    if (len === 0) len = t.text.length;
    else if (len + gap + t.text.length <= cap) len += gap + t.text.length;
    else {
      lines++;
      len = t.text.length;
    }
    return lines;
  });
}

/** Lines the text needs in a column of `width`. */
export function lineCount(segs: Seg[], width: number): number {
  const cap = charsPerLine(width);
  const tokens = tokenize(segs, cap);
  const used = wrap(tokens, cap);
  return used.length === 0 ? 1 : used[used.length - 1]!;
}

function joinTokens(tokens: Token[]): Seg[] {
  const out: Seg[] = [];
  let pendingBreak = false;
  for (const t of tokens) {
    if (t.kind === 'break') {
      pendingBreak = true;
      continue;
    }
    const last = out[out.length - 1];
    const sep = last ? (pendingBreak ? '\n' : t.glue ? '' : ' ') : '';
    pendingBreak = false;
    if (last && last.bold === t.style.bold && last.italic === t.style.italic) last.text += sep + t.text;
    else {
      if (last) last.text += sep;
      out.push({ ...t.style, text: t.text });
    }
  }
  return out;
}

/**
 * The text cut into pieces of at most `maxLines` lines each, at a paragraph break when one lies in
 * the second half of the piece, else between words. Text that fits is one piece, unchanged in content.
 */
export function splitToFit(segs: Seg[], width: number, maxLines = MAX_LINES): Seg[][] {
  if (lineCount(segs, width) <= maxLines) return [segs];
  const cap = charsPerLine(width);
  const tokens = tokenize(segs, cap);
  const pieces: Seg[][] = [];
  let start = 0;
  while (start < tokens.length) {
    while (start < tokens.length && tokens[start]!.kind === 'break') start++;
    if (start >= tokens.length) break;
    const rest = tokens.slice(start);
    const used = wrap(rest, cap);
    let end = used.findIndex((l) => l > maxLines);
    if (end === -1) end = rest.length;
    else {
      const lastBreak = rest.slice(0, end).map((t) => t.kind).lastIndexOf('break');
      if (lastBreak > 0 && used[lastBreak - 1]! >= maxLines / 2) end = lastBreak;
    }
    pieces.push(joinTokens(rest.slice(0, end)));
    start += end;
  }
  return pieces.length > 0 ? pieces : [[]];
}
