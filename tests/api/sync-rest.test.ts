/**
 * Incremental sync of the plan-wide risk register, the year approvals and the audit trail;
 * tombstone retention (prune, 410 beyond the horizon); ETag/304 on streamed exports.
 */
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { pruneTombstones } from '../../src/sync/retention.js';
import { statusExportWatermark } from '../../src/status/watermark.js';
import type { Json } from '../helpers/app.js';
import { itTwoConnections } from '../helpers/two-connections.js';
import { bearer, call, setupApp, tokenFor } from '../helpers/app.js';
import {
  API,
  createGoal,
  createPlan,
  createTree,
  expectProblem,
  expectStatus,
  putMeasurement,
  queryRows,
  tick,
} from '../helpers/fixtures.js';

const ctx = setupApp();
const since = () => encodeURIComponent(new Date(Date.now() - 1000).toISOString());
const riskBody = (year = 2016, en = 'Staff leave') => ({ year, risk: { en }, plannedMeasures: { en: 'Raise pay' } });

/** Follows nextCursor from `url` (which carries updatedSince or a cursor); returns items and the resume cursor. */
async function syncAll(url: string, limit = 2, headers: Record<string, string> = {}) {
  const items: Json[] = [];
  let next: string | null = null;
  let syncCursor: string;
  for (let pages = 0; ; pages++) {
    if (pages > 300) throw new Error('sync does not end');
    const page = next
      ? `${url.split('?')[0]}?cursor=${encodeURIComponent(next)}&limit=${limit}`
      : `${url}&limit=${limit}`;
    const body = expectStatus(await call(ctx.app, 'GET', page, undefined, headers), 200);
    items.push(...body.items);
    next = body.nextCursor;
    syncCursor = body.syncCursor;
    if (!next) break;
  }
  return { items, syncCursor };
}

