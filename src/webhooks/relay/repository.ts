/**
 * All SQL of the relay (docs/webhooks.md, "The outbox is the audit trail"): the position row, the
 * committed audit rows after it, the plan context of a batch in one query, and the events and their
 * deliveries written in one statement each.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { joinUpSql } from '../../db/plan-tree.js';
import { auditLog, directions, goals, indicators, measurements, plans, webhookRelay } from '../../db/schema.js';
import type { Tx } from '../../db/tx.js';

type Executor = Db | Tx;

const rowsOf = <T>(result: unknown): T[] => (result as { rows: T[] }).rows;

/** Everything before (changeXid, auditId) in (change_xid, id) order has been relayed. */
export interface RelayPosition {
  changeXid: number;
  auditId: number;
}

/** What a relay run starts from: the position, X and the subscribed event types (see lockPosition). */
export interface RunStart {
  from: RelayPosition;
  /** pg_snapshot_xmin of the statement's snapshot: every transaction below it has ended. */
  xmin: number;
  /** The event types some subscription (enabled or not) names, as of that same snapshot. */
  wanted: Set<string>;
}

/**
 * The relay's position, locked for this transaction, with X and the subscribed event types in the same
 * statement (one round trip where three were, every run). One statement reads both with one snapshot, so
 * every row below X committed before the subscriptions were read: a subscription this does not see
 * committed after all of them and is owed none of their events. An event nobody subscribes to is not
 * written: it could never be delivered (a later subscription gets only later events), and a service
 * without subscriptions should not store two events per measurement written.
 * The same statement makes the run's commit not wait for the WAL flush. A run lost in a server crash (its
 * last few hundred milliseconds of commits) is redone from the audit trail, which the writes commit durably:
 * its events get the ids they had (relay/events.ts, eventIds), so what was already sent is sent again under
 * the same webhook-id (at least once, as the dispatcher's lost records do), and nothing is lost. Its flush
 * otherwise took its turn among the writes' own, every run.
 * Undefined when another relay holds the position (skip, do not wait).
 */
export async function lockPosition(tx: Tx): Promise<RunStart | undefined> {
  const rows = rowsOf<{ change_xid: string; audit_id: string; xmin: string; types: string | null }>(
    await tx.execute(
      sql`select r.change_xid::text, r.audit_id::text, pg_snapshot_xmin(pg_current_snapshot())::text as xmin,
            -- Event type names hold no comma (src/webhooks/catalog.ts).
            (select string_agg(distinct t, ',') from webhook_subscriptions s, unnest(s.event_types) t) as types,
            -- This run's commit does not wait for the WAL flush (this transaction only; see above).
            set_config('synchronous_commit', 'off', true) as sync
          from ${webhookRelay} r where r.id = 1 for update of r skip locked`,
    ),
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    from: { changeXid: Number(row.change_xid), auditId: Number(row.audit_id) },
    xmin: Number(row.xmin),
    wanted: new Set(row.types ? row.types.split(',') : []),
  };
}

export async function movePosition(tx: Tx, to: RelayPosition): Promise<void> {
  await tx.execute(
    sql`update ${webhookRelay} set change_xid = ${to.changeXid}, audit_id = ${to.auditId}, updated_at = now() where id = 1`,
  );
}

