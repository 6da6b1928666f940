/**
 * Webhook subscriptions (issue 20, docs/webhooks.md): who may manage them, the target and filter checks,
 * the signing secret shown once, rotation, and the delivery log's redelivery and test event.
 *
 * Who: an admin manages every subscription; a service client only its own (client_id = itself), so
 * another client's subscription answers 404 like an unknown id; any other caller gets 403. Every read of
 * the API is open to any authenticated caller (src/http/access.ts: reads are `viewer`, the lowest role,
 * with no per-organization read rule), so a client may filter on, and receive, any organization or plan.
 *
 * Secrets at rest: sealed with AES-256-GCM (src/webhooks/secret.ts over src/shared/sealed.ts, as the JWT
 * signing keys are) when JWT_KEY_ENCRYPTION_SECRET is set; stored plain otherwise. Plain is the same
 * choice the deployment already made for its own signing keys: without that setting there is no key to
 * seal with that the database dump would not also hold. The secret never reaches the audit trail or a GET.
 */
import { recordAudit } from '../../audit/record.js';
import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import type { Tx } from '../../db/tx.js';
import type { Actor } from '../../shared/actor.js';
import { iso } from '../../shared/decimal.js';
import { ForbiddenError, NotFoundError, invalid, notFound } from '../../shared/errors.js';
import type { IfMatch } from '../../shared/if-match.js';
import { checkIfMatch } from '../../shared/if-match.js';
import { applyMergePatch } from '../../shared/merge-patch.js';
import { TEST_EVENT_TYPE } from '../catalog.js';
import { newSigningSecret, sealSecret } from '../secret.js';
import type { Lookup, TargetPolicy } from '../target.js';
import { TargetRefused, checkTargetUrl, resolveTarget } from '../target.js';
import type { AttemptRow, DeliveryRow, Scope, SubscriptionRow } from './repository.js';
import {
  attemptList,
  deleteSubscription,
  deliveryList,
  eventsDelivered,
  findSubscription,
  insertDeliveries,
  insertSubscription,
  insertTestEvent,
  organizationExists,
  planOrganization,
  rotateSecret,
  subscriptionList,
  updateSubscription,
} from './repository.js';
import type {
  RedeliverBody,
  WebhookAttempt,
  WebhookDelivery,
  WebhookSubscription,
  WebhookSubscriptionPatch,
} from './schemas.js';
import { MAX_REDELIVER, MAX_URL_LENGTH, WebhookSubscriptionValues } from './schemas.js';

const ENTITY = 'webhookSubscription';
/** How long the previous secret keeps signing after a rotation: a day for receivers to switch. */
export const ROTATION_OVERLAP_HOURS = 24;
/** A test event's source: no plan, so the API root (docs/webhooks.md, CloudEvents attributes). */
const API_ROOT = '/api/v1';

export type SubscriptionConfig = Pick<
  Config,
  'JWT_KEY_ENCRYPTION_SECRET' | 'WEBHOOK_ALLOW_HTTP' | 'WEBHOOK_ALLOW_PRIVATE_TARGETS'
>;

/** The subscriptions `actor` manages; throws 403 for anyone but an admin or a service client. */
export function scopeOf(actor: Actor): Scope {
  if (actor.role === 'admin') return { all: true };
  if (actor.kind === 'client' && actor.id) return { all: false, clientId: actor.id };
  throw new ForbiddenError(
    'Webhook subscriptions are managed by admins, and by service clients (client credentials) for themselves.',
  );
}