describe('risk register sync (GET /plans/{id}/risks?updatedSince=)', () => {
  it('serves changed risks with their codes, re-serves them when the goal changes, and tombstones deletions', async () => {
    const t0 = since();
    const tree = await createTree(ctx.app);
    const goal2 = await createGoal(ctx.app, tree.direction.id);
    const r1 = expectStatus(await call(ctx.app, 'POST', `${API}/goals/${tree.goal.id}/risks`, riskBody()), 201);
    const r2 = expectStatus(
      await call(ctx.app, 'POST', `${API}/goals/${tree.goal.id}/risks`, riskBody(2017, 'Budget')),
      201,
    );
    const r3 = expectStatus(
      await call(ctx.app, 'POST', `${API}/goals/${goal2.id}/risks`, riskBody(2016, 'Reform')),
      201,
    );
    expectStatus(await call(ctx.app, 'PATCH', `${API}/risks/${r1.id}`, { executionStatus: 'executed' }), 200);
    expect((await call(ctx.app, 'DELETE', `${API}/risks/${r2.id}`)).status).toBe(204);
    const url = `${API}/plans/${tree.plan.id}/risks?updatedSince=${t0}`;
    const first = await syncAll(`${url}&lang=en`);
    expect(first.items).toHaveLength(3);
    expect(first.items.find((r) => r.id === r1.id)).toMatchObject({
      executionStatus: 'executed',
      version: 2,
      goalCode: tree.goal.code,
      riskText: 'Staff leave',
    });
    expect(first.items.find((r) => r.id === r2.id)).toEqual({
      id: r2.id,
      deleted: true,
      goalId: tree.goal.id,
      planId: tree.plan.id,
      year: 2017,
      updatedAt: expect.any(String),
    });

    // Nothing new: the resume cursor gives an empty page.
    const idle = expectStatus(
      await call(ctx.app, 'GET', `${API}/plans/${tree.plan.id}/risks?cursor=${first.syncCursor}`),
      200,
    );
    expect(idle.items).toEqual([]);

    // A goal's new code is part of its risks' rows: they come again; a cascade delete of goal2 leaves a tombstone.
    expectStatus(await call(ctx.app, 'PATCH', `${API}/goals/${tree.goal.id}`, { code: '9.9' }), 200);
    expect((await call(ctx.app, 'DELETE', `${API}/goals/${goal2.id}?cascade=true`)).status).toBe(204);
    const second = await syncAll(`${API}/plans/${tree.plan.id}/risks?cursor=${first.syncCursor}`);
    expect(second.items).toEqual([
      expect.objectContaining({ id: r1.id, goalCode: '9.9', version: 2 }),
      expect.objectContaining({ id: r3.id, deleted: true, goalId: goal2.id, planId: tree.plan.id }),
    ]);
    // Another plan's register does not see them.
    const other = await createTree(ctx.app);
    expect((await syncAll(`${API}/plans/${other.plan.id}/risks?updatedSince=${t0}`)).items).toEqual([]);
  });

  it('refuses filters and export formats in sync mode, unknown plans and bad cursors with problems', async () => {
    const tree = await createTree(ctx.app);
    const base = `${API}/plans/${tree.plan.id}/risks?updatedSince=${since()}`;
    expectProblem(await call(ctx.app, 'GET', `${base}&year=2016&executionStatus=executed`), 400, [
      'query.year',
      'query.executionStatus',
    ]);
    expectProblem(await call(ctx.app, 'GET', `${base}&format=csv`), 400, ['query.format']);
    expectProblem(await call(ctx.app, 'GET', `${API}/plans/${crypto.randomUUID()}/risks?updatedSince=${since()}`), 404);
    expectProblem(await call(ctx.app, 'GET', `${API}/plans/${tree.plan.id}/risks?updatedSince=yesterday`), 400, [
      'query.updatedSince',
    ]);
    const forged = Buffer.from(JSON.stringify(['sync', 5, 'not-a-uuid'])).toString('base64url');
    expectProblem(await call(ctx.app, 'GET', `${API}/plans/${tree.plan.id}/risks?cursor=${forged}`), 400, [
      'query.cursor',
    ]);
  });

  it('lets every role read the register while only the owning editor writes it', async () => {
    const t0 = since();
    const mine = await createTree(ctx.app);
    const theirs = await createTree(ctx.app);
    const editor = bearer(await tokenFor(ctx, { role: 'editor', organizationId: mine.organization.id }));
    const viewer = bearer(await tokenFor(ctx, { role: 'viewer' }));
    const own = expectStatus(
      await call(ctx.app, 'POST', `${API}/goals/${mine.goal.id}/risks`, riskBody(), editor),
      201,
    );
    expectProblem(await call(ctx.app, 'POST', `${API}/goals/${theirs.goal.id}/risks`, riskBody(), editor), 403);
    const foreign = expectStatus(await call(ctx.app, 'POST', `${API}/goals/${theirs.goal.id}/risks`, riskBody()), 201);
    expectProblem(await call(ctx.app, 'DELETE', `${API}/risks/${foreign.id}`, undefined, editor), 403);
    // Reading is for everyone, the other organization's register included.
    expect(
      (await syncAll(`${API}/plans/${mine.plan.id}/risks?updatedSince=${t0}`, 2, viewer)).items.map((r) => r.id),
    ).toEqual([own.id]);
    expect(
      (await syncAll(`${API}/plans/${theirs.plan.id}/risks?updatedSince=${t0}`, 2, editor)).items.map((r) => r.id),
    ).toEqual([foreign.id]);
    expectProblem(
      await call(ctx.app, 'GET', `${API}/plans/${mine.plan.id}/risks?updatedSince=${t0}`, undefined, {
        authorization: '',
      }),
      401,
    );
  });

  it('a reader paging while a writer creates, updates and deletes ends with every risk exactly once at its latest version', async () => {
    const tree = await createTree(ctx.app);
    const goals = [tree.goal, await createGoal(ctx.app, tree.direction.id)];
    const t0 = since();
    const base = `${API}/plans/${tree.plan.id}/risks`;
    const held = new Map<string, number>();
    const served = new Set<string>();
    let cursor: string | null = null;
    let resume: string | undefined;
    const readPage = async () => {
      const q = cursor
        ? `cursor=${encodeURIComponent(cursor)}`
        : resume
          ? `cursor=${encodeURIComponent(resume)}`
          : `updatedSince=${t0}`;
      const body = expectStatus(await call(ctx.app, 'GET', `${base}?${q}&limit=3`), 200);
      for (const item of body.items as Json[]) {
        const key = `${item.id}@${item.deleted ? 'deleted' : `${item.version}/${item.goalCode}`}`;
        expect(served.has(key), `served twice: ${key}`).toBe(false);
        served.add(key);
        if (item.deleted) held.delete(item.id);
        else held.set(item.id, item.version);
      }
      cursor = body.nextCursor;
      resume = body.syncCursor;
      return body.items.length;
    };
    let writing = true;
    const writer = (async () => {
      try {
        const ids: string[] = [];
        for (let i = 0; i < 20; i++) {
          const created = await Promise.all(
            goals.map((g) => call(ctx.app, 'POST', `${API}/goals/${g.id}/risks`, riskBody(2016 + (i % 3), `r${i}`))),
          );
          ids.push(...created.map((c) => expectStatus(c, 201).id));
          await Promise.all([
            call(ctx.app, 'PATCH', `${API}/risks/${ids[(i * 7) % ids.length]}`, { note: { en: `n${i}` } }),
            call(ctx.app, 'PATCH', `${API}/risks/${ids[(i * 3) % ids.length]}`, {
              executionStatus: 'executed',
              year: 2018,
            }),
          ]);
          if (i % 5 === 4) expect((await call(ctx.app, 'DELETE', `${API}/risks/${ids.shift()}`)).status).toBe(204);
          if (i === 10) expectStatus(await call(ctx.app, 'PATCH', `${API}/goals/${goals[1].id}`, { code: '7.7' }), 200);
        }
      } finally {
        writing = false; // a failed write must end the reader's loop too
      }
    })();
    const reader = (async () => {
      // Yield to timers between pages: on PGlite every query resolves in microtasks, which would starve the writer.
      while (writing) {
        await readPage();
        await tick();
      }
    })();
    await Promise.all([writer, reader]);
    while ((await readPage()) > 0 || cursor !== null);
    const truth = expectStatus(await call(ctx.app, 'GET', `${base}?limit=500`), 200).items as Json[];
    expect(truth).toHaveLength(36);
    expect(held).toEqual(new Map(truth.map((r) => [r.id, r.version])));
  });

  itTwoConnections('serves a risk whose transaction commits late', async () => {
    const tree = await createTree(ctx.app);
    const risk = expectStatus(await call(ctx.app, 'POST', `${API}/goals/${tree.goal.id}/risks`, riskBody()), 201);
    const start = await syncAll(`${API}/plans/${tree.plan.id}/risks?updatedSince=${since()}`);
    const slow = new pg.Client({ connectionString: ctx.db.url });
    await slow.connect();
    try {
      await slow.query('begin');
      await slow.query(`update risks set version = version + 1, updated_at = now() - interval '1 hour' where id = $1`, [
        risk.id,
      ]);
      const meanwhile = expectStatus(
        await call(ctx.app, 'POST', `${API}/goals/${tree.goal.id}/risks`, riskBody(2017)),
        201,
      );
      const during = await syncAll(`${API}/plans/${tree.plan.id}/risks?cursor=${start.syncCursor}`);
      expect(during.items).toEqual([]); // the open transaction holds the watermark back
      await slow.query('commit');
      const after = await syncAll(`${API}/plans/${tree.plan.id}/risks?cursor=${during.syncCursor}`);
      expect(after.items.map((r) => [r.id, r.version]).sort()).toEqual(
        [
          [risk.id, 2],
          [meanwhile.id, 1],
        ].sort(),
      );
    } finally {
      await slow.end();
    }
  });
});

