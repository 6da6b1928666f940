/**
 * Emphasis inside the analytical note's text: a small, safe Markdown subset, parsed by markdown-it
 * (maintained, CommonMark-conformant) with every rule off but emphasis and backslash escapes:
 * `**bold**`, `*italic*` (or `__bold__`, `_italic_`), `\*` for a literal star. Nothing else is
 * markup: HTML, links, images and code stay literal text, and every renderer escapes its output
 * (HTML entities, XML in DOCX/XLSX), so a note can never inject markup. Structure above the line
 * (paragraphs, sub-headings, lists) is the note's blocks. Text without `*`, `_` or `\` renders
 * exactly as plain text.
 */
import MarkdownIt from 'markdown-it';

/** A run of text with one style. */
export interface Seg {
  text: string;
  bold?: boolean;
  italic?: boolean;
}

const md = new MarkdownIt('zero', { html: false, linkify: false, typographer: false }).enable(['emphasis', 'escape']);

const MARKUP = /[*_\\]/;

/** One line of note text as styled runs; `base` styles every run (e.g. a heading's bold). */
export function inlineSegs(line: string, base: Omit<Seg, 'text'> = {}): Seg[] {
  if (!MARKUP.test(line)) return [{ text: line, ...base }];
  const out: Seg[] = [];
  let bold = 0;
  let italic = 0;
  for (const token of md.parseInline(line, {})[0]?.children ?? []) {
    if (token.type === 'strong_open') bold++;
    else if (token.type === 'strong_close') bold--;
    else if (token.type === 'em_open') italic++;
    else if (token.type === 'em_close') italic--;
    else if (token.content !== '' || token.type === 'softbreak') {
      const text = token.type === 'softbreak' || token.type === 'hardbreak' ? ' ' : token.content;
      const style = { bold: base.bold || bold > 0 || undefined, italic: base.italic || italic > 0 || undefined };
      const last = out[out.length - 1];
      if (last && last.bold === style.bold && last.italic === style.italic) last.text += text;
      else out.push({ text, ...(style.bold ? { bold: true } : {}), ...(style.italic ? { italic: true } : {}) });
    }
  }
  return out;
}

