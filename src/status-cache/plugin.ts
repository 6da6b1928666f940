/**
 * Wires the status cache into an app: the cache itself (on unless CACHE=off), its listener started
 * when the app is ready and closed with it, and the read-your-writes hook.
 *
 * Read-your-writes on the writer's instance: a successful write waits, before its response goes
 * out, for a barrier on this instance's own listening connection (ChannelListener.barrier): by then
 * the notifications of its commit have been delivered and have evicted here. Chosen over evicting
 * locally by the plan ids a route knows: the write routes would each have to find the plans they
 * touched (a measurement PATCH knows a measurement id, an import many), while the barrier reuses
 * the one eviction path every replica runs, whatever wrote and through whatever cascade. It costs
 * one round trip per successful write, and nothing on reads. On PGlite the notification arrives
 * before the COMMIT resolves, so the barrier is empty.
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import type { ChannelListener, Listen } from '../db/listen.js';
import { StatusCache } from './cache.js';
import { startInvalidation } from './invalidation.js';

export interface StatusCacheHandle {
  cache: StatusCache;
  /** The running listener (undefined before the app is ready and after it closed). */
  listener(): ChannelListener | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** null when the status cache is off. */
    statusCache: StatusCacheHandle | null;
  }
}

export interface StatusCacheOptions {
  config: Pick<Config, 'CACHE' | 'STATUS_CACHE_MAX_BYTES'>;
  /** LISTEN on the primary; without it nothing could invalidate, so there is no cache. */
  listen?: Listen;
  /**
   * The status routes read a streaming replica: a notification comes from the primary at commit,
   * possibly before the replica has replayed it, and a read then would cache the old answer past
   * its eviction. So no cache over a replica (the replica is the other way to scale these reads).
   */
  readsFromReplica: boolean;
}

/** The cache for an app, or undefined when it is off (CACHE=off, no listen, reads on a replica). */
export function createStatusCache({ config, listen, readsFromReplica }: StatusCacheOptions): StatusCache | undefined {
  if (config.CACHE === 'off' || !listen || readsFromReplica) return undefined;
  return new StatusCache(config.STATUS_CACHE_MAX_BYTES);
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export function registerStatusCache(app: FastifyInstance, cache: StatusCache | undefined, listen: Listen | undefined) {
  if (!cache || !listen) {
    app.decorate('statusCache', null);
    return;
  }
  let listener: ChannelListener | undefined;
  app.decorate('statusCache', { cache, listener: () => listener });
  app.addHook('onReady', async () => {
    listener = startInvalidation(listen, cache, app.log);
  });
  app.addHook('onClose', async () => {
    const l = listener;
    listener = undefined;
    cache.suspend();
    await l?.close();
  });
  // Callback style: it runs on every response, and returns at once for reads.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (SAFE.has(request.method) || reply.statusCode >= 400 || !listener) return done(null, payload);
    listener.barrier().then(
      () => done(null, payload),
      () => done(null, payload),
    );
  });
}
