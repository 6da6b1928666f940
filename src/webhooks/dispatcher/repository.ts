/**
 * All SQL of the dispatcher. Times come from the database clock (now()), so replicas with skewed
 * clocks agree on what is due and when a lease runs out.
 */
import { sql } from 'drizzle-orm';
import type { SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import type { StoredEvent } from '../catalog.js';
import type { SecretColumns } from '../secret.js';

/**
 * A condition that is always true and ends the statement's transaction without waiting for the WAL flush
 * (synchronous_commit off for that transaction only; set_config(..., true) lasts until its end, which for a
 * single statement is its own commit). The dispatcher's bookkeeping does not need a durable commit: a claim
 * lost in a server crash is claimed again, a lost outcome means the delivery is sent again with the same
 * webhook-id (at least once holds), a lost failure is retried sooner. A claim comes after the relay run that
 * wrote its deliveries in the WAL, so a crash that loses that run loses the claim too; the run is redone with
 * the same event ids (relay/events.ts, eventIds), and what was sent goes again under the same webhook-id. Each
 * such commit otherwise waited for an fsync of its own, twice per delivered event, beside the writes' own.
 */
const notDurable = sql`(select set_config('synchronous_commit', 'off', true)) is not null`;

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
 * Claims the due deliveries of up to `limit` subscriptions: each enabled subscription's lowest pending id,
 * when it is due and not leased, and at most `failingLimit` of subscriptions whose last attempt failed (a
 * receiver that times out holds a send slot for the whole timeout: failing ones must leave slots to the
 * healthy ones). With each head come up to `batchSize - 1` deliveries behind it, in id order, as long as
 * they follow it without a gap (due, not leased, not locked by anyone else): the dispatcher sends them one
 * after the other and records them together, so a subscription's deliveries still go out one at a time, in
 * commit order, and nobody else claims one behind a leased head. A failing subscription's head goes alone
 * (its next attempt is a probe). Several rows of one subscription cost one claim instead of one each.
 * One statement: the rows are locked (SKIP LOCKED: another dispatcher's claim in flight is skipped, not
 * waited for), leased and counted, and the transaction ends with it; no transaction stays open during the
 * HTTP calls. The lease and status are checked again on the locked row, so a claim that committed
 * meanwhile is seen. "Due" compares at the column's millisecond precision: now() stored in a timestamp(3)
 * is rounded, up by as much as half a millisecond, and was not yet due to a claim made in that millisecond.
 * Heads of fewer than `limit` subscriptions means nothing else was claimable then (the dispatcher stops asking).
 */
export async function claimDue(
  db: Db,
  limit: number,
  leaseMs: number,
  failingLimit = limit,
  batchSize = 1,
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
        select d.id, d.subscription_id from webhook_deliveries d
        where d.id in (select c.id from candidates c where not c.failing or c.rank <= ${failingLimit})
          and d.status = 'pending'
          and d.next_attempt_at <= now()::timestamptz(3)
          and (d.lease_until is null or d.lease_until < now())
        order by d.next_attempt_at, d.id
        limit ${limit}
        for update skip locked
      ),
      followers as (
        select f.id, f.subscription_id, due.id as head
        from due join candidates c on c.id = due.id
        cross join lateral (
          select g.id, g.subscription_id from webhook_deliveries g
          where g.status = 'pending' and not c.failing
            and g.subscription_id >= due.subscription_id and g.subscription_id <= due.subscription_id
            and g.id > due.id
            and g.next_attempt_at <= now()::timestamptz(3)
            and (g.lease_until is null or g.lease_until < now())
          order by g.subscription_id, g.id
          limit ${Math.max(0, batchSize - 1)}
          for update skip locked
        ) f
      ),
      -- A follower only when every pending delivery between the head and it is claimed too: one that was
      -- skipped (not due, leased, locked by someone else) would otherwise go out after the ones behind it.
      batch as (
        select id, id as head from due
        union all
        select f.id, f.head from followers f
        where not exists (
          select 1 from webhook_deliveries p
          where p.status = 'pending'
            and p.subscription_id >= f.subscription_id and p.subscription_id <= f.subscription_id
            and p.id > f.head and p.id < f.id
            and p.id not in (select id from followers))
      )
      -- The event and subscription columns come back with the lease: no second round trip per claim.
      -- Timestamps as epoch milliseconds: the two drivers decode timestamptz differently.
      update webhook_deliveries d
      set lease_until = now() + ${leaseMs} * interval '1 millisecond', attempts = d.attempts + 1
      from batch join candidates c on c.id = batch.head, webhook_subscriptions s, webhook_events e
      where d.id = batch.id and s.id = d.subscription_id and e.id = d.event_id and ${notDurable}
      returning d.id::text as id, d.attempts, c.failing,
                s.id as subscription_id, s.url, s.secret, s.previous_secret,
                (extract(epoch from s.previous_secret_expires_at) * 1000)::float8 as previous_secret_expires_at,
                e.id as event_id, e.type, e.source, e.subject,
                (extract(epoch from e.time) * 1000)::float8 as time, e.data`),
  );
  return claimed
    .map((r) => ({
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
    }))
    .sort((a, b) => a.id - b.id);
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

export interface Succeeded {
  claim: ClaimedDelivery;
  outcome: AttemptOutcome;
}

/**
 * 2xx answers of one subscription's claimed deliveries: they succeeded, each attempt is logged (even when
 * the claim was overtaken: its lease ran out and another dispatcher claimed it, `attempts` moved), and the
 * subscription's failure streak ends. One statement for the batch (data-modifying CTEs run together,
 * atomically). The subscription is locked first (each part below waits for `subscription` as a one-time
 * filter): deleting a subscription locks it and then cascades to its deliveries, so taking the deliveries
 * first and the subscription last (the attempts' foreign key, checked at the end of the statement)
 * deadlocked with a deletion. A subscription deleted meanwhile leaves nothing to record.
 */
export async function recordSuccesses(db: Db, subscriptionId: string, done: readonly Succeeded[]): Promise<void> {
  if (done.length === 0) return;
  const outcomes = JSON.stringify(
    done.map(({ claim, outcome }, n) => ({
      n,
      id: claim.id,
      attempts: claim.attempts,
      event_id: claim.event.id,
      status_code: outcome.statusCode ?? null,
      duration_ms: outcome.durationMs,
      response_prefix: outcome.responsePrefix ?? null,
    })),
  );
  await db.execute(sql`
    with subscription as (
      select id from webhook_subscriptions where id = ${subscriptionId}::uuid and ${notDurable} for key share
    ),
    outcome as (
      select * from jsonb_to_recordset(${outcomes}::jsonb)
        as o(n int, id bigint, attempts int, event_id uuid, status_code int, duration_ms int, response_prefix text)
    ),
    attempt as (
      insert into webhook_attempts (delivery_id, subscription_id, event_id, status_code, duration_ms, error, response_prefix)
      select o.id, ${subscriptionId}::uuid, o.event_id, o.status_code, o.duration_ms, null, o.response_prefix
      from outcome o
      where exists (select 1 from subscription)
        and exists (select 1 from webhook_deliveries where id = o.id)
      order by o.n
    ),
    delivered as (
      update webhook_deliveries d
      set status = 'succeeded', completed_at = now(), lease_until = null,
          last_status_code = o.status_code, last_error = null
      from outcome o
      where d.id = o.id and d.status = 'pending' and d.attempts = o.attempts
        and exists (select 1 from subscription)
    )
    update webhook_subscriptions set consecutive_failures = 0
    where id = ${subscriptionId}::uuid and consecutive_failures <> 0
      and exists (select 1 from subscription)`);
}

/**
 * Claimed deliveries that were not attempted (a delivery before them in the batch failed, the dispatcher
 * is stopping, or the batch ran out of lease): their lease and the claim's count are undone, so they go
 * out after the one before them, in order, as if never claimed. An overtaken claim changes nothing.
 */
export async function releaseClaims(db: Db, claims: readonly ClaimedDelivery[]): Promise<void> {
  if (claims.length === 0) return;
  const rows = JSON.stringify(claims.map((c) => ({ id: c.id, attempts: c.attempts })));
  await db.execute(sql`
    update webhook_deliveries d
    set lease_until = null, attempts = d.attempts - 1
    from jsonb_to_recordset(${rows}::jsonb) as o(id bigint, attempts int)
    where d.id = o.id and d.status = 'pending' and d.attempts = o.attempts and ${notDurable}`);
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
      await tx.execute(
        sql`select 1 from webhook_subscriptions where id = ${claim.subscription.id} and ${notDurable} for key share`,
      ),
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