export const toSubscriptionDto = (row: SubscriptionRow): WebhookSubscription => ({
  id: row.id,
  url: row.url,
  eventTypes: row.eventTypes as WebhookSubscription['eventTypes'],
  organizationId: row.organizationId,
  planId: row.planId,
  description: row.description,
  enabled: row.enabled,
  disabledReason: row.disabledReason,
  disabledAt: row.disabledAt ? iso(row.disabledAt) : null,
  consecutiveFailures: row.consecutiveFailures,
  clientId: row.clientId,
  createdBy: { kind: row.createdByKind as WebhookSubscription['createdBy']['kind'], id: row.createdBy },
  previousSecretExpiresAt: row.previousSecretExpiresAt ? iso(row.previousSecretExpiresAt) : null,
  version: row.version,
  createdAt: iso(row.createdAt),
  updatedAt: iso(row.updatedAt),
});

const toDeliveryDto = (row: DeliveryRow): WebhookDelivery => ({
  id: row.id,
  eventId: row.eventId,
  eventType: row.eventType,
  status: row.status,
  attempts: row.attempts,
  nextAttemptAt: row.status === 'pending' ? iso(row.nextAttemptAt) : null,
  lastStatusCode: row.lastStatusCode,
  lastError: row.lastError,
  createdAt: iso(row.createdAt),
  completedAt: row.completedAt ? iso(row.completedAt) : null,
});

const toAttemptDto = (row: AttemptRow): WebhookAttempt => ({
  id: row.id,
  deliveryId: row.deliveryId,
  eventId: row.eventId,
  attemptedAt: iso(row.attemptedAt),
  statusCode: row.statusCode,
  durationMs: row.durationMs,
  error: row.error,
  responsePrefix: row.responsePrefix,
});

/** What a PATCH merges onto. */
const storedValues = (row: SubscriptionRow) => ({
  url: row.url,
  eventTypes: row.eventTypes,
  organizationId: row.organizationId,
  planId: row.planId,
  description: row.description,
  enabled: row.enabled,
});

/** The PATCH merged onto what is stored, checked by the same schema as a POST body. */
function mergeValues(row: SubscriptionRow, patch: WebhookSubscriptionPatch): WebhookSubscriptionValues {
  const merged = WebhookSubscriptionValues.safeParse(applyMergePatch(storedValues(row), patch));
  if (!merged.success) {
    throw invalid(
      'The patched subscription is not valid; see errors.',
      merged.error.issues.map((i) => ({ path: ['body', ...i.path.map(String)].join('.'), message: i.message })),
    );
  }
  return merged.data;
}

/** The organization and plan filters name rows that exist, and a plan of the organization when both are given. */
async function checkFilters(tx: Tx, values: Pick<WebhookSubscriptionValues, 'organizationId' | 'planId'>) {
  if (values.organizationId && !(await organizationExists(tx, values.organizationId))) {
    throw invalid('The organization does not exist.', [
      { path: 'body.organizationId', message: 'unknown organization' },
    ]);
  }
  if (!values.planId) return;
  const owner = await planOrganization(tx, values.planId);
  if (owner === undefined) {
    throw invalid('The plan does not exist.', [{ path: 'body.planId', message: 'unknown plan' }]);
  }
  if (values.organizationId && owner !== values.organizationId) {
    throw invalid('The plan belongs to another organization than the organization filter.', [
      { path: 'body.planId', message: 'a plan of another organization' },
    ]);
  }
}

const missing = (id: string) => notFound('webhook subscription', id);

