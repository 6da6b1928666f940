/** Every SQL statement of the webhook subscriptions API and its delivery log. */
import { DrizzleQueryError, and, desc, eq, gte, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import type { Tx } from '../../db/tx.js';
import { after } from '../../db/keyset.js';
import {
  organizations,
  plans,
  webhookAttempts,
  webhookDeliveries,
  webhookEvents,
  webhookSubscriptions,
} from '../../db/schema.js';
import type { KeysetList } from '../../lists/keyset.js';
import { tableList } from '../../lists/table.js';
import type { Actor } from '../../shared/actor.js';
import type { WebhookSubscriptionValues } from './schemas.js';

export type SubscriptionRow = typeof webhookSubscriptions.$inferSelect;
export type AttemptRow = typeof webhookAttempts.$inferSelect;

/** Whose subscriptions a caller sees: every one (admins), or a service client's own. */
export type Scope = { all: true } | { all: false; clientId: string };

const visible = (scope: Scope) => (scope.all ? undefined : eq(webhookSubscriptions.clientId, scope.clientId));

/** The subscription `id` if the scope sees it; another client's is as absent as an unknown id. */
export async function findSubscription(
  executor: Db | Tx,
  scope: Scope,
  id: string,
  forUpdate = false,
): Promise<SubscriptionRow | undefined> {
  let query = executor
    .select()
    .from(webhookSubscriptions)
    .where(and(eq(webhookSubscriptions.id, id), visible(scope)))
    .$dynamic();
  if (forUpdate) query = query.for('update');
  return (await query)[0];
}

/** The organization a plan belongs to; undefined when the plan does not exist. Share-locked for the write. */
export async function planOrganization(tx: Tx, planId: string): Promise<string | undefined> {
  const rows = await tx
    .select({ organizationId: plans.organizationId })
    .from(plans)
    .where(eq(plans.id, planId))
    .for('share');
  return rows[0]?.organizationId;
}

export async function organizationExists(tx: Tx, organizationId: string): Promise<boolean> {
  const rows = await tx
    .select({ id: organizations.id })
    .from(organizations)
    .where(eq(organizations.id, organizationId))
    .for('share');
  return rows.length > 0;
}

/**
 * Runs a statement that carries a signing secret as a parameter. drizzle's error for a failed statement
 * lists its parameters in its message and `params`, and the error handler logs errors whole: the secret
 * is replaced there (the driver's error, its `cause`, stays for the SQLSTATE the handler maps).
 */
async function carryingSecret<T>(secret: string, statement: () => Promise<T>): Promise<T> {
  try {
    return await statement();
  } catch (error) {
    if (!(error instanceof DrizzleQueryError)) throw error;
    const params = error.params.map((p: unknown) => (p === secret ? '[webhook secret]' : p));
    throw new DrizzleQueryError(error.query, params, error.cause as Error | undefined);
  }
}

export async function insertSubscription(
  tx: Tx,
  values: WebhookSubscriptionValues & { clientId: string | null; secret: string },
  actor: Actor,
): Promise<SubscriptionRow> {
  const [row] = await carryingSecret(values.secret, () =>
    tx
      .insert(webhookSubscriptions)
      .values({
        ...values,
        eventTypes: [...values.eventTypes],
        createdByKind: actor.kind,
        createdBy: actor.id,
        // A subscription created disabled says so, as one disabled later does.
        ...(values.enabled ? {} : { disabledReason: 'created disabled', disabledAt: sql`now()` }),
      })
      .returning(),
  );
  return row!;
}

/**
 * Writes the merged values. 'enable' clears what a disabling left (reason, time, failure count), so the
 * dispatcher starts afresh; 'disable' records when and why (by hand, through the API).
 */
export async function updateSubscription(
  tx: Tx,
  id: string,
  values: WebhookSubscriptionValues,
  state: 'enable' | 'disable' | undefined,
): Promise<SubscriptionRow> {
  const transition =
    state === 'enable'
      ? { disabledReason: null, disabledAt: null, consecutiveFailures: 0 }
      : state === 'disable'
        ? { disabledReason: 'disabled through the API', disabledAt: sql`now()` }
        : {};
  const [row] = await tx
    .update(webhookSubscriptions)
    .set({
      ...values,
      eventTypes: [...values.eventTypes],
      ...transition,
      version: sql`${webhookSubscriptions.version} + 1`,
      updatedAt: sql`now()`,
    })
    .where(eq(webhookSubscriptions.id, id))
    .returning();
  return row!;
}

/** The new (sealed) secret in place; the current one becomes the previous, signing until now + `hours`. */
export async function rotateSecret(tx: Tx, id: string, secret: string, hours: number): Promise<SubscriptionRow> {
  const [row] = await carryingSecret(secret, () =>
    tx
      .update(webhookSubscriptions)
      .set({
        secret,
        // The right-hand side reads the row as it was: the secret being replaced.
        previousSecret: sql`${webhookSubscriptions.secret}`,
        previousSecretExpiresAt: sql`now() + make_interval(hours => ${hours}::int)`,
        version: sql`${webhookSubscriptions.version} + 1`,
        updatedAt: sql`now()`,
      })
      .where(eq(webhookSubscriptions.id, id))
      .returning(),
  );
  return row!;
}

export async function deleteSubscription(tx: Tx, id: string): Promise<void> {
  await tx.delete(webhookSubscriptions).where(eq(webhookSubscriptions.id, id));
}

/** The scope's subscriptions, oldest first, keyset-paginated on (createdAt, id). */
export const subscriptionList = <Dto>(scope: Scope, toDto: (row: SubscriptionRow) => Dto) =>
  tableList({
    table: webhookSubscriptions,
    where: [visible(scope)],
    orderBy: [webhookSubscriptions.createdAt, webhookSubscriptions.id],
    toDto,
  });

// ---- the delivery log --------------------------------------------------------------------------

const deliveryColumns = {
  id: webhookDeliveries.id,
  eventId: webhookDeliveries.eventId,
  eventType: webhookEvents.type,
  status: webhookDeliveries.status,
  attempts: webhookDeliveries.attempts,
  nextAttemptAt: webhookDeliveries.nextAttemptAt,
  lastStatusCode: webhookDeliveries.lastStatusCode,
  lastError: webhookDeliveries.lastError,
  createdAt: webhookDeliveries.createdAt,
  completedAt: webhookDeliveries.completedAt,
};

export interface DeliveryRow {
  id: number;
  eventId: string;
  eventType: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  nextAttemptAt: Date;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: Date;
  completedAt: Date | null;
}

/**
 * A subscription's deliveries with their event's type, newest first (by id: a delivery's id grows with
 * its insertion, so this is also creation order), keyset-paged on the id.
 */
export function deliveryList<Dto>(
  subscriptionId: string,
  filter: { status?: DeliveryRow['status']; eventId?: string },
  toDto: (row: DeliveryRow) => Dto,
): KeysetList<DeliveryRow, Dto> {
  const where = and(
    eq(webhookDeliveries.subscriptionId, subscriptionId),
    filter.status ? eq(webhookDeliveries.status, filter.status) : undefined,
    filter.eventId ? eq(webhookDeliveries.eventId, filter.eventId) : undefined,
  );
  // The cursor decoding and count of the one-table list; only the page joins the event.
  const base = tableList({
    table: webhookDeliveries,
    where: [where],
    orderBy: [webhookDeliveries.id],
    direction: 'desc',
    toDto: () => undefined,
  });
  return {
    decodeCursor: base.decodeCursor,
    fetch: (db, from, size) =>
      db
        .select(deliveryColumns)
        .from(webhookDeliveries)
        .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
        .where(and(where, from ? after([webhookDeliveries.id], from, 'desc') : undefined))
        .orderBy(desc(webhookDeliveries.id))
        .limit(size),
    keyOf: (row) => [row.id],
    toDto,
    count: base.count,
  };
}

/** A subscription's attempts, newest first, keyset-paged on the id. */
export const attemptList = <Dto>(
  subscriptionId: string,
  eventId: string | undefined,
  toDto: (row: AttemptRow) => Dto,
) =>
  tableList({
    table: webhookAttempts,
    where: [
      eq(webhookAttempts.subscriptionId, subscriptionId),
      eventId ? eq(webhookAttempts.eventId, eventId) : undefined,
    ],
    orderBy: [webhookAttempts.id],
    direction: 'desc',
    toDto,
  });

/**
 * The events the subscription had deliveries for (the event `eventId`, or every one whose time is at or
 * after `since`), in commit order, at most `limit`; `pending` when one of its deliveries is still pending.
 */
export async function eventsDelivered(
  tx: Tx,
  subscriptionId: string,
  which: { eventId?: string; since?: Date },
  limit: number,
): Promise<{ id: string; pending: boolean }[]> {
  const delivered = tx
    .selectDistinct({ eventId: webhookDeliveries.eventId })
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.subscriptionId, subscriptionId));
  return tx
    .select({
      id: webhookEvents.id,
      // Qualified by hand: drizzle leaves a one-table select's columns unqualified, and "id" is in both.
      pending: sql<boolean>`exists (select 1 from webhook_deliveries p
        where p.subscription_id = ${subscriptionId}::uuid and p.event_id = webhook_events.id and p.status = 'pending')`,
    })
    .from(webhookEvents)
    .where(
      and(
        inArray(webhookEvents.id, delivered),
        which.eventId ? eq(webhookEvents.id, which.eventId) : undefined,
        which.since ? gte(webhookEvents.time, which.since) : undefined,
      ),
    )
    .orderBy(webhookEvents.seq)
    .limit(limit);
}

/** New pending deliveries, in the order given (ids grow in that order, which the dispatcher follows). */
export async function insertDeliveries(tx: Tx, subscriptionId: string, eventIds: string[]): Promise<number[]> {
  if (eventIds.length === 0) return [];
  const rows = await tx
    .insert(webhookDeliveries)
    .values(eventIds.map((eventId) => ({ subscriptionId, eventId })))
    .returning({ id: webhookDeliveries.id });
  return rows.map((r) => r.id);
}

export async function insertTestEvent(
  tx: Tx,
  event: { source: string; subject: string; type: string; data: Record<string, unknown> },
): Promise<string> {
  const [row] = await tx
    .insert(webhookEvents)
    .values({ ...event, time: sql`now()` })
    .returning({ id: webhookEvents.id });
  return row!.id;
}
