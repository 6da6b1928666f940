/**
 * The dispatcher: takes due deliveries (repository.claimDue), signs them per the Standard Webhooks
 * specification, sends them (sender.ts) to the address the target guard checked, and records each
 * attempt. Every replica runs one; SKIP LOCKED and the lease make each delivery go to one of them, and a
 * crashed one's lease runs out so another sends it again (at least once, same webhook-id).
 *
 * It keeps up to WEBHOOK_CONCURRENCY sends in flight (each to a different subscription: a subscription's
 * deliveries go one at a time, in order, claimed and recorded in batches) and claims again as each batch
 * finishes. At most half of them (at least one) go to subscriptions whose last attempt failed: receivers
 * that hang until the timeout cannot take every slot and hold up the healthy subscriptions. It wakes on the
 * relay's onEvents (wake()), at the earliest time a pending delivery becomes due, and at least every
 * WEBHOOK_POLL_MS; the delivery log is pruned hourly.
 */
import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import { toCloudEvent } from '../catalog.js';
import { signatureHeader, signingKeys } from '../secret.js';
import type { Lookup, TargetPolicy } from '../target.js';
import { TargetRefused, checkTargetUrl, resolveTarget } from '../target.js';
import type { AttemptOutcome, ClaimedDelivery, Pruned, Succeeded } from './repository.js';
import { claimDue, msUntilNextDue, pruneLog, recordFailure, recordSuccesses, releaseClaims } from './repository.js';
import { createSocketPools, send } from './sender.js';

export type DispatcherConfig = Pick<
  Config,
  | 'WEBHOOK_ALLOW_HTTP'
  | 'WEBHOOK_ALLOW_PRIVATE_TARGETS'
  | 'WEBHOOK_RETRY_HOURS'
  | 'WEBHOOK_CONNECT_TIMEOUT_MS'
  | 'WEBHOOK_RESPONSE_TIMEOUT_MS'
  | 'WEBHOOK_POLL_MS'
  | 'WEBHOOK_CONCURRENCY'
  | 'WEBHOOK_RETENTION_DAYS'
  | 'JWT_KEY_ENCRYPTION_SECRET'
>;

/** pino's and Fastify's loggers fit. */
export interface DispatcherLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface DispatcherOptions {
  db: Db;
  config: DispatcherConfig;
  logger: DispatcherLogger;
  /** DNS for the target guard (tests answer a name with a private address). */
  lookup?: Lookup;
  /** Backoff: the n-th retry waits a random time up to min(retryCapMs, retryBaseMs * 2^(n-1)). */
  retryBaseMs?: number;
  retryCapMs?: number;
  /** Added to the connect and response timeouts to make the lease. */
  leaseMarginMs?: number;
  /** How long stop() waits for sends in flight; after it their leases run out and they are sent again. */
  stopTimeoutMs?: number;
  /** Deliveries of one subscription claimed, sent one after the other and recorded together. */
  batchSize?: number;
  random?: () => number;
}

export interface Dispatcher {
  /** Sends what is due until nothing is; answers how many deliveries were attempted. */
  runOnce(): Promise<number>;
  /**
   * Claim again now: deliveries were queued (for these subscriptions, when known). Not when every one named
   * has a batch in flight here: its end claims again, and a claim now would find their heads leased.
   */
  wake(subscriptions?: readonly string[]): void;
  start(): void;
  stop(): Promise<void>;
  /** The retention prune the hourly timer runs. */
  prune(now?: Date): Promise<Pruned>;
}

export const USER_AGENT = 'Nysana-Webhooks/1';
const PRUNE_EVERY_MS = 3_600_000;
const MIN_WAIT_MS = 25;
/**
 * A subscription's deliveries per claim. Under a stream of writes the relay queues a few at a time; one claim
 * and one record each for up to this many, instead of two statements (two commits) per delivered event.
 */
const BATCH_SIZE = 20;

/** Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): uniform in [0, min(cap, base * 2^(n-1))]. */
export function backoffMs(attempts: number, baseMs: number, capMs: number, random: () => number = Math.random) {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 30));
  return Math.round(random() * ceiling);
}

