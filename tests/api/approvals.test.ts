/** An approved year is locked: edits answer 409 and change nothing; reopening (admin, with a reason) unlocks. */
import { describe, expect, it } from 'vitest';
import { call, setupApp } from '../helpers/app.js';
import type { Json } from '../helpers/app.js';
import { API, createTree, putMeasurement } from '../helpers/fixtures.js';

const ctx = setupApp();
const order = { document: { en: 'Order of the Chairman No. 63', kk: 'Төрағаның № 63 бұйрығы' }, date: '2016-11-22' };

describe('year approval', () => {
  it('locks the year, shows it in the status answers, and reopens with a reason', async () => {
    const tree = await createTree(ctx.app);
    const m = `${API}/indicators/${tree.indicator.id}/measurements`;
    await putMeasurement(ctx.app, tree.indicator.id, 2016, { plan: 70, fact: 75 });
    await putMeasurement(ctx.app, tree.indicator.id, 2017, { plan: 72 });

    const approved = await call(ctx.app, 'POST', `${API}/plans/${tree.plan.id}/years/2016/approve`, order);
    expect(approved.status).toBe(201);
    expect(approved.body).toMatchObject({ planId: tree.plan.id, year: 2016, date: '2016-11-22' });
    expect((await call(ctx.app, 'POST', `${API}/plans/${tree.plan.id}/years/2016/approve`, order)).status).toBe(409);

    // Locked: measurement writes, structure deletes, and verdict-changing indicator fields.
    const put = await call(ctx.app, 'PUT', `${m}/2016`, { plan: 70, fact: 60 });
    expect(put.status).toBe(409);
    expect(put.body.detail).toContain('Order of the Chairman No. 63');
    expect((await call(ctx.app, 'DELETE', `${m}/2016`)).status).toBe(409);
    expect(
      (await call(ctx.app, 'PATCH', `${API}/indicators/${tree.indicator.id}`, { betterWhen: 'lower' })).status,
    ).toBe(409);
    expect((await call(ctx.app, 'DELETE', `${API}/indicators/${tree.indicator.id}?cascade=true`)).status).toBe(409);
    expect((await call(ctx.app, 'DELETE', `${API}/plans/${tree.plan.id}?cascade=true`)).status).toBe(409);
    expect((await call(ctx.app, 'GET', `${m}/2016`)).body).toMatchObject({ plan: 70, fact: 75, version: 1 });
    // Other years and harmless fields stay editable.
    expect((await call(ctx.app, 'PUT', `${m}/2017`, { plan: 72, fact: 73 })).status).toBe(200);
    expect(
      (await call(ctx.app, 'PATCH', `${API}/indicators/${tree.indicator.id}`, { name: { en: 'Clearer name' } })).status,
    ).toBe(200);

    const status = await call(ctx.app, 'GET', `${API}/plans/${tree.plan.id}/status?year=2016`);
    expect(status.body.approval).toMatchObject({ year: 2016, document: order.document });
    expect(status.body.directions[0].goals[0].indicators[0].approved).toBe(true);
    expect((await call(ctx.app, 'GET', `${API}/plans/${tree.plan.id}/status?year=2017`)).body.approval).toBeNull();
    const feed = await call(ctx.app, 'GET', `${API}/status?planId=${tree.plan.id}`);
    expect(feed.body.items.map((i: Json) => [i.year, i.approved])).toEqual([
      [2016, true],
      [2017, false],
    ]);
    const years = await call(ctx.app, 'GET', `${API}/plans/${tree.plan.id}/years`);
    expect(years.body.items.map((a: Json) => a.year)).toEqual([2016]);

    // Reopen needs a reason; then the edit goes through and both steps are audited.
    expect((await call(ctx.app, 'POST', `${API}/plans/${tree.plan.id}/years/2016/reopen`, {})).status).toBe(400);
    const reopened = await call(ctx.app, 'POST', `${API}/plans/${tree.plan.id}/years/2016/reopen`, {
      reason: 'Fact corrected by the statistics committee',
    });
    expect(reopened.status).toBe(200);
    expect(
      (await call(ctx.app, 'POST', `${API}/plans/${tree.plan.id}/years/2016/reopen`, { reason: 'again' })).status,
    ).toBe(404);
    expect((await call(ctx.app, 'PUT', `${m}/2016`, { plan: 70, fact: 71 })).status).toBe(200);
    const audit = await call(ctx.app, 'GET', `${API}/audit?entityType=yearApproval`);
    expect(audit.body.items.map((i: Json) => i.action)).toEqual(['reopen', 'approve']);
    expect(audit.body.items[0].after).toMatchObject({ reason: 'Fact corrected by the statistics committee' });
  });

  it('rejects years outside the plan, unknown plans and bad bodies', async () => {
    const tree = await createTree(ctx.app);
    expect((await call(ctx.app, 'POST', `${API}/plans/${tree.plan.id}/years/2013/approve`, order)).status).toBe(400);
    expect((await call(ctx.app, 'POST', `${API}/plans/${tree.plan.id}/years/2019/approve`, order)).status).toBe(400);
    expect(
      (await call(ctx.app, 'POST', `${API}/plans/00000000-0000-4000-8000-000000000000/years/2016/approve`, order))
        .status,
    ).toBe(404);
    const bad = await call(ctx.app, 'POST', `${API}/plans/${tree.plan.id}/years/2016/approve`, {
      document: {},
      date: '22.11.2016',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: Json) => e.path)).toEqual(expect.arrayContaining(['body.document', 'body.date']));
  });
});