export function webhookSubscriptionService(deps: {
  db: Db;
  config: SubscriptionConfig;
  lookup?: Lookup;
  /** Deliveries were queued and committed (a redelivery, a test event): this replica sends them now, not at its next poll. */
  onQueued?: () => void;
}) {
  const { db, config } = deps;
  const policy: TargetPolicy = {
    allowHttp: config.WEBHOOK_ALLOW_HTTP,
    allowPrivate: config.WEBHOOK_ALLOW_PRIVATE_TARGETS,
  };
  const seal = (secret: string) => sealSecret(secret, config.JWT_KEY_ENCRYPTION_SECRET);

  /**
   * The URL's form and every address its host resolves to; outside any transaction (DNS takes its time).
   * Answers the URL as parsed (WHATWG serialization), which is what is stored: the URL the dispatcher
   * connects to, not the text sent, which may hide tabs or newlines (removed by parsing), bidi or other
   * invisible characters (percent-encoded) or an IPv4 host in decimal, octal or hex form (shown dotted).
   */
  async function checkTarget(raw: string): Promise<string> {
    try {
      const url = checkTargetUrl(raw, policy);
      await resolveTarget(url, policy, deps.lookup);
      if (url.href.length > MAX_URL_LENGTH) {
        throw new TargetRefused(`url is longer than ${MAX_URL_LENGTH} characters once percent-encoded`);
      }
      return url.href;
    } catch (error) {
      if (error instanceof TargetRefused) throw invalid(error.message, [{ path: 'body.url', message: error.message }]);
      throw error;
    }
  }

  /** The visible subscription, locked for the write, and If-Match checked. */
  async function locked(tx: Tx, scope: Scope, id: string, ifMatch: IfMatch): Promise<SubscriptionRow> {
    const row = await findSubscription(tx, scope, id, true);
    if (!row) throw missing(id);
    checkIfMatch(ifMatch, row.version);
    return row;
  }

  async function visibleOrMissing(scope: Scope, id: string, executor: Db | Tx = db): Promise<SubscriptionRow> {
    const row = await findSubscription(executor, scope, id);
    if (!row) throw missing(id);
    return row;
  }

  return {
    async create(
      actor: Actor,
      input: WebhookSubscriptionValues,
    ): Promise<{ dto: WebhookSubscription; secret: string }> {
      const scope = scopeOf(actor);
      const url = await checkTarget(input.url);
      const secret = newSigningSecret();
      const row = await db.transaction(async (tx) => {
        await checkFilters(tx, input);
        const created = await insertSubscription(
          tx,
          { ...input, url, clientId: scope.all ? null : scope.clientId, secret: seal(secret) },
          actor,
        );
        await recordAudit(tx, actor, {
          entityType: ENTITY,
          entityId: created.id,
          action: 'create',
          after: toSubscriptionDto(created),
        });
        return created;
      });
      return { dto: toSubscriptionDto(row), secret };
    },

    list(actor: Actor) {
      return { db, list: subscriptionList(scopeOf(actor), toSubscriptionDto) };
    },

    async get(actor: Actor, id: string): Promise<WebhookSubscription> {
      return toSubscriptionDto(await visibleOrMissing(scopeOf(actor), id));
    },

    /** A JSON merge patch; enabling clears the disabled reason, time and failure count. */
    async patch(
      actor: Actor,
      id: string,
      patch: WebhookSubscriptionPatch,
      ifMatch: IfMatch,
    ): Promise<WebhookSubscription> {
      const scope = scopeOf(actor);
      const url = patch.url === undefined ? undefined : await checkTarget(patch.url);
      const row = await db.transaction(async (tx) => {
        const current = await locked(tx, scope, id, ifMatch);
        const values = mergeValues(current, url === undefined ? patch : { ...patch, url });
        await checkFilters(tx, values);
        const state = patch.enabled === true ? 'enable' : !values.enabled && current.enabled ? 'disable' : undefined;
        const updated = await updateSubscription(tx, id, values, state);
        await recordAudit(tx, actor, {
          entityType: ENTITY,
          entityId: id,
          action: 'update',
          before: toSubscriptionDto(current),
          after: toSubscriptionDto(updated),
        });
        return updated;
      });
      return toSubscriptionDto(row);
    },

    /** Deletes the subscription with its deliveries and attempts (the events stay until retention). */
    async remove(actor: Actor, id: string, ifMatch: IfMatch): Promise<void> {
      const scope = scopeOf(actor);
      await db.transaction(async (tx) => {
        const current = await locked(tx, scope, id, ifMatch);
        await deleteSubscription(tx, id);
        await recordAudit(tx, actor, {
          entityType: ENTITY,
          entityId: id,
          action: 'delete',
          before: toSubscriptionDto(current),
        });
      });
    },

    /** A new secret, shown once; the previous one keeps signing beside it for ROTATION_OVERLAP_HOURS. */
    async rotateSecret(
      actor: Actor,
      id: string,
      ifMatch: IfMatch,
    ): Promise<{ dto: WebhookSubscription; secret: string }> {
      const scope = scopeOf(actor);
      const secret = newSigningSecret();
      const row = await db.transaction(async (tx) => {
        const current = await locked(tx, scope, id, ifMatch);
        const rotated = await rotateSecret(tx, id, seal(secret), ROTATION_OVERLAP_HOURS);
        await recordAudit(tx, actor, {
          entityType: ENTITY,
          entityId: id,
          action: 'update',
          before: toSubscriptionDto(current),
          after: toSubscriptionDto(rotated),
        });
        return rotated;
      });
      return { dto: toSubscriptionDto(row), secret };
    },

    deliveries(actor: Actor, id: string, filter: { status?: DeliveryRow['status']; eventId?: string }) {
      const scope = scopeOf(actor);
      return {
        db,
        list: deliveryList(id, filter, toDeliveryDto),
        parent: async () => void (await visibleOrMissing(scope, id)),
      };
    },

    attempts(actor: Actor, id: string, eventId: string | undefined) {
      const scope = scopeOf(actor);
      return {
        db,
        list: attemptList(id, eventId, toAttemptDto),
        parent: async () => void (await visibleOrMissing(scope, id)),
      };
    },

    /**
     * New pending deliveries of events the subscription had deliveries for: one event, or every one since
     * an instant (at most MAX_REDELIVER; more is refused, nothing queued). They go out after what is
     * already pending, in the events' commit order; a disabled subscription keeps them until enabled.
     * An event with a delivery still pending is not queued again: it goes out anyway, and repeated
     * redeliveries must not grow the queue (each call could otherwise add MAX_REDELIVER rows).
     */
    async redeliver(actor: Actor, id: string, body: RedeliverBody): Promise<number> {
      const scope = scopeOf(actor);
      const count = await db.transaction(async (tx) => {
        await visibleOrMissing(scope, id, tx);
        const which = body.eventId ? { eventId: body.eventId } : { since: new Date(body.since!) };
        const events = await eventsDelivered(tx, id, which, MAX_REDELIVER + 1);
        if (body.eventId && events.length === 0) {
          throw new NotFoundError(`webhook subscription ${id} has no delivery of event ${body.eventId}`);
        }
        if (events.length > MAX_REDELIVER) {
          throw invalid(`More than ${MAX_REDELIVER} events since ${body.since}; redeliver from a later instant.`, [
            { path: 'body.since', message: `more than ${MAX_REDELIVER} events` },
          ]);
        }
        const ids = events.filter((e) => !e.pending).map((e) => e.id);
        return (await insertDeliveries(tx, id, ids)).length;
      });
      if (count > 0) deps.onQueued?.();
      return count;
    },

    /** A test event for this subscription only (never fanned out), and its pending delivery. */
    async test(
      actor: Actor,
      id: string,
      message: string | undefined,
    ): Promise<{ eventId: string; deliveryId: number }> {
      const scope = scopeOf(actor);
      const queued = await db.transaction(async (tx) => {
        await visibleOrMissing(scope, id, tx);
        const eventId = await insertTestEvent(tx, {
          type: TEST_EVENT_TYPE,
          source: API_ROOT,
          subject: `${API_ROOT}/webhooks/subscriptions/${id}`,
          data: { subscriptionId: id, message: message ?? 'A test event from Nysana.' },
        });
        const [deliveryId] = await insertDeliveries(tx, id, [eventId]);
        return { eventId, deliveryId: deliveryId! };
      });
      deps.onQueued?.();
      return queued;
    },
  };
}
