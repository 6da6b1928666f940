/**
 * "The limit": what the status reads cost without the framework. A bare node:http + pg server
 * answering the same URLs with the service's own read model (src/status/queries.ts: the same
 * named statements), status rules and tree assembly (src/status/assemble.ts, so the JSON is the
 * same shape and the same numbers), CSV encoder and JSON.stringify. No auth, no validation, no
 * ORM at request time, no logging.
 *
 *   DATABASE_URL=... PORT=3101 POOL_MAX=10 tsx bench/limit-server.ts
 */
import http from 'node:http';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { STATUS_EXPORT_HEADERS, statusColumns } from '../src/exports/status.js';
import { statusCsvSource, statusCsvStream } from '../src/exports/status-csv.js';
import { csvHeader, csvLineEncoder } from '../src/exports/tabular.js';
import { encodeCursor } from '../src/http/pagination.js';
import { buildPlanStatus, toFlatIndicatorStatus } from '../src/status/assemble.js';
import type { FeedRow } from '../src/status/queries.js';
import { decodePlanStatus, planStatusQuery, statusFeedQuery } from '../src/status/queries.js';
import type { StatusQuery } from '../src/status/read-model.js';
import { decodeRows, isNaturalPosition } from '../src/status/read-model.js';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_MAX ?? 10) });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function send(
  res: http.ServerResponse,
  status: number,
  body: string,
  type = 'application/json; charset=utf-8',
  extra: Record<string, string> = {},
) {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

async function rowsOf(q: StatusQuery): Promise<unknown[][]> {
  return (await pool.query<unknown[]>({ name: q.name, text: q.text, values: q.values, rowMode: 'array' })).rows;
}

/** The service's own one-statement plan status read, straight on pg. */
async function planStatus(res: http.ServerResponse, id: string, year: number) {
  const q = planStatusQuery(id, year);
  const data = decodePlanStatus(id, year, q.keys, await rowsOf(q));
  if (!data) return send(res, 404, JSON.stringify({ status: 404, title: 'Not Found' }));
  send(res, 200, JSON.stringify(buildPlanStatus(data.rows, data.plan, year, undefined, data.approval)));
}

/** A page of the year's feed from the start or after a cursor: the service's statement for it. */
async function feed(res: http.ServerResponse, url: URL) {
  const year = Number(url.searchParams.get('year'));
  const limit = Math.min(500, Number(url.searchParams.get('limit') ?? 50));
  const cursor = url.searchParams.get('cursor');
  const after: unknown = cursor ? JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) : undefined; // the service's natural position
  const q = statusFeedQuery({
    filter: { year },
    limit,
    cursor: Array.isArray(after) && isNaturalPosition(after) ? after : undefined,
  });
  const rows = decodeRows<FeedRow>(q.keys, await rowsOf(q));
  const hasMore = rows.length > limit;
  const page = hasMore ? rows.slice(0, limit) : rows;
  const items = page.map((row) => toFlatIndicatorStatus(row));
  const nextCursor = hasMore ? encodeCursor(page[page.length - 1]!.naturalPosition) : null;
  if (url.searchParams.get('format') === 'csv') {
    const extra: Record<string, string> = nextCursor ? { 'x-next-cursor': nextCursor } : {};
    const line = csvLineEncoder(statusColumns('kk'));
    return send(
      res,
      200,
      `${csvHeader(STATUS_EXPORT_HEADERS)}${items.map((i) => `${line(i)}\r\n`).join('')}`,
      'text/csv; charset=utf-8',
      extra,
    );
  }
  send(res, 200, JSON.stringify({ items, nextCursor }));
}

/**
 * The whole feed as one streamed CSV answer (no ?limit), as a BI tool reads it: the service's
 * export statement through one server-side cursor (src/db/cursor.ts) and its CSV lines, piped to
 * the socket (backpressure included).
 */
async function exportCsv(res: http.ServerResponse, url: URL) {
  const yearParam = url.searchParams.get('year');
  const format = { sep: ',', decimal: '.', lang: 'kk' } as const;
  const source = statusCsvSource(pool, yearParam === null ? {} : { year: Number(yearParam) }, format, 1000);
  res.writeHead(200, {
    'content-type': 'text/csv; charset=utf-8',
    'content-disposition': 'attachment; filename="status.csv"',
  });
  // A failure after the head is sent can only cut the answer short (pipeline destroys the socket).
  await pipeline(statusCsvStream(source, format, STATUS_EXPORT_HEADERS), res).catch(() => {});
}

/** The bulk write at its bare minimum: one upsert of unnest()ed arrays (no validation, no audit). */
const UPSERT = {
  name: 'limit_upsert',
  text: `insert into measurements (indicator_id, year, plan, fact)
    select * from unnest($1::uuid[], $2::int[], $3::numeric[], $4::numeric[])
    on conflict (indicator_id, year) do update
      set plan = excluded.plan, fact = excluded.fact, version = measurements.version + 1, updated_at = now()`,
};

async function bulk(req: http.IncomingMessage, res: http.ServerResponse) {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const { rows } = JSON.parse(Buffer.concat(chunks).toString()) as {
    rows: { indicatorId: string; year: number; plan: number | null; fact: number | null }[];
  };
  await pool.query({
    ...UPSERT,
    values: [rows.map((r) => r.indicatorId), rows.map((r) => r.year), rows.map((r) => r.plan), rows.map((r) => r.fact)],
  });
  send(res, 200, JSON.stringify({ written: rows.length }));
}

const PLAN_STATUS = /^\/api\/v1\/plans\/([^/]+)\/status$/;

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://limit');
  const match = PLAN_STATUS.exec(url.pathname);
  let work: Promise<void> | undefined;
  if (req.method === 'GET' && match && UUID.test(match[1]!))
    work = planStatus(res, match[1]!, Number(url.searchParams.get('year')));
  else if (
    req.method === 'GET' &&
    url.pathname === '/api/v1/status' &&
    url.searchParams.get('format') === 'csv' &&
    !url.searchParams.has('limit')
  ) {
    work = exportCsv(res, url);
  } else if (req.method === 'GET' && url.pathname === '/api/v1/status') work = feed(res, url);
  else if (req.method === 'POST' && url.pathname === '/api/v1/measurements/bulk') work = bulk(req, res);
  else if (url.pathname === '/health/ready') return send(res, 200, '{"status":"ok"}');
  else return send(res, 404, '{"status":404}');
  work.catch((error: unknown) => send(res, 500, JSON.stringify({ status: 500, detail: String(error) })));
});

server.keepAliveTimeout = 72_000;
server.listen(Number(process.env.PORT ?? 3101), '127.0.0.1', () => console.log('limit server ready'));
process.on('SIGTERM', () => {
  server.close();
  void pool.end();
});
