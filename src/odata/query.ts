/**
 * The query options of an OData request, parsed by @balena/odata-parser (a maintained PEG grammar
 * of OData's $filter/$orderby/$select/$top/$skip/$count with v4 operator precedence and `in`;
 * literals come back as binds, never spliced into SQL). What this file adds around it:
 *
 * - the option names are checked first: an unknown option is a 400 naming it (a typo must never
 *   answer unfiltered data), one the feed does not offer ($expand, $search, ...) a 501;
 * - `$orderby` items without a direction get ` asc` before parsing: the grammar defaults to desc,
 *   where OData says asc;
 * - parameter aliases (@p) are refused: nothing here resolves them.
 */
import odataParser from '@balena/odata-parser';
import type { Lang } from '../shared/lang.js';
import { Lang as LangSchema } from '../shared/lang.js';
import { badQuery, notImplemented } from './errors.js';

const SUPPORTED = new Set(['$filter', '$select', '$orderby', '$top', '$skip', '$count', '$format']);
const NOT_OFFERED = new Set([
  '$expand',
  '$search',
  '$apply',
  '$compute',
  '$levels',
  '$skiptoken',
  '$index',
  '$schemaversion',
  '$deltatoken',
  '$id',
]);
/** Custom options the feed reads besides the system ones. */
const CUSTOM = new Set(['lang']);
/** Beyond this a $filter is refused before parsing (a URL this long is a mistake or an attack). */
const MAX_FILTER_LENGTH = 8_000;

export type Bind = [type: string, value: unknown];
/** The parser's filter tree: ['and', a, b], ['eq', l, r], ['call', { method, args }], { name }, { bind }, null. */
export type FilterNode = unknown;

export interface OrderItem {
  name: string;
  desc: boolean;
}

export interface QueryOptions {
  filter?: FilterNode;
  binds: Bind[];
  select?: string[];
  orderby: OrderItem[];
  top?: number;
  skip: number;
  count: boolean;
  lang?: Lang;
}

function decode(text: string, option: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw badQuery(`The ${option} option is not valid percent-encoding.`, option);
  }
}

/**
 * The value as the grammar reads it: decoded, then only `%`, `&` and `+` escaped again (it decodes
 * those inside string literals, but reads an encoded `,` or `(` outside them as a syntax error, and
 * clients differ in what they encode).
 */
function normalized(encoded: string, option: string): string {
  return decode(encoded, option).replace(/%/g, '%25').replace(/&/g, '%26').replace(/\+/g, '%2B');
}

/** ` asc` after each $orderby item that names no direction (the grammar's default is desc). */
function withExplicitDirections(encoded: string): string {
  const items = decode(encoded, '$orderby').split(',');
  return items
    .map((item) => {
      const trimmed = item.trim();
      return /\s(asc|desc)$/i.test(trimmed) ? trimmed : `${trimmed} asc`;
    })
    .join(',')
    .replace(/%/g, '%25')
    .replace(/&/g, '%26');
}

interface ParsedOptions {
  $filter?: FilterNode;
  $select?: '*' | { properties: { name: string; property?: unknown }[] };
  $orderby?: { properties: { name: string; property?: unknown; order: 'asc' | 'desc' }[] };
  $top?: { bind: number };
  $skip?: { bind: number };
  $count?: boolean;
  $format?: string | { type: string; metadata: string };
}

const MAX_INTEGER = 2_147_483_647;

function integerOption(parsed: { bind: number } | undefined, binds: Bind[], option: string): number | undefined {
  if (parsed === undefined) return undefined;
  const value = binds[parsed.bind]?.[1];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value > MAX_INTEGER) {
    throw badQuery(`${option} must be a whole number from 0 to ${MAX_INTEGER}.`, option);
  }
  return value;
}

function checkFormat(format: ParsedOptions['$format']) {
  if (format === undefined) return;
  const type = typeof format === 'string' ? format : format.type;
  const metadata = typeof format === 'string' ? 'minimal' : format.metadata;
  if (!/^(json|application\/json)$/i.test(type) || metadata === 'full') {
    throw badQuery('$format: the feed answers JSON with odata.metadata=minimal or none.', '$format');
  }
}

