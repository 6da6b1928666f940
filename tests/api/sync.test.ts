/**
 * Incremental sync (?updatedSince=): changes and tombstones in commit order, with a cursor that
 * neither skips nor repeats rows while others write, including a writer that commits late with an
 * earlier updatedAt (PostgreSQL only: PGlite has one connection, so no transaction can be in flight
 * while the reader reads).
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { call, setupApp } from '../helpers/app.js';
import { itTwoConnections } from '../helpers/two-connections.js';
import type { Json } from '../helpers/app.js';
import {
  API,
  createIndicator,
  createOrganization,
  createPlan,
  createTree,
  expectProblem,
  expectStatus,
  putMeasurement,
  tick,
} from '../helpers/fixtures.js';

const ctx = setupApp();

/** Pages through a sync from `start` (a query string) until the last page; returns items and the resume cursor. */
async function syncAll(url: string, limit = 3) {
  const items: Json[] = [];
  let next: string | null = null;
  let syncCursor: string | undefined;
  let pages = 0;
  do {
    const sep = url.includes('?') ? '&' : '?';
    const res = await call(
      ctx.app,
      'GET',
      `${url}${sep}limit=${limit}${next ? `&cursor=${encodeURIComponent(next)}` : ''}`,
    );
    const body = expectStatus(res, 200);
    items.push(...body.items);
    next = body.nextCursor;
    syncCursor = body.syncCursor;
    if (++pages > 500) throw new Error('sync does not end');
  } while (next);
  return { items, syncCursor: syncCursor! };
}

const since = () => new Date(Date.now() - 1000).toISOString();