describe('year approvals sync (GET /plans/{id}/years?updatedSince=)', () => {
  it('serves approvals, a reopened year as a tombstone, and approving it again as a new approval after it', async () => {
    const tree = await createTree(ctx.app);
    const t0 = since();
    const years = `${API}/plans/${tree.plan.id}/years`;
    const approve = (year: number) =>
      call(ctx.app, 'POST', `${years}/${year}/approve`, { document: { en: 'Order No. 63' }, date: '2016-11-22' });
    const a2016 = expectStatus(await approve(2016), 201);
    const a2017 = expectStatus(await approve(2017), 201);
    const first = await syncAll(`${years}?updatedSince=${t0}`);
    expect(first.items.map((a) => a.id)).toEqual([a2016.id, a2017.id]);

    expectStatus(await call(ctx.app, 'POST', `${years}/2016/reopen`, { reason: 'fact corrected' }), 200);
    const again = expectStatus(await approve(2016), 201);
    const second = await syncAll(`${years}?cursor=${first.syncCursor}`);
    expect(second.items).toEqual([
      { id: a2016.id, deleted: true, planId: tree.plan.id, year: 2016, updatedAt: expect.any(String) },
      expect.objectContaining({ id: again.id, year: 2016, version: 1 }),
    ]);
    // The ordinary list pages by year.
    const page1 = expectStatus(await call(ctx.app, 'GET', `${years}?limit=1`), 200);
    expect(page1.items.map((a: Json) => a.year)).toEqual([2016]);
    const page2 = expectStatus(await call(ctx.app, 'GET', `${years}?limit=1&cursor=${page1.nextCursor}`), 200);
    expect([page2.items.map((a: Json) => a.year), page2.nextCursor]).toEqual([[2017], null]);
    expectProblem(await call(ctx.app, 'GET', `${years}?cursor=${Buffer.from('["x"]').toString('base64url')}`), 400, [
      'query.cursor',
    ]);
    expectProblem(await call(ctx.app, 'GET', `${API}/plans/${crypto.randomUUID()}/years?updatedSince=${t0}`), 404);
  });

  it('lets an editor of another organization read approvals but not approve', async () => {
    const tree = await createTree(ctx.app);
    const other = await createTree(ctx.app);
    const stranger = bearer(await tokenFor(ctx, { role: 'editor', organizationId: other.organization.id }));
    expectProblem(
      await call(
        ctx.app,
        'POST',
        `${API}/plans/${tree.plan.id}/years/2016/approve`,
        { document: { en: 'x' }, date: '2016-01-01' },
        stranger,
      ),
      403,
    );
    expectStatus(
      await call(ctx.app, 'GET', `${API}/plans/${tree.plan.id}/years?updatedSince=${since()}`, undefined, stranger),
      200,
    );
  });
});

