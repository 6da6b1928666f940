/**
 * "The limit": what the status reads cost without the framework. A bare node:http + pg server
 * answering the same URLs with hand-written named (prepared) statements, the project's own
 * status rules and tree assembly (src/status/assemble.ts, so the JSON is the same shape and
 * the same numbers) and JSON.stringify. No auth, no validation, no ORM, no logging.
 *
 *   DATABASE_URL=... PORT=3101 POOL_MAX=10 tsx bench/limit-server.ts
 */
import http from 'node:http';
import pg from 'pg';
import { decodeCursor, encodeCursor } from '../src/http/pagination.js';
import { buildPlanStatus, toIndicatorStatus } from '../src/status/assemble.js';
import type { StatusRow } from '../src/status/assemble.js';
import { statusCsv } from '../src/status/csv.js';
import { PLAN_STATUS_SQL, decodePlanStatus } from '../src/status/plan-read.js';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_MAX ?? 10) });

const statusColumns = `i.id as "indicatorId", i.goal_id as "goalId", i.code, i.name, i.unit, i."group",
  i.value_type as "valueType", i.better_when as "betterWhen", m.plan, m.fact, m.rating_size as "ratingSize",
  m.score, m.note, pm.fact as "previousFact", pm.rating_size as "previousRatingSize"`;

/**
 * The year's feed from the start or after a cursor (repeated on the measurement joins: see
 * statusFeed), `rows` at most. The row count is written into
 * the text (one named statement per page size), as the service does: with a `limit $n` parameter
 * PostgreSQL re-plans every call (5 ms) instead of caching a generic plan (0.7 ms to run).
 */
const feedSql = (after: boolean, rows: number) => `select ${statusColumns}, g.direction_id as "directionId", d.plan_id as "planId",
      p.organization_id as "organizationId", (ya.id is not null) as approved
    from indicators i
    join goals g on g.id = i.goal_id
    join directions d on d.id = g.direction_id
    join plans p on p.id = d.plan_id
    left join measurements m on m.indicator_id = i.id and m.year = $1${after ? ' and m.indicator_id > $2' : ''}
    left join measurements pm on pm.indicator_id = i.id and pm.year = $1 - 1${after ? ' and pm.indicator_id > $2' : ''}
    left join year_approvals ya on ya.plan_id = p.id and ya.year = $1
    where ((p.start_year <= $1 and p.end_year >= $1) or m.id is not null)${after ? ' and i.id > $2' : ''}
    order by i.id
    limit ${rows}`;
