/**
 * The relay: committed audit rows -> webhook events -> deliveries, in commit order (docs/webhooks.md,
 * "The outbox is the audit trail"). Writers pay nothing for it: it reads the trail they write anyway.
 *
 * Each batch is one transaction holding the webhook_relay row (FOR UPDATE SKIP LOCKED: one replica relays
 * at a time, the others skip rather than wait): read the final audit rows after the position, turn them
 * into events, queue a delivery per matching subscription, move the position. A crash rolls the batch
 * back and the next run redoes it, so every committed change becomes its events exactly once.
 */
import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import type { Tx } from '../../db/tx.js';
import type { ChannelListener, Listen } from '../../db/listen.js';
import type { RuleSource } from '../../evaluation-methods/service.js';
import { rowScorer } from '../../status/scoring.js';
import { PlanTree, RELAYED_ENTITY_TYPES, contextIdsOf, eventsOf, rescoresIndicator } from './events.js';
import type { PlanRef } from './events.js';
import type { AuditRow, MeasurementValues, NewEvent, RelayPosition } from './repository.js';
import {
  committedAfter,
  insertEventsWithDeliveries,
  lockPosition,
  measurementValues,
  movePosition,
  readAudit,
  treeContext,
} from './repository.js';

/** The channel of migration 0018's audit_log trigger (one notification per writing statement). */
export const AUDIT_CHANNEL = 'nysana_audit';
/**
 * Pause between back-to-back relay runs while commits keep coming (see wake): each run is a commit and a few
 * fixed statements, so under a stream of writes fewer, larger runs cost less per event, for a
 * little more lag to a change made during the stream; an idle relay's first wake-up still runs at once
 * (measured in docs/benchmarks.md, "Webhooks round 2").
 */
const COALESCE_MS = 50;

/** Audit rows per batch. */
const BATCH_ROWS = 1_000;
/** The plan tree's rows: what a batch reads beyond its end for context (readBatch). */
const TREE_TYPES = ['plan', 'direction', 'goal', 'indicator'] as const;
const MAX_ROWS = Number.MAX_SAFE_INTEGER;

/** What a relay run wrote; `onEvents` hears it after the batch committed (the dispatcher wakes on it). */
export interface RelayedBatch {
  events: number;
  deliveries: number;
  /** The subscriptions those deliveries are for. */
  subscriptions: string[];
}
export type OnRelayedEvents = (batch: RelayedBatch) => void;

/** pino's and Fastify's loggers fit. */
export interface RelayLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface RelayOptions {
  db: Db;
  /** LISTEN for the audit trigger's wake-ups (src/db/listen.ts); without it the relay only polls. */
  listen?: Listen;
  config: Pick<Config, 'WEBHOOK_POLL_MS'>;
  logger: RelayLogger;
  onEvents?: OnRelayedEvents;
  /** Audit rows per batch (tests make it small to cross batch boundaries). */
  batchRows?: number;
}

export interface Relay {
  /** Relays until caught up with what has committed; answers the number of events written. */
  runOnce(): Promise<number>;
  /** Wakes on the audit channel (when a Listen was given) and every WEBHOOK_POLL_MS. */
  start(): void;
  /** Stops waking and waits for a run in progress. */
  stop(): Promise<void>;
}

type BatchResult = RelayedBatch & { more: boolean; heldBack: boolean };

const NOTHING: BatchResult = { events: 0, deliveries: 0, subscriptions: [], more: false, heldBack: false };

/** First retry after a run found committed rows held back by an older open transaction; doubles up to the poll. */
const HELD_BACK_RETRY_MS = 10;

