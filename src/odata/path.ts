/**
 * The resource path of a feed request (the part after /odata/v1/): the service document,
 * $metadata, an entity set, one entity by key, a navigation property of one entity, and /$count
 * of a collection. Key predicates are `('<id>')`, `(<id>)`, or `(indicatorId='<id>',year=2016)`.
 */
import { badQuery, odataNotFound } from './errors.js';
import type { EntitySet } from './model.js';

export type ResourcePath =
  | { kind: 'service' }
  | { kind: 'metadata' }
  | { kind: 'collection'; set: EntitySet; count: boolean }
  | { kind: 'entity'; set: EntitySet; key: Record<string, string | number> }
  | { kind: 'navigation'; set: EntitySet; key: Record<string, string | number>; navigation: string; count: boolean };

const SEGMENT = /^([A-Za-z][A-Za-z0-9_]*)(?:\((.*)\))?$/s;
const KEY_VALUE = /^\s*(?:'((?:[^']|'')*)'|(-?\d{1,10})|([0-9a-fA-F-]{36}))\s*$/;

function keyValue(text: string, target: string): string | number {
  const match = KEY_VALUE.exec(text);
  if (!match) throw badQuery(`The key of ${target} is not valid: ${text}`);
  if (match[1] !== undefined) return match[1].replace(/''/g, "'");
  if (match[2] !== undefined) return Number(match[2]);
  return match[3]!;
}

function parseKey(set: EntitySet, text: string): Record<string, string | number> {
  const parts = text.split(',');
  if (parts.length === 1 && !/^\s*[A-Za-z]\w*\s*=/.test(parts[0]!)) {
    if (set.keys.length !== 1)
      throw badQuery(
        `${set.name} has a key of ${set.keys.length} parts: name them, e.g. ${set.name}(${set.keys.map((k) => `${k}=...`).join(',')}).`,
      );
    return { [set.keys[0]!]: keyValue(parts[0]!, set.name) };
  }
  const key: Record<string, string | number> = {};
  for (const part of parts) {
    const eq = part.indexOf('=');
    const name = part.slice(0, eq).trim();
    if (eq < 0 || !set.keys.includes(name) || name in key)
      throw badQuery(`The key of ${set.name} is ${set.keys.join(', ')}.`);
    key[name] = keyValue(part.slice(eq + 1), set.name);
  }
  if (Object.keys(key).length !== set.keys.length) throw badQuery(`The key of ${set.name} is ${set.keys.join(', ')}.`);
  return key;
}

export function parsePath(path: string, setOf: (name: string) => EntitySet | undefined): ResourcePath {
  let segments: string[];
  try {
    segments = path
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
  } catch {
    throw badQuery('The URL is not valid (malformed percent-encoding).');
  }
  if (segments.length === 0) return { kind: 'service' };
  if (segments.length === 1 && segments[0] === '$metadata') return { kind: 'metadata' };
  const first = SEGMENT.exec(segments[0]!);
  const set = first ? setOf(first[1]!) : undefined;
  if (!first || !set)
    throw odataNotFound(
      `No entity set ${JSON.stringify(segments[0]!.replace(/\(.*$/s, ''))}; the service document lists them.`,
    );
  const rest = segments.slice(1);
  const count = rest[rest.length - 1] === '$count';
  if (count) rest.pop();
  if (first[2] === undefined) {
    if (rest.length === 0) return { kind: 'collection', set, count };
    throw odataNotFound(`Address one ${set.type} by its key first, e.g. ${set.name}('<id>')/${rest[0]}.`);
  }
  const key = parseKey(set, first[2]);
  if (rest.length === 0) {
    if (count) throw badQuery('$count applies to collections.');
    return { kind: 'entity', set, key };
  }
  const navigation = set.navigation.find((n) => n.name === rest[0]);
  if (rest.length > 1 || !navigation)
    throw odataNotFound(`${set.type} has no navigation property ${JSON.stringify(rest.join('/'))}.`);
  if (count && !navigation.many) throw badQuery('$count applies to collections.');
  return { kind: 'navigation', set, key, navigation: navigation.name, count };
}
