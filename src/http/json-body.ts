/**
 * The JSON body parser: Fastify's own (with its prototype-poisoning checks), preceded by a check
 * that every number in the body is one the API can store exactly.
 *
 * JSON.parse turns 0.1000000000000000000001 into 0.1 and 1e-400 into 0 before any schema sees
 * the value, so a measurement would be stored other than it was sent, silently. The contract
 * promises exact values, so such a body is refused with 400 naming the field. "Exact" means: the
 * number the API stores and answers (the shortest text of the parsed double) equals, as a decimal,
 * the number written in the body. 1.30 and 1.3e1 pass; 17 significant digits usually do not.
 */
import { Decimal } from 'decimal.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest } from './problem.js';

type Parser = (request: FastifyRequest, body: string, done: (error: Error | null, value?: unknown) => void) => void;

const SENTINEL = '\u0000inexact-number:';
/** Whether `token` (a JSON number) survives JSON.parse with its exact decimal value. */
export function isExactJsonNumber(token: string): boolean {
  // Up to 15 characters without an exponent: at most 15 significant digits, well inside the range.
  if (token.length <= 15 && !token.includes('e') && !token.includes('E')) return true;
  const parsed = Number(token);
  if (!Number.isFinite(parsed)) return false;
  // What JSON.stringify writes (and most clients send) is already the double's shortest text.
  if (String(parsed) === token) return true;
  try {
    return new Decimal(token).equals(new Decimal(String(parsed)));
  } catch {
    return true; // not a number token at all: JSON.parse reports the syntax error
  }
}

const QUOTE = 34; // "
const BACKSLASH = 92;
const MINUS = 45;
const ZERO = 48;
const NINE = 57;

/** Whether the character code can continue a JSON number token: digits, "+", "-", ".", "e", "E". */
const numberChar = (c: number) =>
  (c >= ZERO && c <= NINE) || c === 43 || c === MINUS || c === 46 || c === 101 || c === 69;

/** Start and end offsets of every inexact number token outside strings (one pass, no allocation per character). */
function inexactNumbers(text: string): [number, number][] {
  const found: [number, number][] = [];
  const length = text.length;
  let i = 0;
  while (i < length) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // Skip the string: to the next quote not escaped by an odd run of backslashes.
      let end = text.indexOf('"', i + 1);
      while (end !== -1) {
        let slashes = 0;
        while (text.charCodeAt(end - 1 - slashes) === BACKSLASH) slashes++;
        if (slashes % 2 === 0) break;
        end = text.indexOf('"', end + 1);
      }
      if (end === -1) return found; // unterminated: JSON.parse reports it
      i = end + 1;
    } else if (c === MINUS || (c >= ZERO && c <= NINE)) {
      let end = i + 1;
      while (end < length && numberChar(text.charCodeAt(end))) end++;
      const token = text.slice(i, end);
      if (!isExactJsonNumber(token)) found.push([i, end]);
      i = end;
    } else i++;
  }
  return found;
}

/** Paths ("body.items.3.plan") of the values the sentinel replaced. */
function sentinelPaths(value: unknown, path: string[], out: string[]) {
  if (typeof value === 'string' && value.startsWith(SENTINEL)) out.push(path.join('.'));
  else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) sentinelPaths(child, [...path, key], out);
  }
}

function inexactProblem(text: string, spans: [number, number][]) {
  let marked = '';
  let from = 0;
  for (const [start, end] of spans) {
    marked += `${text.slice(from, start)}${JSON.stringify(SENTINEL + text.slice(start, end))}`;
    from = end;
  }
  marked += text.slice(from);
  const paths: string[] = [];
  try {
    sentinelPaths(JSON.parse(marked), ['body'], paths);
  } catch {
    return undefined; // not valid JSON anyway: the real parser answers that
  }
  return badRequest(
    'A number in the body cannot be stored exactly; see errors.',
    paths.map((path) => ({
      path,
      message:
        'this number cannot be stored exactly (too many significant digits, or beyond the range of a JSON double); send at most 15 significant digits',
    })),
  );
}

/** Fastify's JSON parser, refusing numbers that would not be stored as sent. */
export function exactJsonParser(app: FastifyInstance): Parser {
  const parseJson = app.getDefaultJsonParser('error', 'error') as unknown as Parser;
  return (request, body, done) => {
    const spans = inexactNumbers(body);
    const problem = spans.length > 0 ? inexactProblem(body, spans) : undefined;
    if (problem) return done(problem);
    parseJson(request, body, done);
  };
}

/** Replaces the application/json parser of `app` (call on the root instance). */
export function registerExactJson(app: FastifyInstance) {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, exactJsonParser(app));
}
