/**
 * The one list pipeline: every GET of a collection answers through answerList(), which picks the
 * delivery mode from the request and leaves the rows to the list (src/lists/keyset.ts):
 *  - incremental sync (?updatedSince=, or a sync cursor) for lists that have it: JSON only;
 *  - an export (?format=csv|xlsx or the Accept header) for lists that have one: every matching
 *    row streamed without ?limit, one page with it (src/exports/tabular.ts);
 *  - otherwise a JSON page `{ items, nextCursor, total? }`.
 * Every page with a next one carries `Link: <...>; rel="next"` (and X-Next-Cursor), JSON and files
 * alike. A total is counted only when asked: ?count=true, or `Prefer: count=exact` as PostgREST
 * takes it (answered with Preference-Applied); in the body for JSON, in X-Total-Count for files.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/client.js';
import type { Column, ExportFormat } from '../exports/tabular.js';
import { decimalFor, exportFormatOf, limitGiven, sendListExport } from '../exports/tabular.js';
import type { Key, KeysetList, ListPage } from '../lists/keyset.js';
import { readPage } from '../lists/keyset.js';
import { isSyncCursor } from '../sync/cursor.js';
import { encodeCursor, nextLinkHeaders, setNextLink } from './pagination.js';
import type { FieldError } from './problem.js';
import { badRequest } from './problem.js';

/** The query fields the pipeline reads; each list's querystring schema declares those it takes. */
interface ListQueryValues {
  limit: number;
  cursor?: string;
  count?: boolean;
  updatedSince?: string;
  format?: 'json' | 'csv' | 'xlsx';
  sep?: ',' | ';';
  delimiter?: ',' | ';';
  decimal?: 'comma' | 'point';
}

interface SyncAnswer<Item> {
  items: Item[];
  nextCursor: string | null;
  syncCursor: string;
}

export interface ListSync<Item> {
  /** Filters the sync cannot honour (a row leaving them would go unnoticed): each answers 400. */
  refused?: (FieldError | undefined)[];
  read: (q: { since?: string; cursor?: string; limit: number }) => Promise<SyncAnswer<Item>>;
}

interface ListExport<Dto> {
  /** The file name, without extension. */
  name: string;
  columns: Column<Dto>[];
  /** The weak ETag's watermark (src/http/export-etag.ts), read from the handle the export reads. */
  watermark?: (db: Db) => Promise<string>;
  /** A whole-list export of its own (the status feed streams from one server-side cursor). */
  stream?: (format: ExportFormat, sep: string | undefined, decimal: '.' | ',') => Promise<FastifyReply>;
}

interface ListRoute<Row, Dto, SyncItem = never> {
  db: Db;
  list: KeysetList<Row, Dto>;
  /** Throws the 404 of an unknown parent; read beside the rows. */
  parent?: () => Promise<void>;
  export?: ListExport<Dto>;
  sync?: ListSync<SyncItem>;
  /**
   * Answers the JSON page through a cache (the status feed, src/status-cache/): `read` computes the
   * page and its headers on a miss. Resolves to the page when the answer is left to the caller.
   */
  cachedPage?: (count: boolean, read: () => Promise<ComputedPage<Dto>>) => Promise<ListPage<Dto> | void>;
}

interface ComputedPage<Dto> {
  value: ListPage<Dto>;
  headers: Record<string, string>;
}

/** ?count=true|false, else `Prefer: count=exact` (RFC 7240: comma-separated preferences, parameters after `;`). */
function countAsked(request: FastifyRequest, count: boolean | undefined): { count: boolean; preferred: boolean } {
  if (count !== undefined) return { count, preferred: false };
  const prefer = request.headers.prefer;
  const values = (Array.isArray(prefer) ? prefer.join(',') : (prefer ?? '')).split(',');
  const preferred = values.some(
    (v) =>
      v
        .split(';')[0]!
        .trim()
        .toLowerCase()
        .replace(/\s*=\s*/, '=') === 'count=exact',
  );
  return { count: preferred, preferred };
}

