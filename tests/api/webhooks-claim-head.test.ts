/**
 * The dispatcher's head lookup (a subscription's lowest pending delivery) must not depend on fresh
 * statistics: after a burst, the table's statistics still say "pending" while most deliveries have
 * succeeded, and the lookup used to walk the primary key past every finished delivery the retention keeps.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.js';
import { webhookSubscriptions } from '../../src/db/schema.js';
import { claimDue, headOf } from '../../src/webhooks/dispatcher/repository.js';
import type { TestDatabase } from '../helpers/database.js';
import { createTestDatabase } from '../helpers/database.js';

let test: TestDatabase;
let db: Db;
beforeAll(async () => {
  test = await createTestDatabase();
  db = test.database.db;
});
afterAll(async () => {
  await test.dispose();
});

const rows = async <T>(statement: ReturnType<typeof sql>) => (await db.execute(statement)) as unknown as { rows: T[] };

/** Shared buffers (hit or read) the plan touched, summed over its nodes. */
function buffersOf(plan: Record<string, unknown>): number {
  const own = Number(plan['Shared Hit Blocks'] ?? 0) + Number(plan['Shared Read Blocks'] ?? 0);
  const children = (plan.Plans as Record<string, unknown>[] | undefined) ?? [];
  return Math.max(own, ...children.map(buffersOf));
}

describe("a subscription's head delivery", () => {
  it('is found through the pending index after a burst, with statistics taken while all were pending', async () => {
    const [sub] = await db
      .insert(webhookSubscriptions)
      .values({
        createdByKind: 'system',
        url: 'https://x.example/h',
        secret: 'whsec_dGVzdA==',
        eventTypes: ['kz.nysana.measurement.created'],
      })
      .returning({ id: webhookSubscriptions.id });
    const total = 4_000;
    await db.execute(sql`
      with e as (
        insert into webhook_events (type, source, time, data)
        select 'kz.nysana.measurement.created', '/api/v1', now(), jsonb_build_object('n', g)
        from generate_series(1, ${total}) g
        returning id, (data->>'n')::int as n)
      insert into webhook_deliveries (subscription_id, event_id)
      select ${sub!.id}::uuid, e.id from e order by e.n`);
    await db.execute(sql`analyze webhook_deliveries`);
    // The burst is delivered: all but the last five succeed, and no analyze has run since.
    const {
      rows: [first],
    } = await rows<{ id: string }>(sql`
      with done as (
        update webhook_deliveries set status = 'succeeded', completed_at = now()
        where id in (select id from webhook_deliveries order by id limit ${total - 5})
        returning id)
      select (select min(id) from webhook_deliveries) + ${total - 5} as id`);
    const head = sql`select ${headOf(sql`s.id`)} as id from webhook_subscriptions s where s.id = ${sub!.id}`;
    const {
      rows: [found],
    } = await rows<{ id: string }>(head);
    expect(Number(found!.id)).toBe(Number(first!.id));
    const {
      rows: [explained],
    } = await rows<{ 'QUERY PLAN': unknown }>(sql`explain (analyze, buffers, format json) ${head}`);
    const plan = explained!['QUERY PLAN'];
    const root = (typeof plan === 'string' ? JSON.parse(plan) : plan) as { Plan: Record<string, unknown> }[];
    // Walking the primary key past the 3,995 finished deliveries touches thousands of buffers; the index, a few.
    expect(buffersOf(root[0]!.Plan)).toBeLessThan(100);
    const [claimed] = await claimDue(db, 10, 60_000);
    expect(claimed?.id).toBe(Number(first!.id));
  });
});