/** One audit row as the relay reads it (before/after are the API's JSON of the row). */
export interface AuditRow {
  id: number;
  changeXid: number;
  at: Date;
  entityType: string;
  entityId: string;
  entityKey: string | null;
  action: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

/**
 * Committed audit rows after `from` and below `xmin` (final: no transaction can still add one there),
 * of the entity types in `types`, in commit order, at most `limit`.
 */
export async function readAudit(
  tx: Executor,
  from: RelayPosition,
  xmin: number,
  types: readonly string[],
  limit: number,
): Promise<AuditRow[]> {
  // Output names differ from the columns: ORDER BY would otherwise sort by the text casts.
  const rows = rowsOf<{
    row_id: string;
    xid: string;
    at: string | Date;
    entity_type: string;
    entity_id: string;
    entity_key: string | null;
    action: string;
    before: Record<string, unknown> | null;
    after: Record<string, unknown> | null;
  }>(
    await tx.execute(sql`
      select a.id::text as row_id, a.change_xid::text as xid, a.at, a.entity_type, a.entity_id, a.entity_key, a.action,
        a.before, a.after
      from ${auditLog} a
      where (a.change_xid, a.id) > (${from.changeXid}::bigint, ${from.auditId}::bigint) and a.change_xid < ${xmin}::bigint
        and a.entity_type = any(${`{${types.join(',')}}`}::text[])
      order by a.change_xid, a.id
      limit ${limit}
    `),
  );
  return rows.map((r) => ({
    id: Number(r.row_id),
    changeXid: Number(r.xid),
    at: new Date(r.at),
    entityType: r.entity_type,
    entityId: r.entity_id,
    entityKey: r.entity_key,
    action: r.action,
    before: r.before,
    after: r.after,
  }));
}

/** Whether committed rows wait at or above `xmin` (an older transaction still runs): the relay tries again soon. */
export async function committedAfter(
  tx: Executor,
  from: RelayPosition,
  xmin: number,
  types: readonly string[],
): Promise<boolean> {
  // The first such row in index order, not exists(...): the planner expects many rows there and chose a
  // sequential scan of the whole trail that found none (3-6 ms a run with 7,600 rows, growing with the
  // trail); ordered and limited, it walks audit_log_change_idx from X (0.07 ms).
  const rows = rowsOf<{ found: number }>(
    await tx.execute(sql`
      select 1 as found from ${auditLog}
      where (change_xid, id) > (${from.changeXid}::bigint, ${from.auditId}::bigint) and change_xid >= ${xmin}::bigint
        and entity_type = any(${`{${types.join(',')}}`}::text[])
      order by change_xid, id
      limit 1
    `),
  );
  return rows.length > 0;
}

/** Where a plan-tree row sits now: its plan and, for indicators, what scores its measurements. */
export interface TreeContext {
  kind: 'plan' | 'direction' | 'goal' | 'indicator';
  id: string;
  code: string;
  planId: string;
  planCode: string;
  organizationId: string;
  planMethodId: string | null;
  valueType: 'percent' | 'number' | 'rank' | null;
  betterWhen: 'higher' | 'lower' | null;
}

export interface TreeIds {
  plans: string[];
  directions: string[];
  goals: string[];
  indicators: string[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const uuids = (ids: string[]) => `{${[...new Set(ids.filter((id) => UUID.test(id)))].join(',')}}`;

/** The plan (and organization) of every named row that still exists, in one statement for a whole batch. */
export async function treeContext(tx: Executor, ids: TreeIds): Promise<TreeContext[]> {
  const planColumns = sql`${plans.id}::text as plan_id, ${plans.code} as plan_code, ${plans.organizationId}::text as organization_id,
    ${plans.evaluationMethodId}::text as plan_method_id`;
  const rows = rowsOf<{
    kind: TreeContext['kind'];
    id: string;
    code: string;
    plan_id: string;
    plan_code: string;
    organization_id: string;
    plan_method_id: string | null;
    value_type: TreeContext['valueType'];
    better_when: TreeContext['betterWhen'];
  }>(
    await tx.execute(sql`
      select 'indicator' as kind, ${indicators.id}::text as id, ${indicators.code} as code, ${planColumns},
        ${indicators.valueType} as value_type, ${indicators.betterWhen} as better_when
      from ${indicators} ${joinUpSql(indicators)} where ${indicators.id} = any(${uuids(ids.indicators)}::uuid[])
      union all
      select 'goal', ${goals.id}::text, ${goals.code}, ${planColumns}, null, null
      from ${goals} ${joinUpSql(goals)} where ${goals.id} = any(${uuids(ids.goals)}::uuid[])
      union all
      select 'direction', ${directions.id}::text, ${directions.code}, ${planColumns}, null, null
      from ${directions} ${joinUpSql(directions)} where ${directions.id} = any(${uuids(ids.directions)}::uuid[])
      union all
      select 'plan', ${plans.id}::text, ${plans.code}, ${planColumns}, null, null
      from ${plans} where ${plans.id} = any(${uuids(ids.plans)}::uuid[])
    `),
  );
  return rows.map((r) => ({
    kind: r.kind,
    id: r.id,
    code: r.code,
    planId: r.plan_id,
    planCode: r.plan_code,
    organizationId: r.organization_id,
    planMethodId: r.plan_method_id,
    valueType: r.value_type,
    betterWhen: r.better_when,
  }));
}

/** A stored measurement's scored values (numeric as PostgreSQL prints it). */
export interface MeasurementValues {
  indicatorId: string;
  year: number;
  plan: string | null;
  fact: string | null;
  ratingSize: number | null;
}

/** The measurements of these indicators, by indicator and year (an indicator edit re-scores them). */
export async function measurementValues(tx: Executor, indicatorIds: readonly string[]): Promise<MeasurementValues[]> {
  if (indicatorIds.length === 0) return [];
  const rows = rowsOf<{
    indicator_id: string;
    year: number;
    plan: string | null;
    fact: string | null;
    rating_size: number | null;
  }>(
    await tx.execute(sql`
      select ${measurements.indicatorId}::text as indicator_id, ${measurements.year} as year, ${measurements.plan}::text as plan,
        ${measurements.fact}::text as fact, ${measurements.ratingSize} as rating_size
      from ${measurements} where ${measurements.indicatorId} = any(${uuids([...indicatorIds])}::uuid[])
      order by 1, 2
    `),
  );
  return rows.map((r) => ({
    indicatorId: r.indicator_id,
    year: Number(r.year),
    plan: r.plan,
    fact: r.fact,
    ratingSize: r.rating_size === null ? null : Number(r.rating_size),
  }));
}

/** A webhook_events row to insert; `id` is chosen by the caller so deliveries can name it. */
export interface NewEvent {
  id: string;
  type: string;
  source: string;
  subject: string | null;
  organizationId: string | null;
  planId: string | null;
  auditId: number | null;
  time: Date;
  data: Record<string, unknown>;
}

/**
 * The events and one delivery per (event, matching subscription) in one statement. The events go in the
 * given order: seq is drawn row by row as the ordered select produces them, so seq follows commit order
 * (one relay at a time holds the position). The deliveries go in event order, so a subscription's delivery
 * ids follow commit order; every matching subscription gets one, enabled or not (a disabled one's wait for
 * it). Matching: the type is one of its event types, its organization and plan filters are unset or equal,
 * and it existed at the event's time. Answers how many deliveries were queued, by subscription.
 */
export async function insertEventsWithDeliveries(tx: Tx, events: readonly NewEvent[]): Promise<Map<string, number>> {
  if (events.length === 0) return new Map();
  // One parameter per column, a value per line (src/audit/record.ts recordAuditMany does the same): each
  // JSON document is parsed once by the server. Ids, paths and JSON.stringify output hold no raw line break.
  const column = (f: (e: NewEvent) => string | number | null) =>
    sql`string_to_array(${events.map((e) => f(e) ?? '').join('\n')}::text, E'\n', '')`;
  const result = await tx.execute(sql`
    with e as (
      insert into webhook_events (id, type, source, subject, organization_id, plan_id, audit_id, time, data)
      select r.id::uuid, r.type, r.source, r.subject, r.organization_id::uuid, r.plan_id::uuid, r.audit_id::bigint,
        r.time::timestamptz, r.data::jsonb
      from unnest(${column((e) => e.id)}, ${column((e) => e.type)}, ${column((e) => e.source)},
        ${column((e) => e.subject)}, ${column((e) => e.organizationId)}, ${column((e) => e.planId)},
        ${column((e) => e.auditId)}, ${column((e) => e.time.toISOString())}, ${column((e) => JSON.stringify(e.data))})
        with ordinality as r(id, type, source, subject, organization_id, plan_id, audit_id, time, data, ord)
      order by r.ord
      -- An event that exists already was relayed by a run whose commit survived a position moved back by hand
      -- (ids follow from the change: relay/events.ts, eventIds): it is neither written nor delivered again.
      on conflict (id) do nothing
      returning id, seq, type, organization_id, plan_id, time
    )
    , d as (
      insert into webhook_deliveries (subscription_id, event_id)
      select s.id, e.id
      from e
      join webhook_subscriptions s on e.type = any(s.event_types)
        and (s.organization_id is null or s.organization_id = e.organization_id)
        and (s.plan_id is null or s.plan_id = e.plan_id)
        and s.created_at <= e.time
      order by e.seq, s.id
      returning subscription_id
    )
    select subscription_id::text as subscription_id, count(*)::int as n from d group by subscription_id
  `);
  return new Map(rowsOf<{ subscription_id: string; n: number }>(result).map((r) => [r.subscription_id, Number(r.n)]));
}