function inSyncMode(q: ListQueryValues): boolean {
  return q.updatedSince !== undefined || isSyncCursor(q.cursor);
}

export async function answerList<Row, Dto, SyncItem>(
  request: FastifyRequest,
  reply: FastifyReply,
  route: ListRoute<Row, Dto, SyncItem>,
  q: ListQueryValues,
): Promise<FastifyReply> {
  const format = exportFormatOf(request, q.format);
  if (route.sync && inSyncMode(q)) {
    const refused = [
      format ? { path: 'query.format', message: 'incremental sync is JSON only' } : undefined,
      q.count === true ? { path: 'query.count', message: 'incremental sync answers no total' } : undefined,
      ...(route.sync.refused ?? []),
    ].filter((e) => e !== undefined);
    if (refused.length > 0) {
      const onlyFormat = refused.length === 1 && refused[0]!.path === 'query.format';
      throw badRequest(
        onlyFormat ? 'Incremental sync answers JSON only.' : 'Incremental sync does not take these parameters.',
        refused,
      );
    }
    // A count preference is only a preference: a sync page simply answers without a total.
    const [answer] = await Promise.all([
      route.sync.read({ since: q.updatedSince, cursor: q.cursor, limit: q.limit }),
      route.parent?.(),
    ]);
    setNextLink(request, reply, answer.nextCursor);
    return sendJson(reply, { items: answer.items, nextCursor: answer.nextCursor, syncCursor: answer.syncCursor });
  }

  const asked = countAsked(request, q.count);
  // Whether a total comes depends on Prefer: caches must not answer one ask with the other's page.
  const vary = reply.getHeader('vary');
  reply.header('vary', vary ? `${String(vary)}, Prefer` : 'Prefer');
  if (asked.preferred) reply.header('preference-applied', 'count=exact');
  if (format && route.export) return sendExportOf(request, reply, route, route.export, format, q, asked.count);

  const read = async (): Promise<ComputedPage<Dto>> => {
    const value = await readPage(route.db, route.list, {
      limit: q.limit,
      cursor: q.cursor,
      count: asked.count,
      parent: route.parent,
    });
    return { value, headers: nextLinkHeaders(request, value.nextCursor) };
  };
  if (route.cachedPage) {
    const page = await route.cachedPage(asked.count, read);
    return page === undefined ? reply : sendJson(reply, page);
  }
  const { value, headers } = await read();
  return sendJson(reply.headers(headers), value);
}

// Lists whose response schema also declares CSV/XLSX pick the serializer by content type: name JSON.
const sendJson = (reply: FastifyReply, body: object) => reply.type('application/json; charset=utf-8').send(body);

async function sendExportOf<Row, Dto, SyncItem>(
  request: FastifyRequest,
  reply: FastifyReply,
  route: ListRoute<Row, Dto, SyncItem>,
  exp: ListExport<Dto>,
  format: ExportFormat,
  q: ListQueryValues,
  count: boolean,
): Promise<FastifyReply> {
  const { db, list } = route;
  const start: Key | undefined = q.cursor ? list.decodeCursor(q.cursor) : undefined;
  const [total] = await Promise.all([count ? list.count(db) : undefined, route.parent?.()]);
  if (total !== undefined) reply.header('x-total-count', String(total));
  const sep = q.sep ?? q.delimiter;
  const decimal = decimalFor(sep, q.decimal);
  if (exp.stream && !limitGiven(request)) return exp.stream(format, sep, decimal);
  return sendListExport(request, reply, format, {
    name: exp.name,
    columns: exp.columns,
    db,
    limit: q.limit,
    start,
    watermark: exp.watermark,
    fetch: (d, cursor, size) => list.fetch(d, cursor, size),
    keyOf: (row) => list.keyOf(row),
    toDto: (row) => list.toDto(row),
    encode: encodeCursor,
    sep,
    decimal,
  });
}
