/**
 * POST /measurements/bulk is one transaction: its locks and its writes share one transaction id,
 * and a failure halfway through the writes leaves nothing behind. Checked by what PostgreSQL
 * records (xmin of written rows, xmax of locked rows), so it holds on PGlite (one connection)
 * as well as on PostgreSQL, without a second connection.
 */
import { sql } from 'drizzle-orm';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { call, setupApp } from '../helpers/app.js';
import { API, createIndicator, createTree, expectStatus, putMeasurement, queryRows } from '../helpers/fixtures.js';
import type { Tree } from '../helpers/fixtures.js';

const ctx = setupApp();
const BULK = `${API}/measurements/bulk`;

let tree: Tree;
beforeAll(async () => {
  tree = await createTree(ctx.app, { plan: { startYear: 2014, endYear: 2018 } });
});

/** What is stored for these indicators, and how many audit rows exist: the "behind" of a batch. */
async function state(indicatorIds: string[]) {
  const ids = sql.join(
    indicatorIds.map((id) => sql`${id}::uuid`),
    sql`, `,
  );
  return {
    measurements: await queryRows(
      ctx,
      sql`select indicator_id as "indicatorId", year, plan, fact, note, version, updated_at as "updatedAt" from measurements where indicator_id in (${ids}) order by indicator_id, year`,
    ),
    audits: Number((await queryRows(ctx, sql`select count(*)::int as n from audit_log`))[0]!.n),
  };
}

describe('bulk write transaction', () => {
  afterEach(async () => {
    await queryRows(ctx, sql`drop trigger if exists fail_halfway on audit_log`);
    await queryRows(ctx, sql`drop function if exists fail_halfway()`);
  });

  // The writes are one statement (insert, update and audit rows from the same arrays), so this shows
  // that statement is all-or-nothing; the test below shows the two statements share one transaction.
  it('leaves nothing behind when the write fails halfway (after the inserts and updates, at an audit row)', async () => {
    const a = await createIndicator(ctx.app, tree.goal.id);
    const b = await createIndicator(ctx.app, tree.goal.id);
    await putMeasurement(ctx.app, a.id, 2014, { plan: 1, fact: 1, note: { en: 'kept' } });
    await putMeasurement(ctx.app, b.id, 2014, { plan: 2, fact: 2 });
    const before = await state([a.id, b.id]);
    // Fails the audit insert of the last row: by then the measurements of every row are inserted or updated.
    await queryRows(
      ctx,
      sql.raw(`create function fail_halfway() returns trigger language plpgsql as $$
        begin
          if new.entity_key = '${b.id}/2016' then raise exception 'planted failure halfway through the batch'; end if;
          return new;
        end $$`),
    );
    await queryRows(
      ctx,
      sql`create trigger fail_halfway before insert on audit_log for each row execute function fail_halfway()`,
    );

    const rows = [
      { indicatorId: a.id, year: 2014, plan: 1, fact: 5, note: { en: 'changed' } }, // update
      { indicatorId: a.id, year: 2015, plan: 3, fact: 4 }, // create
      { indicatorId: b.id, year: 2014, plan: 2, fact: 7 }, // update
      { indicatorId: b.id, year: 2016, plan: 8, fact: 9 }, // create: its audit row fails
    ];
    const res = await call(ctx.app, 'POST', BULK, { rows });
    expect(res.status).toBe(500);
    expect(await state([a.id, b.id])).toEqual(before);

    // The same batch without the planted failure goes through whole.
    await queryRows(ctx, sql`drop trigger fail_halfway on audit_log`);
    expect(expectStatus(await call(ctx.app, 'POST', BULK, { rows }), 200)).toEqual({
      dryRun: false,
      created: 2,
      updated: 2,
      unchanged: 0,
    });
    expect((await state([a.id, b.id])).audits).toBe(before.audits + 4);
  });

  it('locks and writes in one transaction: the locked plan, indicator and unchanged measurement carry the writing transaction id', async () => {
    const ind = await createIndicator(ctx.app, tree.goal.id);
    await putMeasurement(ctx.app, ind.id, 2014, { plan: 1, fact: 1 });
    await putMeasurement(ctx.app, ind.id, 2015, { plan: 2, fact: 2 });
    const res = expectStatus(
      await call(ctx.app, 'POST', `${BULK}?details=true`, {
        rows: [
          { indicatorId: ind.id, year: 2014, plan: 1, fact: 1 }, // unchanged: only locked (statement 2)
          { indicatorId: ind.id, year: 2015, plan: 2, fact: 3 }, // updated
          { indicatorId: ind.id, year: 2016, plan: 4, fact: null }, // created
        ],
      }),
      200,
    );
    expect(res).toMatchObject({ created: 1, updated: 1, unchanged: 1 });
    const xid = async (query: ReturnType<typeof sql>) => String((await queryRows(ctx, query))[0]!.xid);
    const written = await xid(
      sql`select xmin::text as xid from measurements where indicator_id = ${ind.id} and year = 2016`,
    );
    expect(
      await xid(sql`select xmin::text as xid from measurements where indicator_id = ${ind.id} and year = 2015`),
    ).toBe(written);
    expect(await xid(sql`select xmin::text as xid from audit_log where entity_key = ${`${ind.id}/2016`}`)).toBe(
      written,
    );
    // Statement 1 share-locks the indicator and its plan, statement 2 locks the stored rows FOR
    // UPDATE: a row lock leaves the locker's transaction id in xmax, so these show the locks were
    // taken, and taken by the transaction that wrote.
    expect(await xid(sql`select xmax::text as xid from indicators where id = ${ind.id}`)).toBe(written);
    expect(await xid(sql`select xmax::text as xid from plans where id = ${tree.plan.id}`)).toBe(written);
    expect(
      await xid(sql`select xmax::text as xid from measurements where indicator_id = ${ind.id} and year = 2014`),
    ).toBe(written);
    // One clock for the whole batch: the audit's "after" shows the stored updatedAt exactly.
    const [stored] = await queryRows(
      ctx,
      sql`select to_json(updated_at) #>> '{}' as at from measurements where indicator_id = ${ind.id} and year = 2015`,
    );
    const [audited] = await queryRows(
      ctx,
      sql`select after->>'updatedAt' as at from audit_log where entity_key = ${`${ind.id}/2015`} and action = 'update'`,
    );
    expect(new Date(String(audited!.at)).getTime()).toBe(new Date(String(stored!.at)).getTime());
  });
});