describe('audit trail sync (GET /audit?updatedSince=)', () => {
  it('serves every entry written while a reader pages exactly once, in commit order, filters applied', async () => {
    const tree = await createTree(ctx.app);
    const t0 = since();
    const seen: number[] = [];
    let cursor: string | null = null;
    let resume: string | undefined;
    const base = `${API}/audit?entityType=measurement`;
    const readPage = async () => {
      const q = cursor
        ? `cursor=${encodeURIComponent(cursor)}`
        : resume
          ? `cursor=${encodeURIComponent(resume)}`
          : `updatedSince=${t0}`;
      const body = expectStatus(await call(ctx.app, 'GET', `${base}&${q}&limit=4`), 200);
      for (const e of body.items as Json[]) {
        expect(e.entityType).toBe('measurement');
        if (String(e.entityKey).startsWith(tree.indicator.id)) seen.push(e.id);
      }
      cursor = body.nextCursor;
      resume = body.syncCursor;
      return body.items.length;
    };
    let writing = true;
    const writer = (async () => {
      try {
        for (let i = 0; i < 15; i++) {
          await Promise.all([
            putMeasurement(ctx.app, tree.indicator.id, 2014 + (i % 5), { plan: i, fact: i }),
            call(ctx.app, 'PATCH', `${API}/goals/${tree.goal.id}`, { title: { en: `g${i}` } }),
          ]);
        }
      } finally {
        writing = false;
      }
    })();
    const reader = (async () => {
      // Yield to timers between pages: on PGlite every query resolves in microtasks, which would starve the writer.
      while (writing) {
        await readPage();
        await tick();
      }
    })();
    await Promise.all([writer, reader]);
    while ((await readPage()) > 0 || cursor !== null);
    const truth = (
      await queryRows(
        ctx,
        sql`select id::int as id from audit_log where entity_type = 'measurement' and entity_key like ${`${tree.indicator.id}/%`}`,
      )
    ).map((r) => r.id as number);
    expect(truth).toHaveLength(15);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort((a, b) => a - b)).toEqual(truth.sort((a, b) => a - b));
  });

  it('refuses an export format in sync mode and non-admins', async () => {
    expectProblem(await call(ctx.app, 'GET', `${API}/audit?updatedSince=${since()}&format=csv`), 400, ['query.format']);
    const notAnId = Buffer.from('["x"]').toString('base64url');
    expectProblem(await call(ctx.app, 'GET', `${API}/audit?cursor=${notAnId}`), 400, ['query.cursor']);
    expectProblem(await call(ctx.app, 'GET', `${API}/audit?cursor=${notAnId}&format=csv`), 400, ['query.cursor']);
    const editor = bearer(
      await tokenFor(ctx, { role: 'editor', organizationId: (await createTree(ctx.app)).organization.id }),
    );
    expectProblem(await call(ctx.app, 'GET', `${API}/audit?updatedSince=${since()}`, undefined, editor), 403);
  });
});