export function createRelay(options: RelayOptions): Relay {
  const { db, listen, config, logger, onEvents } = options;
  const batchRows = options.batchRows ?? BATCH_ROWS;

  /**
   * One batch: at most batchRows audit rows after the position and below X = pg_snapshot_xmin (every
   * transaction below X has ended, and none can start below it, so that set is final). When the batch ends
   * inside a transaction, the plan rows that transaction deleted later in the trail (a cascade records the
   * deepest rows first) are read too, as context only: the measurements of a deleted indicator still find
   * its goal, direction and plan. Batches stay small, so a relay transaction never holds PGlite's one
   * connection for long.
   */
  async function readBatch(tx: Tx, from: RelayPosition, xmin: number) {
    const rows = await readAudit(tx, from, xmin, RELAYED_ENTITY_TYPES, batchRows);
    const full = rows.length === batchRows;
    const last = rows.at(-1);
    const context =
      full && last
        ? await readAudit(tx, { changeXid: last.changeXid, auditId: last.id }, last.changeXid + 1, TREE_TYPES, MAX_ROWS)
        : [];
    // Committed rows at or above X wait for an older transaction still running somewhere on the server.
    const heldBack = !full && (await committedAfter(tx, from, xmin, RELAYED_ENTITY_TYPES));
    return { rows, context, full, heldBack };
  }

  async function relayBatch(): Promise<BatchResult> {
    const now = new Date();
    return db.transaction(async (tx) => {
      const start = await lockPosition(tx);
      // Another replica holds the position; it may have looked before our wake-up's commit: look again soon.
      if (!start) return { ...NOTHING, heldBack: true };
      const { from, xmin, wanted } = start;
      // Nobody subscribes: no row would become an event, so the position moves past everything final
      // without reading it (a bulk write's thousand rows and their documents, parsed for nothing), and
      // rows held back by an older transaction need no early retry.
      const { rows, context, full, heldBack } =
        wanted.size === 0
          ? { rows: [] as AuditRow[], context: [], full: false, heldBack: false }
          : await readBatch(tx, from, xmin);
      const events = (await toEvents(tx, rows, context, now)).filter((e) => wanted.has(e.type));
      const queued = await insertEventsWithDeliveries(tx, events);
      // Past the last row read; when the batch was not full, everything below X has been seen.
      const last = rows.at(-1);
      const to = full && last ? { changeXid: last.changeXid, auditId: last.id } : { changeXid: xmin, auditId: 0 };
      if (to.changeXid > from.changeXid || (to.changeXid === from.changeXid && to.auditId > from.auditId)) {
        await movePosition(tx, to);
      }
      let deliveries = 0;
      for (const n of queued.values()) deliveries += n;
      return { events: events.length, deliveries, subscriptions: [...queued.keys()], more: full, heldBack };
    });
  }

  let stopped = false;
  /**
   * Relays until caught up. `heldBack`: committed rows still wait behind an older open transaction, or
   * another replica held the position (it may have looked before the commit that woke us).
   * A background run stops between batches when the relay is stopped; a direct runOnce() finishes.
   */
  async function drain(background = false): Promise<{ written: number; heldBack: boolean }> {
    let written = 0;
    for (;;) {
      const result = await relayBatch();
      written += result.events;
      if (result.events > 0) {
        onEvents?.({ events: result.events, deliveries: result.deliveries, subscriptions: result.subscriptions });
      }
      if (!result.more || (background && stopped)) return { written, heldBack: result.heldBack };
    }
  }

  // --- the background loop: one run at a time; a wake-up during a run asks for one more run ---
  let running: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let retry: NodeJS.Timeout | undefined;
  let coalesce: NodeJS.Timeout | undefined;
  let retryMs = HELD_BACK_RETRY_MS;
  let listener: ChannelListener | undefined;

  /**
   * A notification can come while the writer's transaction still counts as running (or another, older one
   * is open): the run then relays nothing of it. Try again soon, backing off to the poll interval, rather
   * than leave the change waiting for the next poll.
   */
  function retrySoon() {
    if (stopped || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      wake();
    }, retryMs);
    retry.unref();
    retryMs = Math.min(retryMs * 2, config.WEBHOOK_POLL_MS);
  }

  function wake() {
    if (stopped || coalesce) return; // a run is already due
    if (running) {
      again = true;
      return;
    }
    again = false;
    running = drain(true)
      .then(
        ({ heldBack }) => {
          if (!heldBack) retryMs = HELD_BACK_RETRY_MS;
          else retrySoon();
        },
        (error: unknown) => logger.error({ err: error }, 'webhook relay: run failed; retrying at the next wake-up'),
      )
      .finally(() => {
        running = undefined;
        // Under a stream of commits, gather a few more before the next run: one batch (a dozen statements)
        // then carries many writes instead of one each. An idle relay's first wake-up still runs at once.
        if (again && !stopped && !coalesce) {
          coalesce = setTimeout(() => {
            coalesce = undefined;
            wake();
          }, COALESCE_MS);
          coalesce.unref();
        }
      });
  }

  return {
    runOnce: async () => (await drain()).written,
    start() {
      stopped = false;
      if (listen && !listener) {
        listener = listen(AUDIT_CHANNEL, {
          onNotify: wake,
          // Whatever committed while deaf is in the trail: one run catches up.
          onListening: wake,
          onLost: (error) =>
            logger.warn({ err: error, channel: AUDIT_CHANNEL }, 'webhook relay: listening connection lost; polling'),
        });
      }
      timer ??= setInterval(wake, config.WEBHOOK_POLL_MS);
      timer.unref();
      wake();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      if (retry) clearTimeout(retry);
      if (coalesce) clearTimeout(coalesce);
      timer = retry = coalesce = undefined;
      const l = listener;
      listener = undefined;
      await l?.close();
      await running;
    },
  };
}

/**
 * A batch's events: one context query for the batch, one rule book when a plan names a method. `later`:
 * audit rows of the batch's last transaction beyond it, for where deleted rows sat.
 */
async function toEvents(
  db: Db | Tx,
  rows: readonly AuditRow[],
  later: readonly AuditRow[],
  now: Date,
): Promise<NewEvent[]> {
  if (rows.length === 0) return [];
  const known = [...rows, ...later];
  const tree = new PlanTree(await treeContext(db, contextIdsOf(known)), known);
  const methods = new Set<string>();
  for (const row of rows) {
    if (row.entityType !== 'measurement' && !rescoresIndicator(row)) continue;
    const id = row.entityType === 'indicator' ? row.entityId : (row.after ?? row.before)?.indicatorId;
    const methodId = typeof id === 'string' ? tree.planOf(id)?.methodId : null;
    if (methodId) methods.add(methodId);
  }
  // The status read model's rule (src/status/scoring.ts): a measurement is only written in an open year,
  // so the plan's method now scores it (an approved year's version never applies to a write).
  const source = (planMethodId: string | null): RuleSource => ({
    approved: false,
    approvalMethodVersionId: null,
    planMethodId,
  });
  const scorer = await rowScorer(db, [...methods].map(source), now);
  const rulesOf = (plan: PlanRef | null) => scorer(source(plan?.methodId ?? null)).rules;
  // An indicator edit that changes its scoring re-scores its measurements: one read for the batch.
  const rescored = rows.filter(rescoresIndicator).map((r) => r.entityId);
  const stored = new Map<string, MeasurementValues[]>();
  for (const m of await measurementValues(db, rescored)) {
    const list = stored.get(m.indicatorId);
    if (list) list.push(m);
    else stored.set(m.indicatorId, [m]);
  }
  const measurementsOf = (id: string) => stored.get(id) ?? [];
  return rows.flatMap((row) => eventsOf({ tree, rulesOf, now, measurementsOf }, row));
}
