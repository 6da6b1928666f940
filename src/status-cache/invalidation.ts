/**
 * Keeps a StatusCache true to the database: the notifications of migration 0015's triggers (one per
 * plan a commit changed) evict that plan's answers and every feed page; losing the listening
 * connection suspends the cache (empty, answering nothing) until LISTEN is back.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { ChannelListener, Listen } from '../db/listen.js';
import type { StatusCache } from './cache.js';

/** The channel of migration 0015's nysana_status_notify(). */
export const STATUS_CHANNEL = 'nysana_status';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function startInvalidation(listen: Listen, cache: StatusCache, log: FastifyBaseLogger): ChannelListener {
  return listen(STATUS_CHANNEL, {
    onNotify(payload) {
      // Anything but a plan id (a future trigger, a manual NOTIFY) means "something changed": drop all.
      if (UUID.test(payload)) cache.evictPlans([payload.toLowerCase()]);
      else cache.clear();
    },
    onListening() {
      cache.resume();
      log.info({ channel: STATUS_CHANNEL }, 'status cache: listening for changes, caching');
    },
    onLost(error) {
      cache.suspend();
      log.warn(
        { err: error, channel: STATUS_CHANNEL },
        'status cache: listening connection lost, serving uncached until it is back',
      );
    },
  });
}