const feedStatement = (after: boolean, rows: number) => ({ name: `limit_feed_${after ? 'after' : 'first'}_${rows}`, text: feedSql(after, rows) });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function send(res: http.ServerResponse, status: number, body: string, type = 'application/json; charset=utf-8', extra: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

/** The service's own one-statement read (src/status/plan-read.ts), straight on pg. */
async function planStatus(res: http.ServerResponse, id: string, year: number) {
  const { rows } = await pool.query<unknown[]>({ ...PLAN_STATUS_SQL, values: [id, year], rowMode: 'array' });
  const data = decodePlanStatus(id, year, rows);
  if (!data) return send(res, 404, JSON.stringify({ status: 404, title: 'Not Found' }));
  send(res, 200, JSON.stringify(buildPlanStatus(data.rows, data.plan, year, undefined, data.approval)));
}

type FeedRow = StatusRow & { directionId: string; planId: string; organizationId: string; approved: boolean };

async function feed(res: http.ServerResponse, url: URL) {
  const year = Number(url.searchParams.get('year'));
  const limit = Math.min(500, Number(url.searchParams.get('limit') ?? 50));
  const cursor = url.searchParams.get('cursor');
  const afterId = cursor ? decodeCursor(cursor, 2)[1] : undefined; // the service's [year, indicatorId] cursor
  const after = typeof afterId === 'string' && UUID.test(afterId) ? afterId : null;
  const { rows } = await pool.query<FeedRow>(after ? { ...feedStatement(true, limit + 1), values: [year, after] } : { ...feedStatement(false, limit + 1), values: [year] });
  const hasMore = rows.length > limit;
  const items = (hasMore ? rows.slice(0, limit) : rows).map((row) =>
    toIndicatorStatus(row, { planId: row.planId, directionId: row.directionId, organizationId: row.organizationId, year, approved: row.approved }),
  );
  const nextCursor = hasMore ? encodeCursor([year, items[items.length - 1]!.indicatorId]) : null;
  if (url.searchParams.get('format') === 'csv') {
    const extra: Record<string, string> = nextCursor ? { 'x-next-cursor': nextCursor } : {};
    return send(res, 200, statusCsv(items, 'kk'), 'text/csv; charset=utf-8', extra);
  }
  send(res, 200, JSON.stringify({ items, nextCursor }));
}

/**
 * The whole feed as one streamed CSV answer (no ?limit), as a BI tool reads it: one server-side
 * cursor (DECLARE / FETCH in a read-only transaction on one pooled client), the project's status
 * rules, the service's CSV columns and cell rules, res.write() honouring backpressure.
 */
const exportSql = (byYear: boolean) =>
  byYear
    ? `select ${statusColumns}, g.direction_id as "directionId", d.plan_id as "planId",
      p.organization_id as "organizationId", $1::int as year, (ya.id is not null) as approved
    from indicators i
    join goals g on g.id = i.goal_id
    join directions d on d.id = g.direction_id
    join plans p on p.id = d.plan_id
    left join measurements m on m.indicator_id = i.id and m.year = $1
    left join measurements pm on pm.indicator_id = i.id and pm.year = $1 - 1
    left join year_approvals ya on ya.plan_id = p.id and ya.year = $1
    where (p.start_year <= $1 and p.end_year >= $1) or m.id is not null
    order by i.id`
    : `select ${statusColumns}, g.direction_id as "directionId", d.plan_id as "planId",
      p.organization_id as "organizationId", m.year, (ya.id is not null) as approved
    from indicators i
    join goals g on g.id = i.goal_id
    join directions d on d.id = g.direction_id
    join plans p on p.id = d.plan_id
    join measurements m on m.indicator_id = i.id
    left join measurements pm on pm.indicator_id = i.id and pm.year = m.year - 1
    left join year_approvals ya on ya.plan_id = p.id and ya.year = m.year
    order by m.year, m.indicator_id`;

const CSV_HEADER = `\uFEFF${[
  'organizationId', 'planId', 'directionId', 'goalId', 'indicatorId', 'code', 'name', 'unit', 'valueType', 'betterWhen',
  'year', 'plan', 'fact', 'ratingSize', 'score', 'status', 'achievementPercent', 'deviation', 'previousFact', 'trend',
  'percentile', 'previousPercentile',
].join(',')}\r\n`;

/** A free-text cell: formulas neutralized, quoted when it holds a separator, quote or line break. */
function text(s: string | null): string {
  if (s === null) return '';
  let out = s;
  const c = out.charCodeAt(0);
  if (c === 61 || c === 43 || c === 45 || c === 64 || c === 9 || c === 13) out = `'${out}`;
  for (let i = 0; i < out.length; i++) {
    const k = out.charCodeAt(i);
    if (k === 44 || k === 59 || k === 34 || k === 10 || k === 13) return `"${out.replaceAll('"', '""')}"`;
  }
  return out;
}
const num = (n: number | null) => (n === null ? '' : String(n));
const kk = (t: { kk?: string; ru?: string; en?: string } | null) => (t ? (t.kk || t.ru || t.en || null) : null);

async function exportCsv(res: http.ServerResponse, url: URL) {
  const yearParam = url.searchParams.get('year');
  const year = yearParam === null ? undefined : Number(yearParam);
  const client = await pool.connect();
  let open = true;
  res.on('close', () => (open = false));
  try {
    await client.query('begin read only');
    await client.query(`declare feed no scroll cursor for ${exportSql(year !== undefined)}`, year !== undefined ? [year] : []);
    res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="status.csv"' });
    res.write(CSV_HEADER);
    while (open) {
      const { rows } = await client.query<FeedRow & { year: number }>('fetch 5000 from feed');
      if (rows.length === 0) break;
      let chunk = '';
      for (const row of rows) {
        const s = toIndicatorStatus(row, { planId: row.planId, directionId: row.directionId, organizationId: row.organizationId, year: row.year, approved: row.approved });
        chunk += `${s.organizationId},${s.planId},${s.directionId},${s.goalId},${s.indicatorId},${text(s.code)},${text(kk(s.name))},${text(kk(s.unit))},${s.valueType},${s.betterWhen},${s.year},${num(s.plan)},${num(s.fact)},${num(s.ratingSize)},${num(s.score)},${s.status},${num(s.achievementPercent)},${num(s.deviation)},${num(s.previousFact)},${s.trend ?? ''},${num(s.percentile)},${num(s.previousPercentile)}\r\n`;
      }
      if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve).once('close', resolve));
    }
    await client.query('commit');
    res.end();
  } catch (error) {
    await client.query('rollback').catch(() => {});
    if (!res.headersSent) throw error;
    res.destroy(error as Error);
  } finally {
    client.release();
  }
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
  const { rows } = JSON.parse(Buffer.concat(chunks).toString()) as { rows: { indicatorId: string; year: number; plan: number | null; fact: number | null }[] };
  await pool.query({ ...UPSERT, values: [rows.map((r) => r.indicatorId), rows.map((r) => r.year), rows.map((r) => r.plan), rows.map((r) => r.fact)] });
  send(res, 200, JSON.stringify({ written: rows.length }));
}

const PLAN_STATUS = /^\/api\/v1\/plans\/([^/]+)\/status$/;

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://limit');
  const match = PLAN_STATUS.exec(url.pathname);
  let work: Promise<void> | undefined;
  if (req.method === 'GET' && match && UUID.test(match[1]!)) work = planStatus(res, match[1]!, Number(url.searchParams.get('year')));
  else if (req.method === 'GET' && url.pathname === '/api/v1/status' && url.searchParams.get('format') === 'csv' && !url.searchParams.has('limit')) {
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
