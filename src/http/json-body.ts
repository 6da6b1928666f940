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
const NUMBER_START = /[-0-9]/;
const NUMBER_CHAR = /[-+0-9.eE]/;

/** Whether `token` (a JSON number) survives JSON.parse with its exact decimal value. */
export function isExactJsonNumber(token: string): boolean {
  // Up to 15 characters without an exponent: at most 15 significant digits, well inside the range.
  if (token.length <= 15 && !token.includes('e') && !token.includes('E')) return true;
  const parsed = Number(token);
  if (!Number.isFinite(parsed)) return false;
  try {
    return new Decimal(token).equals(new Decimal(String(parsed)));
  } catch {
    return true; // not a number token at all: JSON.parse reports the syntax error
  }
}

/** Start and end offsets of every inexact number token outside strings. */
function inexactNumbers(text: string): [number, number][] {
  const found: [number, number][] = [];
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      continue;
    }
    if (!NUMBER_START.test(c)) continue;
    let end = i + 1;
    while (end < text.length && NUMBER_CHAR.test(text[end]!)) end++;
    if (!isExactJsonNumber(text.slice(i, end))) found.push([i, end]);
    i = end - 1;
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
      message: 'this number cannot be stored exactly (too many significant digits, or beyond the range of a JSON double); send at most 15 significant digits',
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
