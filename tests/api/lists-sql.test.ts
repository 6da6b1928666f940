/**
 * The list pipeline's data half without HTTP (src/lists/): a table list's keyset pages and its
 * count agree on the same filter, in both directions; cursors that would not cast in SQL are the
 * invalid cursor's 400; the status feed's count is the number of feed rows under each filter.
 */
import { eq, inArray } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { auditLog, organizations } from '../../src/db/schema.js';
import { ValidationError } from '../../src/shared/errors.js';
import { encodeCursor } from '../../src/http/pagination.js';
import type { KeysetList } from '../../src/lists/keyset.js';
import { readPage } from '../../src/lists/keyset.js';
import { tableList } from '../../src/lists/table.js';
import { statusCount, statusFeed } from '../../src/status/queries.js';
import { setupApp } from '../helpers/app.js';
import { createOrganization, createTree, putMeasurement } from '../helpers/fixtures.js';
import type { Tree } from '../helpers/fixtures.js';

const ctx = setupApp();
const db = () => ctx.db.database.db;

/** Every row of a list, walked in keyset pages of `size`. */
async function walk<Row, Dto>(list: KeysetList<Row, Dto>, size: number): Promise<Dto[]> {
  const out: Dto[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 100; pages++) {
    const page = await readPage(db(), list, { limit: size, cursor, count: false });
    out.push(...page.items);
    if (!page.nextCursor) return out;
    cursor = page.nextCursor;
  }
  throw new Error('the list does not end');
}

describe('table lists', () => {
  const ids: string[] = [];
  beforeAll(async () => {
    for (const code of ['L-c', 'L-a', 'L-e', 'L-b', 'L-d']) ids.push((await createOrganization(ctx.app, { code })).id);
  });

  it('pages a filtered table in order and counts the same rows, ascending and descending', async () => {
    const where = [inArray(organizations.id, ids)];
    const asc = tableList({
      table: organizations,
      where,
      orderBy: [organizations.code, organizations.id],
      toDto: (row) => row.code,
    });
    expect(await walk(asc, 2)).toEqual(['L-a', 'L-b', 'L-c', 'L-d', 'L-e']);
    expect(await asc.count(db())).toBe(5);
    const orderBy = [organizations.code, organizations.id];
    const desc = tableList({ table: organizations, where, orderBy, direction: 'desc', toDto: (row) => row.code });
    expect(await walk(desc, 3)).toEqual(['L-e', 'L-d', 'L-c', 'L-b', 'L-a']);
    const none = tableList({
      table: organizations,
      where: [eq(organizations.code, 'nope')],
      orderBy,
      toDto: (row) => row.id,
    });
    expect(await none.count(db())).toBe(0);
    expect(await readPage(db(), none, { limit: 5, count: true })).toEqual({ items: [], nextCursor: null, total: 0 });
  });

  it('pages a bigserial key (the audit trail) and refuses cursor values that would not cast', async () => {
    const where = [eq(auditLog.entityType, 'organization')];
    const list = tableList({ table: auditLog, where, orderBy: [auditLog.id], toDto: (row) => row.id });
    const all = await walk(list, 2);
    expect(all.length).toBe(await list.count(db()));
    expect(all).toEqual([...all].sort((a, b) => a - b));
    const bad = (values: unknown[]) => () => list.decodeCursor(encodeCursor(values));
    for (const values of [['abc'], [1.5], [null, 1]]) expect(bad(values)).toThrow(ValidationError);
    expect(list.decodeCursor(encodeCursor([all[0]]))).toEqual([all[0]]);
    const byId = tableList({
      table: organizations,
      where: [],
      orderBy: [organizations.code, organizations.id],
      toDto: (row) => row.id,
    });
    expect(() => byId.decodeCursor(encodeCursor(['L-a', 'not-a-uuid']))).toThrow(ValidationError);
  });
});

describe('status feed count', () => {
  let tree: Tree;
  beforeAll(async () => {
    tree = await createTree(ctx.app);
    for (const year of [2014, 2015, 2016]) {
      await putMeasurement(ctx.app, tree.indicator.id, year, { plan: 10, fact: year === 2015 ? 5 : 12 });
    }
  });

  it('counts the rows the feed serves, for each filter', async () => {
    const filters = [
      { planId: tree.plan.id },
      { planId: tree.plan.id, year: 2015 },
      { planId: tree.plan.id, year: 2018 },
      { planId: tree.plan.id, status: 'achieved' as const },
      { organizationId: tree.organization.id, status: 'not_achieved' as const },
      { indicatorId: tree.indicator.id, year: 2030 },
    ];
    for (const filter of filters) {
      const rows = await statusFeed(db(), { filter, limit: 500 });
      expect(await statusCount(db(), filter), JSON.stringify(filter)).toBe(rows.length);
    }
    expect(await statusCount(db(), { planId: tree.plan.id })).toBe(3);
    expect(await statusCount(db(), { planId: tree.plan.id, status: 'achieved' })).toBe(2);
  });
});