describe('incremental sync of the lists', () => {
  it('returns created and updated rows, tombstones for deletions, and resumes from syncCursor', async () => {
    const t0 = since();
    const org = await createOrganization(ctx.app);
    const a = await createPlan(ctx.app, org.id);
    const b = await createPlan(ctx.app, org.id);
    const url = `${API}/plans?organizationId=${org.id}&updatedSince=${encodeURIComponent(t0)}`;
    const first = await syncAll(url, 1);
    expect(first.items.map((p: Json) => p.id)).toEqual([a.id, b.id]); // commit order
    expect(first.items[0]).toMatchObject({ id: a.id, version: 1, code: a.code });

    // Nothing new: resuming gives nothing.
    const resume = `${API}/plans?cursor=`;
    const empty = expectStatus(await call(ctx.app, 'GET', `${resume}${encodeURIComponent(first.syncCursor)}`), 200);
    expect(empty).toMatchObject({ items: [], nextCursor: null });

    expectStatus(await call(ctx.app, 'PATCH', `${API}/plans/${a.id}`, { title: { en: 'Renamed' } }), 200);
    expectStatus(await call(ctx.app, 'DELETE', `${API}/plans/${b.id}`), 204);
    const second = expectStatus(await call(ctx.app, 'GET', `${resume}${encodeURIComponent(first.syncCursor)}`), 200);
    expect(second.items).toEqual([
      expect.objectContaining({ id: a.id, version: 2, title: { en: 'Renamed' } }),
      { id: b.id, deleted: true, updatedAt: expect.any(String) },
    ]);
    expect(second.nextCursor).toBeNull();
    expect(typeof second.syncCursor).toBe('string');
  });

  it('ignores rows changed before updatedSince and answers the ordinary list without it', async () => {
    const org = await createOrganization(ctx.app);
    await createPlan(ctx.app, org.id);
    await tick();
    const t1 = new Date().toISOString();
    await tick();
    const later = await createPlan(ctx.app, org.id);
    const got = await syncAll(`${API}/plans?organizationId=${org.id}&updatedSince=${encodeURIComponent(t1)}`);
    expect(got.items.map((p: Json) => p.id)).toEqual([later.id]);
    const plain = expectStatus(await call(ctx.app, 'GET', `${API}/plans?organizationId=${org.id}`), 200);
    expect(plain.items).toHaveLength(2);
    expect(plain.syncCursor).toBeUndefined();
  });

  it('reports cascade deletions as tombstones with their parent', async () => {
    const tree = await createTree(ctx.app);
    await putMeasurement(ctx.app, tree.indicator.id, 2016, { plan: 1, fact: 2 });
    const t0 = since();
    const statusBefore = await syncAll(`${API}/status?updatedSince=${encodeURIComponent(t0)}&year=2016`);
    expect(statusBefore.items.some((s: Json) => s.indicatorId === tree.indicator.id && !s.deleted)).toBe(true);

    expectStatus(await call(ctx.app, 'DELETE', `${API}/directions/${tree.direction.id}?cascade=true`), 204);
    const dirs = await syncAll(`${API}/plans/${tree.plan.id}/directions?updatedSince=${encodeURIComponent(t0)}`);
    expect(dirs.items).toContainEqual({
      id: tree.direction.id,
      deleted: true,
      updatedAt: expect.any(String),
      planId: tree.plan.id,
    });
    const status = await syncAll(`${API}/status?updatedSince=${encodeURIComponent(t0)}&year=2016`);
    expect(status.items).toContainEqual({
      indicatorId: tree.indicator.id,
      year: 2016,
      deleted: true,
      updatedAt: expect.any(String),
    });
    // The goal and direction are gone: 404 (their own tombstones are in their parents' lists).
    expectProblem(
      await call(ctx.app, 'GET', `${API}/goals/${tree.goal.id}/indicators?updatedSince=${encodeURIComponent(t0)}`),
      404,
    );
    expectProblem(
      await call(ctx.app, 'GET', `${API}/directions/${tree.direction.id}/goals?updatedSince=${encodeURIComponent(t0)}`),
      404,
    );
  });

  it('syncs measurements of an indicator, with tombstones carrying indicatorId and year', async () => {
    const tree = await createTree(ctx.app);
    const t0 = since();
    const m2015 = await putMeasurement(ctx.app, tree.indicator.id, 2015, { plan: 1 });
    await putMeasurement(ctx.app, tree.indicator.id, 2016, { plan: 2 });
    expectStatus(await call(ctx.app, 'DELETE', `${API}/indicators/${tree.indicator.id}/measurements/2015`), 204);
    const got = await syncAll(
      `${API}/indicators/${tree.indicator.id}/measurements?updatedSince=${encodeURIComponent(t0)}`,
      1,
    );
    expect(got.items).toEqual([
      expect.objectContaining({ year: 2016, plan: 2 }),
      { id: m2015.id, deleted: true, updatedAt: expect.any(String), indicatorId: tree.indicator.id, year: 2015 },
    ]);
    const filtered = await syncAll(
      `${API}/indicators/${tree.indicator.id}/measurements?updatedSince=${encodeURIComponent(t0)}&yearFrom=2016`,
    );
    expect(filtered.items.map((m: Json) => m.year)).toEqual([2016]);
  });

  it('moves a status row when the previous year changes, and refuses ?status= and CSV in sync mode', async () => {
    const tree = await createTree(ctx.app);
    await putMeasurement(ctx.app, tree.indicator.id, 2015, { plan: 1, fact: 1 });
    await putMeasurement(ctx.app, tree.indicator.id, 2016, { plan: 2, fact: 3 });
    const first = await syncAll(`${API}/status?updatedSince=${encodeURIComponent(since())}&planId=${tree.plan.id}`);
    // Tombstones of other files' deleted indicators cannot be placed in a plan and may come too.
    const live = (items: Json[]) => items.filter((s) => !s.deleted);
    expect(live(first.items).map((s: Json) => s.year)).toEqual([2015, 2016]);
    await putMeasurement(ctx.app, tree.indicator.id, 2015, { plan: 1, fact: 5 });
    const next = expectStatus(
      await call(ctx.app, 'GET', `${API}/status?planId=${tree.plan.id}&cursor=${encodeURIComponent(first.syncCursor)}`),
      200,
    );
    expect(live(next.items).map((s: Json) => [s.year, s.fact, s.previousFact])).toEqual([
      [2015, 5, null],
      [2016, 3, 5],
    ]);
    expectProblem(
      await call(ctx.app, 'GET', `${API}/status?updatedSince=${encodeURIComponent(since())}&status=achieved`),
      400,
      ['query.status'],
    );
    expectProblem(
      await call(ctx.app, 'GET', `${API}/status?updatedSince=${encodeURIComponent(since())}&format=csv`),
      400,
      ['query.format'],
    );
  });

  it('re-serves status rows when their year is approved and reopened', async () => {
    const tree = await createTree(ctx.app);
    await putMeasurement(ctx.app, tree.indicator.id, 2016, { plan: 1, fact: 2 });
    const live = (items: Json[]) => items.filter((s) => !s.deleted);
    const url = `${API}/status?planId=${tree.plan.id}`;
    const first = await syncAll(`${url}&updatedSince=${encodeURIComponent(since())}`);
    expect(live(first.items).map((s: Json) => s.approved)).toEqual([false]);
    const approve = { document: { en: 'Order No. 7' }, date: '2016-11-22' };
    expectStatus(await call(ctx.app, 'POST', `${API}/plans/${tree.plan.id}/years/2016/approve`, approve), 201);
    const second = await syncAll(`${url}&cursor=${encodeURIComponent(first.syncCursor)}`);
    expect(live(second.items).map((s: Json) => [s.year, s.approved])).toEqual([[2016, true]]);
    expectStatus(
      await call(ctx.app, 'POST', `${API}/plans/${tree.plan.id}/years/2016/reopen`, { reason: 'correction' }),
      200,
    );
    const third = await syncAll(`${url}&cursor=${encodeURIComponent(second.syncCursor)}`);
    expect(live(third.items).map((s: Json) => [s.year, s.approved])).toEqual([[2016, false]]);
  });

  it('answers 400 for a malformed updatedSince or sync cursor', async () => {
    expectProblem(await call(ctx.app, 'GET', `${API}/plans?updatedSince=yesterday`), 400, ['query.updatedSince']);
    expectProblem(await call(ctx.app, 'GET', `${API}/plans?updatedSince=2026-01-01T00:00:00`), 400, [
      'query.updatedSince',
    ]);
    expectProblem(await call(ctx.app, 'GET', `${API}/plans?updatedSince=2026-01-01T00:00:00Z&format=csv`), 400, [
      'query.format',
    ]);
    for (const cursor of [
      ['sync', 5, 'not-a-uuid'],
      ['sync', -1],
      ['sync', 5, 1, 2],
    ]) {
      const bad = Buffer.from(JSON.stringify(cursor)).toString('base64url');
      expectProblem(await call(ctx.app, 'GET', `${API}/plans?cursor=${bad}`), 400, ['query.cursor']);
      expectProblem(await call(ctx.app, 'GET', `${API}/status?cursor=${bad}`), 400, ['query.cursor']);
    }
  });
});

