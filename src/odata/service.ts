/**
 * The OData feed's rules: which resource a path names, which rows and columns a request's options
 * select, server-driven paging, and the JSON (odata.metadata=minimal) each answer carries. Read
 * only; every authenticated caller reads every organization's data, as on the REST API (viewer
 * access: editors are scoped on writes only), so no principal is needed here.
 *
 * Paging: at most MAX_PAGE_SIZE rows (or fewer when the client prefers odata.maxpagesize) per
 * answer; more come behind @odata.nextLink, the same request with $skip moved on and $top reduced.
 * Every order ends with a unique key (the set's key, the status rows' natural order), so pages neither
 * repeat nor skip rows between requests.
 */
import type { SQL } from 'drizzle-orm';
import { and, asc, desc, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import type { Lang } from '../shared/lang.js';
import { requestedLang } from '../shared/lang.js';
import { csdlDocument } from './csdl.js';
import { badQuery, odataNotFound } from './errors.js';
import { filterSql } from './filter-sql.js';
import type { EntitySet, EntitySetName, Scope } from './model.js';
import { propertyOf } from './model.js';
import type { ResourcePath } from './path.js';
import { parsePath } from './path.js';
import type { QueryOptions } from './query.js';
import { parseQueryOptions } from './query.js';
import type { EntityRow, PageRequest } from './repository.js';

export const MAX_PAGE_SIZE = 1000;

/** How one entity set's rows are read: the planning tables directly, the status rows through the read model. */
export interface SetReader {
  page(db: Db, set: EntitySet, scope: Scope, page: PageRequest): Promise<EntityRow[]>;
  count(db: Db, set: EntitySet, scope: Scope, where: SQL | undefined): Promise<number>;
}

export interface FeedSet {
  set: EntitySet;
  reader: SetReader;
}

export interface FeedRequest {
  /** The path after /odata/v1, still percent-encoded. */
  path: string;
  /** The raw query string (after `?`). */
  query: string;
  /** The absolute URL of the service root (…/odata/v1), for @odata.context and @odata.nextLink. */
  base: string;
  acceptLanguage?: string;
  /** odata.maxpagesize from a Prefer header. */
  maxPageSize?: number;
}

export type FeedAnswer =
  | { type: 'json'; body: Record<string, unknown>; pageSize?: number }
  | { type: 'xml'; body: string }
  | { type: 'text'; body: string };

export class ODataService {
  private readonly byName: Map<string, FeedSet>;
  private readonly metadata: string;

  constructor(
    private readonly db: Db,
    private readonly sets: readonly FeedSet[],
  ) {
    this.byName = new Map(sets.map((s) => [s.set.name, s]));
    this.metadata = csdlDocument(sets.map((s) => s.set));
  }

  async answer(request: FeedRequest): Promise<FeedAnswer> {
    const path = parsePath(request.path, (name) => this.byName.get(name)?.set);
    const options = parseQueryOptions(request.query);
    if (path.kind === 'service' || path.kind === 'metadata') {
      // $format and lang are harmless there (a tool may keep ?lang= on the service root); anything else is refused.
      if (
        options.filter !== undefined ||
        options.select ||
        options.orderby.length > 0 ||
        options.top !== undefined ||
        options.skip > 0 ||
        options.count
      ) {
        throw badQuery(
          path.kind === 'service'
            ? 'The service document takes no query options.'
            : '$metadata takes no query options.',
        );
      }
      if (path.kind === 'metadata') return { type: 'xml', body: this.metadata };
      return {
        type: 'json',
        body: {
          '@odata.context': `${request.base}/$metadata`,
          value: this.sets.map(({ set }) => ({ name: set.name, kind: 'EntitySet', url: set.name })),
        },
      };
    }
    const lang: Lang = options.lang ?? requestedLang(undefined, request.acceptLanguage) ?? 'kk';
    return this.resource(path, options, { lang }, request);
  }

  private feedSet(name: EntitySetName): FeedSet {
    return this.byName.get(name)!;
  }

  private async resource(
    path: Exclude<ResourcePath, { kind: 'service' | 'metadata' }>,
    options: QueryOptions,
    scope: Scope,
    request: FeedRequest,
  ): Promise<FeedAnswer> {
    if (path.kind === 'collection')
      return this.collection(this.feedSet(path.set.name), undefined, path.count, options, scope, request);
    const source = this.feedSet(path.set.name);
    if (path.kind === 'entity')
      return this.single(source, keyCondition(source.set, path.key, scope), options, scope, request);
    const navigation = path.set.navigation.find((n) => n.name === path.navigation)!;
    const target = this.feedSet(navigation.target);
    const [parent] = await source.reader.page(this.db, source.set, scope, {
      where: keyCondition(source.set, path.key, scope),
      orderBy: [],
      limit: 1,
      offset: 0,
    });
    if (!parent) throw odataNotFound(`${source.set.type} ${describeKey(path.key)} does not exist.`);
    if (navigation.many) {
      const [key] = source.set.keys;
      const condition = keyCondition(target.set, { [navigation.foreignKey]: parent[key!] as string }, scope);
      return this.collection(target, condition, path.count, options, scope, request);
    }
    const [targetKey] = target.set.keys;
    return this.single(
      target,
      keyCondition(target.set, { [targetKey!]: parent[navigation.foreignKey] as string }, scope),
      options,
      scope,
      request,
    );
  }

  private async single(
    source: FeedSet,
    where: SQL,
    options: QueryOptions,
    scope: Scope,
    request: FeedRequest,
  ): Promise<FeedAnswer> {
    if (
      options.filter !== undefined ||
      options.orderby.length > 0 ||
      options.top !== undefined ||
      options.skip > 0 ||
      options.count
    ) {
      throw badQuery('One entity takes $select only ($filter, $orderby, $top, $skip and $count apply to collections).');
    }
    const select = selectedNames(source.set, options);
    const [row] = await source.reader.page(this.db, source.set, scope, { where, orderBy: [], limit: 1, offset: 0 });
    if (!row) throw odataNotFound(`No such ${source.set.type}.`);
    return {
      type: 'json',
      body: { '@odata.context': contextUrl(request.base, source.set, options, true), ...pick(row, select) },
    };
  }

  private async collection(
    source: FeedSet,
    condition: SQL | undefined,
    countOnly: boolean,
    options: QueryOptions,
    scope: Scope,
    request: FeedRequest,
  ): Promise<FeedAnswer> {
    const { set, reader } = source;
    const resolve = (name: string) => {
      const property = propertyOf(set, name);
      return property ? { property, sql: sql`${property.sql(scope)}` } : undefined;
    };
    const where = and(
      condition,
      options.filter === undefined ? undefined : filterSql(options.filter, options.binds, resolve),
    );
    if (countOnly) {
      if (options.select || options.orderby.length > 0 || options.top !== undefined || options.skip > 0)
        throw badQuery('/$count takes $filter only.');
      return { type: 'text', body: String(await reader.count(this.db, set, scope, where)) };
    }
    const select = selectedNames(set, options);
    const orderBy = orderTerms(set, options, scope);
    const pageSize = Math.min(request.maxPageSize ?? MAX_PAGE_SIZE, MAX_PAGE_SIZE);
    const wanted = options.top;
    const limit = wanted !== undefined && wanted <= pageSize ? wanted : pageSize + 1;
    const [rows, total] = await Promise.all([
      limit === 0
        ? Promise.resolve([])
        : reader.page(this.db, set, scope, { where, orderBy, limit, offset: options.skip }),
      options.count ? reader.count(this.db, set, scope, where) : Promise.resolve(undefined),
    ]);
    const more = rows.length > pageSize;
    const value = (more ? rows.slice(0, pageSize) : rows).map((row) => pick(row, select));
    const body: Record<string, unknown> = { '@odata.context': contextUrl(request.base, set, options, false) };
    if (total !== undefined) body['@odata.count'] = total;
    body.value = value;
    if (more) body['@odata.nextLink'] = nextLink(request, options, pageSize);
    return { type: 'json', body, ...(request.maxPageSize !== undefined ? { pageSize } : {}) };
  }
}

function describeKey(key: Record<string, string | number>): string {
  return Object.entries(key)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The rows a key names; a key that cannot name a row (an id that is no UUID) names none. */
function keyCondition(set: EntitySet, key: Record<string, string | number>, scope: Scope): SQL {
  const parts = Object.entries(key).map(([name, value]) => {
    const property = propertyOf(set, name)!;
    const column = property.sql(scope);
    if (property.kind === 'id')
      return typeof value === 'string' && UUID.test(value) ? sql`${column} = ${value}::uuid` : sql`false`;
    if (property.kind === 'int') return typeof value === 'number' ? sql`${column} = ${value}::int` : sql`false`;
    return sql`${column} = ${String(value)}`;
  });
  return and(...parts)!;
}

function selectedNames(set: EntitySet, options: QueryOptions): string[] {
  if (!options.select) return set.properties.map((p) => p.name);
  for (const name of options.select) {
    if (!propertyOf(set, name)) {
      const isNavigation = set.navigation.some((n) => n.name === name);
      const hint = isNavigation ? ' (navigation properties are not selectable; follow them in the path)' : '';
      throw badQuery(`$select: ${set.type} has no property ${JSON.stringify(name)}${hint}.`, '$select');
    }
  }
  return [...new Set(options.select)];
}

function orderTerms(set: EntitySet, options: QueryOptions, scope: Scope): SQL[] {
  const terms = options.orderby.map((item) => {
    const property = propertyOf(set, item.name);
    if (!property) throw badQuery(`$orderby: ${set.type} has no property ${JSON.stringify(item.name)}.`, '$orderby');
    if (property.notQueryable)
      throw badQuery(`$orderby: ${item.name} cannot be ordered by (${property.notQueryable}).`, '$orderby');
    const expression = sql`${property.sql(scope)}`;
    return item.desc ? desc(expression) : asc(expression);
  });
  // Each reader ends the order with a unique key of its own (repository.ts, status-set.ts): stable offset pages.
  return terms;
}

function pick(row: EntityRow, names: string[]): EntityRow {
  const out: EntityRow = {};
  for (const name of names) out[name] = row[name] ?? null;
  return out;
}

function contextUrl(base: string, set: EntitySet, options: QueryOptions, entity: boolean): string {
  const selected = options.select ? `(${[...new Set(options.select)].join(',')})` : '';
  return `${base}/$metadata#${set.name}${selected}${entity ? '/$entity' : ''}`;
}

/** The same request one page on: $skip past this page, $top reduced by it; every other option as sent. */
function nextLink(request: FeedRequest, options: QueryOptions, pageSize: number): string {
  const kept = request.query.split('&').filter((part) => part !== '' && !/^(\$|%24)(skip|top)=/i.test(part));
  kept.push(`$skip=${options.skip + pageSize}`);
  if (options.top !== undefined) kept.push(`$top=${options.top - pageSize}`);
  const path = request.path.replace(/^\/+/, '');
  return `${request.base}/${path}?${kept.join('&')}`;
}
