/**
 * All SQL of the dispatcher. Times come from the database clock (now()), so replicas with skewed
 * clocks agree on what is due and when a lease runs out.
 */
import { sql } from 'drizzle-orm';
import type { SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import type { StoredEvent } from '../catalog.js';
import type { SecretColumns } from '../secret.js';

type Rows<T> = { rows: T[] };
const rowsOf = <T>(result: unknown) => (result as Rows<T>).rows;

/**
 * The id of a subscription's head: its lowest pending delivery. The subscription is compared as a range, not
 * with `=`: with `=` its column drops out of the order, and under statistics taken while most deliveries were
 * pending (a burst, a fresh table) the planner walked the primary key past every finished delivery the
 * retention keeps (22 ms at 20,000) instead of the pending partial index (0.04 ms). Ordered by both columns,
 * only that index gives the order without a sort.
 */
export const headOf = (subscriptionId: SQL) => sql`(
  select d.id from webhook_deliveries d
  where d.status = 'pending' and d.subscription_id >= ${subscriptionId} and d.subscription_id <= ${subscriptionId}
  order by d.subscription_id, d.id limit 1)`;

export interface ClaimedDelivery {
  id: number;
  /** attempts after the claim: the fence that tells this claim's outcome from a later claim's. */
  attempts: number;
  /** Its subscription's last attempt failed when it was claimed (it counts against the failing slots). */
  failing: boolean;
  subscription: SecretColumns & { id: string; url: string };
  event: StoredEvent;
}

/**
 * Claims up to `limit` due deliveries, at most one per subscription: each enabled subscription's lowest
 * pending id, when it is due and not leased (so a subscription's deliveries go out one at a time, in
 * commit order), and at most `failingLimit` of subscriptions whose last attempt failed (a receiver that
 * times out holds a send slot for the whole timeout: failing ones must leave slots to the healthy ones).
 * One statement: the rows are locked (SKIP LOCKED: another dispatcher's claim in flight is skipped, not
 * waited for), leased and counted, and the transaction ends with it; no transaction stays open during the
 * HTTP call. The lease and status are checked again on the locked row, so a claim that committed
 * meanwhile is seen. "Due" compares at the column's millisecond precision: now() stored in a timestamp(3)
 * is rounded, up by as much as half a millisecond, and was not yet due to a claim made in that millisecond.
 * Fewer rows than `limit` means nothing else was claimable at that moment (the dispatcher stops asking).
 */
export async function claimDue(
  db: Db,
  limit: number,
  leaseMs: number,
  failingLimit = limit,
): Promise<ClaimedDelivery[]> {
  const claimed = rowsOf<ClaimedRow>(
    await db.execute(sql`
      with heads as (
        select ${headOf(sql`s.id`)} as id,
               s.consecutive_failures > 0 as failing
        from webhook_subscriptions s
        where s.enabled
      ),
      candidates as (
        select d.id, h.failing,
               row_number() over (partition by h.failing order by d.next_attempt_at, d.id) as rank
        from webhook_deliveries d join heads h on h.id = d.id
        where d.status = 'pending'
          and d.next_attempt_at <= now()::timestamptz(3)
          and (d.lease_until is null or d.lease_until < now())
      ),
      due as (
        select d.id from webhook_deliveries d
        where d.id in (select c.id from candidates c where not c.failing or c.rank <= ${failingLimit})
          and d.status = 'pending'
          and d.next_attempt_at <= now()::timestamptz(3)
          and (d.lease_until is null or d.lease_until < now())
        order by d.next_attempt_at, d.id
        limit ${limit}
        for update skip locked
      )
      -- The event and subscription columns come back with the lease: no second round trip per claim.
      -- Timestamps as epoch milliseconds: the two drivers decode timestamptz differently.
      update webhook_deliveries d
      set lease_until = now() + ${leaseMs} * interval '1 millisecond', attempts = d.attempts + 1
      from due join candidates c on c.id = due.id, webhook_subscriptions s, webhook_events e
      where d.id = due.id and s.id = d.subscription_id and e.id = d.event_id
      returning d.id::text as id, d.attempts, c.failing,
                s.id as subscription_id, s.url, s.secret, s.previous_secret,
                (extract(epoch from s.previous_secret_expires_at) * 1000)::float8 as previous_secret_expires_at,
                e.id as event_id, e.type, e.source, e.subject,
                (extract(epoch from e.time) * 1000)::float8 as time, e.data`),
  );
  return claimed.map((r) => ({
    id: Number(r.id),
    attempts: Number(r.attempts),
    failing: r.failing,
    subscription: {
      id: r.subscription_id,
      url: r.url,
      secret: r.secret,
      previousSecret: r.previous_secret,
      previousSecretExpiresAt:
        r.previous_secret_expires_at === null ? null : new Date(Number(r.previous_secret_expires_at)),
    },
    event: {
      id: r.event_id,
      type: r.type,
      source: r.source,
      subject: r.subject,
      time: new Date(Number(r.time)),
      data: r.data,
    },
  }));
}

interface ClaimedRow {
  id: string;
  attempts: number;
  failing: boolean;
  subscription_id: string;
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: number | null;
  event_id: string;
  type: string;
  source: string;
  subject: string | null;
  time: number;
  data: Record<string, unknown>;
}

export interface AttemptOutcome {
  statusCode?: number;
  error?: string;
  responsePrefix?: string;
  durationMs: number;
}

async function insertAttempt(tx: Db, claim: ClaimedDelivery, o: AttemptOutcome) {
  await tx.execute(sql`
    insert into webhook_attempts (delivery_id, subscription_id, event_id, status_code, duration_ms, error, response_prefix)
    select ${claim.id}, ${claim.subscription.id}, ${claim.event.id}::uuid, ${o.statusCode ?? null}::int, ${o.durationMs}::int,
           ${o.error ?? null}::text, ${o.responsePrefix ?? null}::text
    -- The subscription may have been deleted while the request was out (its deliveries with it).
    where exists (select 1 from webhook_deliveries where id = ${claim.id})`);
}

/**
 * A 2xx: the delivery succeeded and the subscription's failure streak ends. The attempt is logged even
 * when the claim was overtaken (its lease ran out and another dispatcher claimed it: `attempts` moved).
 */
export async function recordSuccess(db: Db, claim: ClaimedDelivery, o: AttemptOutcome): Promise<void> {
  // One statement (data-modifying CTEs run together, atomically): this is once per delivered event.
  // The subscription is locked first (each part below waits for `subscription` as a one-time filter):
  // deleting a subscription locks it and then cascades to its deliveries, so taking the delivery first
  // and the subscription last (the attempt's foreign key, checked at the end of the statement) deadlocked
  // with a deletion. A subscription deleted meanwhile leaves nothing to record.
  await db.execute(sql`
    with subscription as (
      select id from webhook_subscriptions where id = ${claim.subscription.id} for key share
    ),
    attempt as (
      insert into webhook_attempts (delivery_id, subscription_id, event_id, status_code, duration_ms, error, response_prefix)
      select ${claim.id}, ${claim.subscription.id}, ${claim.event.id}::uuid, ${o.statusCode ?? null}::int,
             ${o.durationMs}::int, null, ${o.responsePrefix ?? null}::text
      where exists (select 1 from subscription)
        and exists (select 1 from webhook_deliveries where id = ${claim.id})
    ),
    delivered as (
      update webhook_deliveries
      set status = 'succeeded', completed_at = now(), lease_until = null,
          last_status_code = ${o.statusCode ?? null}, last_error = null
      where id = ${claim.id} and status = 'pending' and attempts = ${claim.attempts}
        and exists (select 1 from subscription)
    )
    update webhook_subscriptions set consecutive_failures = 0
    where id = ${claim.subscription.id} and consecutive_failures <> 0
      and exists (select 1 from subscription)`);
}

export type FailureResult = 'rescheduled' | 'failed' | 'overtaken';

/**
 * Anything but a 2xx. The delivery is tried again after `delayMs`, unless that falls after its first
 * attempt + `retryHours`: then it fails, and its subscription is disabled with the reason (its later
 * deliveries stay pending until it is enabled again: nothing is lost).
 */
export async function recordFailure(
  db: Db,
  claim: ClaimedDelivery,
  o: AttemptOutcome,
  retry: { delayMs: number; retryHours: number },
): Promise<FailureResult> {
  return db.transaction(async (tx) => {
    // The subscription before its delivery, in the order a deletion locks them (see recordSuccess).
    const [held] = rowsOf(
      await tx.execute(sql`select 1 from webhook_subscriptions where id = ${claim.subscription.id} for key share`),
    );
    if (held === undefined) return 'overtaken';
    await insertAttempt(tx as unknown as Db, claim, o);
    const error = o.error ?? `HTTP ${o.statusCode}`;
    const updated = rowsOf<{ status: string }>(
      await tx.execute(sql`
        with first as (
          select min(attempted_at) as at from webhook_attempts where delivery_id = ${claim.id}
        ),
        verdict as (
          select now() + ${retry.delayMs} * interval '1 millisecond'
                   > coalesce(first.at, now()) + ${retry.retryHours} * interval '1 hour' as exhausted
          from first
        )
        update webhook_deliveries d
        set status = case when verdict.exhausted then 'failed' else 'pending' end,
            completed_at = case when verdict.exhausted then now() end,
            next_attempt_at = now() + ${retry.delayMs} * interval '1 millisecond',
            lease_until = null, last_status_code = ${o.statusCode ?? null}, last_error = ${error}
        from verdict
        where d.id = ${claim.id} and d.status = 'pending' and d.attempts = ${claim.attempts}
        returning d.status`),
    );
    await tx.execute(sql`
      update webhook_subscriptions set consecutive_failures = consecutive_failures + 1
      where id = ${claim.subscription.id}`);
    const status = updated[0]?.status;
    if (status === undefined) return 'overtaken';
    if (status === 'pending') return 'rescheduled';
    const reason = `delivery ${claim.id} (event ${claim.event.id}) failed after ${claim.attempts} attempts: ${error}`;
    await tx.execute(sql`
      update webhook_subscriptions
      set enabled = false, disabled_reason = ${reason.slice(0, 1000)}, disabled_at = now(),
          version = version + 1, updated_at = now()
      where id = ${claim.subscription.id} and enabled`);
    return 'failed';
  });
}

/**
 * Milliseconds until the next subscription head may become claimable (due, and its lease run out), or
 * undefined when no enabled subscription has a pending delivery. Only heads: a backlog behind a head in
 * flight is not due until that head is done (and its completion wakes the dispatcher anyway).
 */
export async function msUntilNextDue(db: Db): Promise<number | undefined> {
  const [row] = rowsOf<{ ms: number | null }>(
    await db.execute(sql`
      select (extract(epoch from min(greatest(h.next_attempt_at, coalesce(h.lease_until, h.next_attempt_at))) - now())
              * 1000)::float8 as ms
      from webhook_subscriptions s
      join webhook_deliveries h on h.id = ${headOf(sql`s.id`)}
      where s.enabled`),
  );
  return row?.ms === null || row?.ms === undefined ? undefined : Math.max(0, Number(row.ms));
}

export interface Pruned {
  attempts: number;
  deliveries: number;
  events: number;
}

/**
 * The delivery log's retention: finished deliveries (with their attempts) and attempts of finished
 * deliveries older than `retentionDays`, then events older than that which no delivery needs. A pending
 * delivery keeps its attempts: its first attempt is what its retry window counts from.
 */
export async function pruneLog(db: Db, retentionDays: number, now = new Date()): Promise<Pruned> {
  const cutoff = new Date(now.getTime() - retentionDays * 86_400_000).toISOString();
  return db.transaction(async (tx) => {
    const count = async (statement: ReturnType<typeof sql>) =>
      Number(rowsOf<{ n: number }>(await tx.execute(statement))[0]!.n);
    const attempts = await count(sql`
      with gone as (
        delete from webhook_attempts a using webhook_deliveries d
        where a.delivery_id = d.id and d.status <> 'pending' and a.attempted_at < ${cutoff}::timestamptz
        returning 1)
      select count(*)::int as n from gone`);
    const deliveries = await count(sql`
      with gone as (
        delete from webhook_deliveries
        where status <> 'pending' and completed_at < ${cutoff}::timestamptz
        returning 1)
      select count(*)::int as n from gone`);
    const events = await count(sql`
      with gone as (
        delete from webhook_events e
        where e.created_at < ${cutoff}::timestamptz
          and not exists (select 1 from webhook_deliveries d where d.event_id = e.id)
        returning 1)
      select count(*)::int as n from gone`);
    return { attempts, deliveries, events };
  });
}
