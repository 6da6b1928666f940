/**
 * The audit trail's change stamp (what GET /audit?updatedSince= pages by) is the writing
 * transaction's id, set by the column default (no trigger): the same value the sync trigger stamps
 * on the measurement written in that transaction, on the single and the bulk path alike.
 */
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { call, setupApp } from '../helpers/app.js';
import { API, createTree, expectStatus, putMeasurement, queryRows } from '../helpers/fixtures.js';
import type { Tree } from '../helpers/fixtures.js';

const ctx = setupApp();

const stamps = async (indicatorId: string, year: number) =>
  (
    await queryRows(
      ctx,
      sql`select a.change_xid::text as audit, m.change_xid::text as measurement, a.action
      from audit_log a join measurements m on a.entity_key = m.indicator_id::text || '/' || m.year
      where m.indicator_id = ${indicatorId}::uuid and m.year = ${year} order by a.id desc limit 1`,
    )
  )[0] as { audit: string; measurement: string; action: string };

describe('audit change stamp', () => {
  let tree: Tree;

  beforeAll(async () => {
    tree = await createTree(ctx.app, { plan: { startYear: 2014, endYear: 2018 } });
  });

  it('is the transaction id of the write, on PUT and on bulk, created and updated', async () => {
    await putMeasurement(ctx.app, tree.indicator.id, 2014, { plan: 1, fact: 2 });
    const put = await stamps(tree.indicator.id, 2014);
    expect(put.action).toBe('create');
    expect(put.audit).not.toBe('0');
    expect(put.audit).toBe(put.measurement);

    const res = await call(ctx.app, 'POST', `${API}/measurements/bulk`, {
      rows: [
        { indicatorId: tree.indicator.id, year: 2014, plan: 1, fact: 3 },
        { indicatorId: tree.indicator.id, year: 2015, plan: 1, fact: 2 },
      ],
    });
    expectStatus(res, 200);
    const updated = await stamps(tree.indicator.id, 2014);
    const created = await stamps(tree.indicator.id, 2015);
    expect([updated.action, created.action]).toEqual(['update', 'create']);
    expect(updated.audit).toBe(updated.measurement);
    expect(created.audit).toBe(created.measurement);
    expect(BigInt(updated.audit)).toBeGreaterThan(BigInt(put.audit));
    expect(created.audit).toBe(updated.audit); // one transaction
  });

  it('is what an insert that leaves the column out gets: the inserting transaction id', async () => {
    const [row] = await queryRows(
      ctx,
      sql`insert into audit_log (actor_type, entity_type, entity_id, action) values ('system', 'test', 'x', 'create')
        returning change_xid::text as stamp, (pg_current_xact_id()::text) as xid`,
    );
    expect((row as { stamp: string }).stamp).toBe((row as { xid: string }).xid);
  });
});