describe('ETags on streamed exports', () => {
  it('answers 304 to If-None-Match until the exported rows change', async () => {
    const tree = await createTree(ctx.app);
    expectStatus(await call(ctx.app, 'POST', `${API}/goals/${tree.goal.id}/risks`, riskBody()), 201);
    for (const url of [
      `${API}/plans/${tree.plan.id}/directions?format=csv`,
      `${API}/plans/${tree.plan.id}/risks?format=xlsx`,
      `${API}/audit?format=csv&entityId=${tree.goal.id}`,
      `${API}/users?format=csv`,
    ]) {
      const first = await call(ctx.app, 'GET', url);
      expect(first.status, url).toBe(200);
      const etag = String(first.headers.etag);
      expect(etag, url).toMatch(/^W\/"x/);
      const again = await call(ctx.app, 'GET', url, undefined, { 'if-none-match': etag });
      expect([again.status, again.raw.body], url).toEqual([304, '']);
      // Another format or separator is another file.
      expect(String((await call(ctx.app, 'GET', `${url}&sep=;`)).headers.etag)).not.toBe(etag);
    }
    const url = `${API}/plans/${tree.plan.id}/risks?format=csv`;
    const before = String((await call(ctx.app, 'GET', url)).headers.etag);
    // Renaming the goal changes goalCode in the register: the ETag moves.
    expectStatus(await call(ctx.app, 'PATCH', `${API}/goals/${tree.goal.id}`, { code: '8.8' }), 200);
    const after = await call(ctx.app, 'GET', url, undefined, { 'if-none-match': before });
    expect(after.status).toBe(200);
    expect(after.raw.body).toContain('8.8');
    expect(String(after.headers.etag)).not.toBe(before);
    const dirs = `${API}/plans/${tree.plan.id}/directions?format=csv`;
    const d0 = String((await call(ctx.app, 'GET', dirs)).headers.etag);
    expect((await call(ctx.app, 'DELETE', `${API}/directions/${tree.direction.id}?cascade=true`)).status).toBe(204);
    expect((await call(ctx.app, 'GET', dirs, undefined, { 'if-none-match': d0 })).status).toBe(200);
  });

  // Filtered (the tables joined) and unfiltered (each table on its own): two shapes of the same superset.
  it.each([
    ['filtered by plan', true],
    ['unfiltered', false],
  ])(
    'the status export watermark (%s) moves with a measurement, an indicator, a goal, an approval and an organization, and only then',
    async (_, byPlan) => {
      const tree = await createTree(ctx.app);
      const db = ctx.db.database.db;
      const filters = byPlan ? { year: 2016, planId: tree.plan.id } : { year: 2016 };
      const mark = () => statusExportWatermark(db, filters);
      const m0 = await mark();
      expect(await mark()).toBe(m0);
      await putMeasurement(ctx.app, tree.indicator.id, 2015, { plan: 1, fact: 1 }); // the previous year feeds the trend
      const m1 = await mark();
      expect(m1).not.toBe(m0);
      await putMeasurement(ctx.app, tree.indicator.id, 2014, { plan: 1, fact: 1 }); // not shown in 2016
      expect(await mark()).toBe(m1);
      expectStatus(
        await call(ctx.app, 'PATCH', `${API}/indicators/${tree.indicator.id}`, { name: { en: 'Renamed' } }),
        200,
      );
      const m2 = await mark();
      expect(m2).not.toBe(m1);
      expectStatus(await call(ctx.app, 'PATCH', `${API}/goals/${tree.goal.id}`, { code: 'G.9' }), 200);
      const m3 = await mark();
      expect(m3).not.toBe(m2);
      expectStatus(
        await call(ctx.app, 'POST', `${API}/plans/${tree.plan.id}/years/2016/approve`, {
          document: { en: 'x' },
          date: '2016-01-01',
        }),
        201,
      );
      const m4 = await mark();
      expect(m4).not.toBe(m3);
      // The organization's code and name are cells of every row of the export (issue 15).
      expectStatus(
        await call(ctx.app, 'PATCH', `${API}/organizations/${tree.organization.id}`, {
          name: { en: 'Renamed agency' },
        }),
        200,
      );
      expect(await mark()).not.toBe(m4);
    },
  );

  it('the status feed export answers 304 to its own ETag until a measurement changes', async () => {
    const tree = await createTree(ctx.app);
    await putMeasurement(ctx.app, tree.indicator.id, 2016, { plan: 10, fact: 8 });
    for (const format of ['csv', 'xlsx']) {
      const url = `${API}/status?year=2016&planId=${tree.plan.id}&format=${format}`;
      const first = await call(ctx.app, 'GET', url);
      expect(first.status).toBe(200);
      const etag = String(first.headers.etag);
      expect(etag).toMatch(/^W\//);
      const again = await call(ctx.app, 'GET', url, undefined, { 'if-none-match': etag });
      expect(again.status).toBe(304);
      expect(again.raw.body).toBe('');
      // Another plan's filter is another file.
      expect(String((await call(ctx.app, 'GET', `${API}/status?year=2016&format=${format}`)).headers.etag)).not.toBe(
        etag,
      );
    }
    const url = `${API}/status?year=2016&planId=${tree.plan.id}&format=csv`;
    const etag = String((await call(ctx.app, 'GET', url)).headers.etag);
    await putMeasurement(ctx.app, tree.indicator.id, 2016, { plan: 10, fact: 11 });
    const changed = await call(ctx.app, 'GET', url, undefined, { 'if-none-match': etag });
    expect(changed.status).toBe(200);
    expect(changed.raw.body).toContain('achieved');
    expect(String(changed.headers.etag)).not.toBe(etag);
  });
});

describe('tombstone retention', () => {
  it('validates SYNC_TOMBSTONE_RETENTION_DAYS and SYNC_PRUNE_INTERVAL_MINUTES', () => {
    expect(loadConfig({}).SYNC_TOMBSTONE_RETENTION_DAYS).toBe(90);
    for (const env of [
      { SYNC_TOMBSTONE_RETENTION_DAYS: '0' },
      { SYNC_TOMBSTONE_RETENTION_DAYS: 'ninety' },
      { SYNC_PRUNE_INTERVAL_MINUTES: '-1' },
    ]) {
      expect(() => loadConfig(env), JSON.stringify(env)).toThrow(ConfigError);
    }
    expect(() => loadConfig({ SYNC_TOMBSTONE_RETENTION_DAYS: '0' })).toThrow(/SYNC_TOMBSTONE_RETENTION_DAYS/);
  });

  it('prunes tombstones beyond the retention and answers 410 to a sync that may need them', async () => {
    const db = ctx.db.database.db;
    const tree = await createTree(ctx.app);
    const plans = `${API}/plans?organizationId=${tree.organization.id}`;
    const before = await syncAll(`${plans}&updatedSince=${since()}`);
    // A plan deleted "100 days ago": its tombstone is beyond a 90-day retention.
    const old = await createPlan(ctx.app, tree.organization.id);
    expect((await call(ctx.app, 'DELETE', `${API}/plans/${old.id}`)).status).toBe(204);
    await queryRows(
      ctx,
      sql`update sync_deletions set deleted_at = now() - interval '100 days' where entity_id = ${old.id}`,
    );
    // A recent deletion stays.
    const recent = expectStatus(await call(ctx.app, 'POST', `${API}/goals/${tree.goal.id}/risks`, riskBody()), 201);
    expect((await call(ctx.app, 'DELETE', `${API}/risks/${recent.id}`)).status).toBe(204);

    const { deleted } = await pruneTombstones(db, 90);
    expect(deleted).toBe(1);
    expect(await queryRows(ctx, sql`select 1 from sync_deletions where entity_id = ${old.id}`)).toEqual([]);
    expect(await queryRows(ctx, sql`select 1 from sync_deletions where entity_id = ${recent.id}`)).toHaveLength(1);

    // updatedSince before the horizon: 410, on every synced list; just after it: fine.
    const tooOld = encodeURIComponent(new Date(Date.now() - 91 * 86_400_000).toISOString());
    const fine = encodeURIComponent(new Date(Date.now() - 89 * 86_400_000).toISOString());
    for (const url of [
      `${plans}&updatedSince=${tooOld}`,
      `${API}/plans/${tree.plan.id}/risks?updatedSince=${tooOld}`,
      `${API}/plans/${tree.plan.id}/years?updatedSince=${tooOld}`,
      `${API}/status?updatedSince=${tooOld}`,
    ]) {
      const res = await call(ctx.app, 'GET', url);
      expectProblem(res, 410);
      expect(res.body.detail, url).toMatch(/resync from scratch/i);
    }
    expectStatus(await call(ctx.app, 'GET', `${plans}&updatedSince=${fine}`), 200);
    expectStatus(await call(ctx.app, 'GET', `${API}/plans/${tree.plan.id}/risks?updatedSince=${fine}`), 200);
    // A first sync (or a resync) from the epoch is never refused: it holds nothing that could be stale.
    const full = await syncAll(`${plans}&updatedSince=${encodeURIComponent('1970-01-01T00:00:00Z')}`);
    expect(full.items.map((p: { id: string }) => p.id)).toContain(tree.plan.id);
    expectStatus(await call(ctx.app, 'GET', `${API}/plans?cursor=${full.syncCursor}`), 200);
    // The audit trail has no tombstones: never 410.
    expectStatus(await call(ctx.app, 'GET', `${API}/audit?updatedSince=${tooOld}&limit=1`), 200);

    // A cursor from before the pruned deletion: 410; one taken now: fine, and a full list then resync works.
    expectProblem(await call(ctx.app, 'GET', `${API}/plans?cursor=${before.syncCursor}`), 410);
    const fresh = await syncAll(`${plans}&updatedSince=${fine}`);
    expectStatus(await call(ctx.app, 'GET', `${API}/plans?cursor=${fresh.syncCursor}`), 200);

    // Pruning again with nothing to prune keeps the horizon where it was (it never moves back).
    expect((await pruneTombstones(db, 365)).deleted).toBe(0);
    expectProblem(await call(ctx.app, 'GET', `${plans}&updatedSince=${tooOld}`), 410);
  });
});