describe('sync under concurrent writes', () => {
  it('a reader paging while a writer inserts and updates ends with every row exactly once at its latest version', async () => {
    const org = await createOrganization(ctx.app);
    const t0 = since();
    const url = `${API}/plans?organizationId=${org.id}`;
    const latest = new Map<string, number>(); // what the reader holds: id -> version
    const seen = new Set<string>(); // id@version pairs served
    let cursor: string | null = null;
    let resume: string | undefined;
    const readPage = async () => {
      const q: string = cursor
        ? `&cursor=${encodeURIComponent(cursor)}`
        : resume
          ? `&cursor=${encodeURIComponent(resume)}`
          : `&updatedSince=${encodeURIComponent(t0)}`;
      const body = expectStatus(await call(ctx.app, 'GET', `${url}&limit=4${q}`), 200);
      for (const item of body.items as Json[]) {
        const key = `${item.id}@${item.version ?? 'deleted'}`;
        expect(seen.has(key), `served twice: ${key}`).toBe(false);
        seen.add(key);
        if (item.deleted) latest.delete(item.id);
        else {
          expect(item.version).toBeGreaterThan(latest.get(item.id) ?? 0);
          latest.set(item.id, item.version);
        }
      }
      cursor = body.nextCursor;
      resume = body.syncCursor;
      return body.items.length;
    };

    let writing = true;
    const writer = (async () => {
      const ids: string[] = [];
      for (let i = 0; i < 30; i++) {
        const created = await Promise.all([createPlan(ctx.app, org.id), createPlan(ctx.app, org.id)]);
        ids.push(...created.map((p: Json) => p.id));
        const victim = ids[(i * 7) % ids.length]!;
        await Promise.all([
          call(ctx.app, 'PATCH', `${API}/plans/${victim}`, { title: { en: `v${i}` } }),
          call(ctx.app, 'PATCH', `${API}/plans/${ids[(i * 3) % ids.length]}`, { title: { en: `w${i}` } }),
        ]);
        if (i % 10 === 9) await call(ctx.app, 'DELETE', `${API}/plans/${ids.shift()}`);
      }
      writing = false;
    })();
    const reader = (async () => {
      // Yield to timers between pages: on PGlite, with the token already verified, a request resolves in
      // microtasks only, and a reader that never yields starves the writer forever.
      while (writing) {
        await readPage();
        await tick();
      }
    })();
    await Promise.all([writer, reader]);
    // Catch up: page until a page comes back empty at the end.
    while ((await readPage()) > 0 || cursor !== null);

    const truth = expectStatus(await call(ctx.app, 'GET', `${url}&limit=500`), 200).items as Json[];
    expect(new Map(truth.map((p) => [p.id, p.version]))).toEqual(latest);
    expect(truth.length).toBe(57);
  });

  it('a reader of the status feed ends with every measured row at its latest values while a writer puts and deletes', async () => {
    const tree = await createTree(ctx.app);
    const inds = [tree.indicator];
    for (let i = 0; i < 3; i++) inds.push(await createIndicator(ctx.app, tree.goal.id));
    const t0 = since();
    const url = `${API}/status?planId=${tree.plan.id}&limit=3`;
    const held = new Map<string, Json>();
    let cursor: string | null = null;
    let resume: string | undefined;
    const readPage = async () => {
      const q: string =
        (cursor ?? resume)
          ? `&cursor=${encodeURIComponent((cursor ?? resume)!)}`
          : `&updatedSince=${encodeURIComponent(t0)}`;
      const body = expectStatus(await call(ctx.app, 'GET', `${url}${q}`), 200);
      for (const item of body.items as Json[]) {
        const key = `${item.indicatorId}/${item.year}`;
        if (item.deleted) held.delete(key);
        else held.set(key, [item.plan, item.fact, item.previousFact]);
      }
      cursor = body.nextCursor;
      resume = body.syncCursor;
      return body.items.length;
    };
    let writing = true;
    const writer = (async () => {
      for (let i = 0; i < 24; i++) {
        const ind = inds[i % inds.length]!;
        const year = 2014 + (i % 4);
        await Promise.all([
          putMeasurement(ctx.app, ind.id, year, { plan: i, fact: i + 1 }),
          putMeasurement(ctx.app, inds[(i + 1) % inds.length]!.id, 2015 + (i % 3), { plan: i * 2, fact: null }),
        ]);
        if (i % 6 === 5) await call(ctx.app, 'DELETE', `${API}/indicators/${ind.id}/measurements/${year}`);
      }
      writing = false;
    })();
    const reader = (async () => {
      // Yield to timers between pages: on PGlite, with the token already verified, a request resolves in
      // microtasks only, and a reader that never yields starves the writer forever.
      while (writing) {
        await readPage();
        await tick();
      }
    })();
    await Promise.all([writer, reader]);
    while ((await readPage()) > 0 || cursor !== null);

    const truth = expectStatus(await call(ctx.app, 'GET', `${API}/status?planId=${tree.plan.id}&limit=500`), 200)
      .items as Json[];
    expect(held).toEqual(new Map(truth.map((s) => [`${s.indicatorId}/${s.year}`, [s.plan, s.fact, s.previousFact]])));
  });

  itTwoConnections('serves a row whose transaction commits late with an earlier updatedAt', async () => {
    const org = await createOrganization(ctx.app);
    const [a, b] = [await createPlan(ctx.app, org.id), await createPlan(ctx.app, org.id)];
    const url = `${API}/plans?organizationId=${org.id}`;
    const start = await syncAll(`${url}&updatedSince=${encodeURIComponent(since())}`);
    // Tombstones are not filtered by ?organizationId (only by a parent in the path): keep live rows.
    const live = (items: Json[]) => items.filter((p) => !p.deleted);
    expect(live(start.items)).toHaveLength(2);

    const slow = new pg.Client({ connectionString: ctx.db.url });
    await slow.connect();
    try {
      await slow.query('begin');
      await slow.query(
        `update plans set version = version + 1, updated_at = now(), code = code || '-slow' where id = $1`,
        [a.id],
      );
      await tick();
      // A later writer commits first.
      expectStatus(await call(ctx.app, 'PATCH', `${API}/plans/${b.id}`, { title: { en: 'fast' } }), 200);
      const during = expectStatus(
        await call(ctx.app, 'GET', `${url}&cursor=${encodeURIComponent(start.syncCursor)}`),
        200,
      );
      // Held back while the older transaction runs: serving b now would put a behind the cursor.
      expect(live(during.items)).toEqual([]);
      await slow.query('commit');
      const after = await syncAll(`${url}&cursor=${encodeURIComponent(during.syncCursor)}`);
      expect(live(after.items).map((p: Json) => [p.id, p.version])).toEqual(
        expect.arrayContaining([
          [a.id, 2],
          [b.id, 2],
        ]),
      );
      expect(live(after.items)).toHaveLength(2);
    } finally {
      await slow.end();
    }
  });
});