/** A slow DNS answer counts against the connect timeout: the lease only covers the timeouts and a margin. */
function withTimeout<T>(work: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(error()), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { db, config, logger } = options;
  const policy: TargetPolicy = {
    allowHttp: config.WEBHOOK_ALLOW_HTTP,
    allowPrivate: config.WEBHOOK_ALLOW_PRIVATE_TARGETS,
  };
  const retryBaseMs = options.retryBaseMs ?? 5_000;
  const retryCapMs = options.retryCapMs ?? 3_600_000;
  const leaseMarginMs = options.leaseMarginMs ?? 10_000;
  const leaseMs = config.WEBHOOK_CONNECT_TIMEOUT_MS + config.WEBHOOK_RESPONSE_TIMEOUT_MS + leaseMarginMs;
  const batchSize = Math.max(1, options.batchSize ?? BATCH_SIZE);
  const stopTimeoutMs = options.stopTimeoutMs ?? 5_000;
  const random = options.random ?? Math.random;

  const failingSlots = Math.max(1, Math.floor(config.WEBHOOK_CONCURRENCY / 2));
  const inFlight = new Set<Promise<void>>();
  /** The subscriptions with a batch in flight here. */
  const sending = new Set<string>();
  /** Sends in flight to subscriptions whose last attempt failed. */
  let failingInFlight = 0;
  let running = false;
  let stopping = false;
  let pumping: Promise<void> | undefined;
  let busy = false;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let pruneTimer: NodeJS.Timeout | undefined;
  const pools = createSocketPools();

  /** Sends one claimed delivery; never throws (every outcome is recorded). */
  async function attempt(claim: ClaimedDelivery): Promise<AttemptOutcome> {
    const started = performance.now();
    const failed = (error: string): AttemptOutcome => ({ error, durationMs: Math.round(performance.now() - started) });
    const now = new Date();
    let keys: Buffer[];
    try {
      keys = signingKeys(claim.subscription, now, config.JWT_KEY_ENCRYPTION_SECRET);
    } catch (error) {
      return failed(`signing secret unavailable: ${(error as Error).message}`);
    }
    let url: URL;
    let address;
    try {
      url = checkTargetUrl(claim.subscription.url, policy);
      [address] = await withTimeout(
        resolveTarget(url, policy, options.lookup),
        config.WEBHOOK_CONNECT_TIMEOUT_MS,
        () => new TargetRefused(`host ${url.hostname} did not resolve within ${config.WEBHOOK_CONNECT_TIMEOUT_MS} ms`),
      );
    } catch (error) {
      if (error instanceof TargetRefused) return failed(`target refused: ${error.message}`);
      throw error;
    }
    const body = JSON.stringify(toCloudEvent(claim.event));
    const timestamp = Math.floor(now.getTime() / 1000);
    const result = await send({
      url,
      address: address!,
      body,
      connectTimeoutMs: config.WEBHOOK_CONNECT_TIMEOUT_MS,
      responseTimeoutMs: config.WEBHOOK_RESPONSE_TIMEOUT_MS,
      pools,
      headers: {
        'content-type': 'application/cloudevents+json',
        'user-agent': USER_AGENT,
        'webhook-id': claim.event.id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signatureHeader(keys, claim.event.id, timestamp, body),
      },
    });
    if (result.statusCode !== undefined && result.statusCode >= 300 && result.statusCode < 400) {
      return { ...result, error: `HTTP ${result.statusCode}: redirects are not followed` };
    }
    return result;
  }

  const succeeded = (o: AttemptOutcome) => o.statusCode !== undefined && o.statusCode >= 200 && o.statusCode < 300;

  /**
   * Sends one subscription's claimed deliveries one after the other, in order, and records them: the
   * successes in one statement; at the first failure, that failure with its backoff, and the deliveries
   * behind it are released unattempted (they go after its retry, in order). A delivery behind the first
   * starts only within the first half of the lease's margin (so each send ends inside the lease) and not
   * while stopping; the rest are released. Never throws; answers how many were attempted.
   */
  async function deliver(batch: ClaimedDelivery[], claimedAt: number): Promise<number> {
    const done: Succeeded[] = [];
    let failure: { claim: ClaimedDelivery; outcome: AttemptOutcome } | undefined;
    let sent = 0;
    let broken = false;
    try {
      for (const claim of batch) {
        if (sent > 0 && (stopping || performance.now() - claimedAt > leaseMarginMs / 2)) break;
        let outcome: AttemptOutcome;
        try {
          outcome = await attempt(claim);
        } catch (err) {
          // Unrecorded, it stays leased (with the ones behind it) until the lease runs out, then goes again.
          logger.warn({ err, deliveryId: claim.id }, 'a webhook attempt failed unexpectedly; it will be retried');
          broken = true;
          break;
        }
        sent++;
        if (succeeded(outcome)) done.push({ claim, outcome });
        else {
          failure = { claim, outcome };
          break;
        }
      }
      await recordSuccesses(db, batch[0]!.subscription.id, done);
      if (failure) {
        const { claim, outcome } = failure;
        const delayMs = backoffMs(claim.attempts, retryBaseMs, retryCapMs, random);
        const result = await recordFailure(db, claim, outcome, { delayMs, retryHours: config.WEBHOOK_RETRY_HOURS });
        if (result === 'failed') {
          logger.warn(
            { deliveryId: claim.id, subscriptionId: claim.subscription.id, attempts: claim.attempts },
            'webhook delivery failed for good; its subscription is disabled',
          );
        }
      }
      if (!broken) await releaseClaims(db, batch.slice(sent));
    } catch (err) {
      // The database went away mid-record: the leases run out and the deliveries are sent again.
      logger.warn({ err, deliveryId: batch[0]!.id }, 'recording webhook attempts failed; they will be retried');
    }
    return sent;
  }

  /** Due deliveries of up to `limit` subscriptions, as one batch per subscription in id order. */
  async function claim(limit: number): Promise<{ batches: ClaimedDelivery[][]; claimedAt: number }> {
    const claimedAt = performance.now();
    const claimed = await claimDue(db, limit, leaseMs, Math.max(0, failingSlots - failingInFlight), batchSize);
    const bySubscription = new Map<string, ClaimedDelivery[]>();
    for (const c of claimed) {
      const batch = bySubscription.get(c.subscription.id);
      if (batch) batch.push(c);
      else bySubscription.set(c.subscription.id, [c]);
    }
    return { batches: [...bySubscription.values()], claimedAt };
  }

  /** Fills the free send slots until nothing more is due; one pump at a time, re-run when asked meanwhile. */
  function pump(): Promise<void> {
    if (busy) {
      again = true;
      return pumping!;
    }
    // A flag, not `pumping`: with nothing to claim the body can finish before `pumping` is assigned.
    busy = true;
    pumping = (async () => {
      try {
        do {
          again = false;
          while (!stopping && inFlight.size < config.WEBHOOK_CONCURRENCY) {
            const wanted = config.WEBHOOK_CONCURRENCY - inFlight.size;
            const { batches, claimedAt } = await claim(wanted);
            for (const batch of batches) {
              const failing = batch[0]!.failing;
              const subscription = batch[0]!.subscription.id;
              if (failing) failingInFlight++;
              sending.add(subscription);
              const p: Promise<void> = deliver(batch, claimedAt)
                .then(() => {})
                .finally(() => {
                  if (failing) failingInFlight--;
                  sending.delete(subscription);
                  inFlight.delete(p);
                  if (running && !stopping) void pump();
                });
              inFlight.add(p);
            }
            // Fewer than asked for: nothing else was due (what commits meanwhile wakes us: `again`).
            if (batches.length < wanted) break;
          }
        } while (again && !stopping);
      } catch (err) {
        logger.warn({ err }, 'claiming webhook deliveries failed; retrying at the next poll');
      } finally {
        // No await between the loop's last look at `again` and here: a wake-up is never lost.
        busy = false;
      }
    })();
    void pumping.then(() => (running && !stopping ? schedule() : undefined));
    return pumping;
  }

  /** The next wake-up: when the earliest pending delivery becomes due, at the latest after the poll. */
  async function schedule() {
    let wait = config.WEBHOOK_POLL_MS;
    // A send in flight claims again when it completes (and schedules again), so only the poll is needed
    // meanwhile: at most WEBHOOK_POLL_MS more for a retry that falls due during a slow send. Asked with
    // sends in flight, this query ran once per delivered event. (It also kept a failing head that cannot be
    // claimed while the failing slots are busy from making a 25 ms loop.)
    if (inFlight.size === 0) {
      try {
        const due = await msUntilNextDue(db);
        // At least MIN_WAIT_MS: a head that is due but was just claimed elsewhere must not make a busy loop.
        if (due !== undefined) wait = Math.min(wait, Math.max(Math.ceil(due) + 5, MIN_WAIT_MS));
      } catch {
        // The poll retries.
      }
    }
    if (!running || stopping) return;
    clearTimeout(timer);
    timer = setTimeout(() => void pump(), wait);
    timer.unref();
  }

  async function prune(now?: Date) {
    return pruneLog(db, config.WEBHOOK_RETENTION_DAYS, now);
  }

  return {
    async runOnce() {
      let attempted = 0;
      for (;;) {
        const { batches, claimedAt } = await claim(config.WEBHOOK_CONCURRENCY);
        if (batches.length === 0) return attempted;
        for (const sent of await Promise.all(batches.map((b) => deliver(b, claimedAt)))) attempted += sent;
      }
    },
    wake(subscriptions) {
      if (!running || stopping) return;
      if (subscriptions && subscriptions.length > 0 && subscriptions.every((id) => sending.has(id))) return;
      void pump();
    },
    start() {
      if (running) return;
      running = true;
      stopping = false;
      void pump();
      const pruneNow = async () => {
        try {
          const pruned = await prune();
          if (pruned.attempts + pruned.deliveries + pruned.events > 0)
            logger.info({ ...pruned }, 'pruned the webhook log');
        } catch (err) {
          logger.warn({ err }, 'pruning the webhook log failed; retrying in an hour');
        }
      };
      pruneTimer = setInterval(() => void pruneNow(), PRUNE_EVERY_MS);
      pruneTimer.unref();
    },
    async stop() {
      if (!running) return;
      stopping = true;
      running = false;
      clearTimeout(timer);
      clearInterval(pruneTimer);
      let bound: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        bound = setTimeout(resolve, stopTimeoutMs);
      });
      const drained = (async () => {
        await pumping; // a claim in progress may still add sends
        await Promise.all([...inFlight]);
      })();
      await Promise.race([drained, timeout]);
      clearTimeout(bound);
      pools.close();
    },
    prune,
  };
}