/** The options of one request's raw query string (the part after `?`). */
export function parseQueryOptions(rawQuery: string): QueryOptions {
  const parts = rawQuery === '' ? [] : rawQuery.split('&').filter((part) => part !== '');
  const seen = new Set<string>();
  const forParser: string[] = [];
  let lang: Lang | undefined;
  for (const part of parts) {
    const eq = part.indexOf('=');
    const name = decode(eq < 0 ? part : part.slice(0, eq), 'name').trim();
    const value = eq < 0 ? '' : part.slice(eq + 1);
    if (seen.has(name)) throw badQuery(`The query option ${name} is given more than once.`, name);
    seen.add(name);
    if (NOT_OFFERED.has(name))
      throw notImplemented(
        `The feed does not offer ${name}; use navigation paths (e.g. Plans('<id>')/Directions) and $filter instead.`,
        name,
      );
    if (name.startsWith('@'))
      throw badQuery(`Parameter aliases (${name}) are not supported; write the value into the expression.`, name);
    if (CUSTOM.has(name)) {
      const parsed = LangSchema.safeParse(decode(value, name));
      if (!parsed.success) throw badQuery('lang must be kk, ru or en.', 'lang');
      lang = parsed.data;
      continue;
    }
    if (!SUPPORTED.has(name))
      throw badQuery(
        `Unknown query option ${JSON.stringify(name)}; the feed takes ${[...SUPPORTED, ...CUSTOM].join(', ')}.`,
        name,
      );
    if (value === '') throw badQuery(`${name} needs a value.`, name);
    if (name === '$filter' && value.length > MAX_FILTER_LENGTH)
      throw badQuery(`$filter is longer than ${MAX_FILTER_LENGTH} characters.`, name);
    forParser.push(`${name}=${name === '$orderby' ? withExplicitDirections(value) : normalized(value, name)}`);
  }

  let tree: ParsedOptions = {};
  let binds: Bind[] = [];
  for (const option of forParser) {
    const name = option.slice(0, option.indexOf('='));
    try {
      // One option at a time, so an error names the option it is in.
      const result = odataParser.parse(option, { startRule: 'ProcessRule', rule: 'QueryOptions' });
      const offset = binds.length;
      // Each parse numbers its binds from 0: shift them past the ones already collected.
      tree = { ...tree, ...(renumber(result.tree, offset) as ParsedOptions) };
      binds = [...binds, ...(result.binds as unknown as Bind[])];
    } catch (error) {
      if (error instanceof odataParser.SyntaxError) {
        const at = (error as { location?: { start?: { offset?: number } } }).location?.start?.offset;
        const position = at === undefined ? '' : ` near character ${Math.max(1, at - name.length)}`;
        throw badQuery(`${name} is not valid OData${position}: ${error.message}`, name);
      }
      throw error;
    }
  }
  checkFormat(tree.$format);
  const flat = (p: { name: string; property?: unknown }, option: string) => {
    if (p.property !== undefined)
      throw notImplemented(`${option}: paths through navigation properties are not supported (${p.name}/...).`, option);
    return p.name;
  };
  return {
    filter: tree.$filter,
    binds,
    select:
      tree.$select === undefined || tree.$select === '*'
        ? undefined
        : tree.$select.properties.map((p) => flat(p, '$select')),
    orderby: (tree.$orderby?.properties ?? []).map((p) => ({ name: flat(p, '$orderby'), desc: p.order === 'desc' })),
    top: integerOption(tree.$top, binds, '$top'),
    skip: integerOption(tree.$skip, binds, '$skip') ?? 0,
    count: tree.$count === true,
    lang,
  };
}

/** The tree with every numeric `{ bind: n }` moved by `offset`. */
function renumber(node: unknown, offset: number): unknown {
  if (offset === 0 || node === null || typeof node !== 'object') return node;
  if (Array.isArray(node)) return node.map((n) => renumber(n, offset));
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node))
    out[key] = key === 'bind' && typeof value === 'number' ? value + offset : renumber(value, offset);
  return out;
}
