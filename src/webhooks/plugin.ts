/**
 * Starts this process's webhook relay and dispatcher with the app (when config.WEBHOOKS is 'on') and
 * stops them when it closes: the relay turns committed audit rows into deliveries and wakes the
 * dispatcher in-process (onEvents); the dispatcher also polls, so deliveries written by another
 * replica's relay go out too.
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import type { Listen } from '../db/listen.js';
import type { Dispatcher } from './dispatcher/service.js';
import { createDispatcher } from './dispatcher/service.js';
import { createRelay } from './relay/service.js';
import type { Relay } from './relay/service.js';

export interface WebhooksHandle {
  dispatcher: Dispatcher;
  relay: Relay;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** This process's relay and dispatcher; null when WEBHOOKS=off (or before the app is ready). */
    webhooks: WebhooksHandle | null;
  }
}

export interface WebhooksOptions {
  db: Db;
  listen?: Listen;
  config: Config;
}

export function registerWebhooks(app: FastifyInstance, { db, listen, config }: WebhooksOptions) {
  app.decorate('webhooks', null);
  if (config.WEBHOOKS !== 'on') return;
  app.addHook('onReady', async () => {
    const logger = app.log;
    const dispatcher = createDispatcher({ db, config, logger });
    const relay = createRelay({ db, listen, config, logger, onEvents: (b) => dispatcher.wake(b.subscriptions) });
    app.webhooks = { dispatcher, relay };
    dispatcher.start();
    relay.start();
  });
  app.addHook('onClose', async () => {
    const handle = app.webhooks;
    app.webhooks = null;
    // The relay first: it would wake the dispatcher.
    await handle?.relay.stop();
    await handle?.dispatcher.stop();
  });
}
