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
import type { Dispatcher, DispatcherLogger } from './dispatcher/service.js';
import { createDispatcher } from './dispatcher/service.js';
import { createRelay } from './relay/service.js';

/** The relay's interface (src/webhooks/relay/service.ts, createRelay). */
export interface WebhookRelay {
  runOnce(): Promise<number>;
  start(): void;
  stop(): Promise<void>;
}
export interface RelayFactoryOptions {
  db: Db;
  listen?: Listen;
  config: Config;
  logger: DispatcherLogger;
  onEvents?: () => void;
}
export type RelayFactory = (options: RelayFactoryOptions) => WebhookRelay;

const relayFactory: RelayFactory = (options) => createRelay(options);

export interface WebhooksHandle {
  dispatcher: Dispatcher;
  relay: WebhookRelay | undefined;
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
  /** Tests and the bench pass their own relay factory or none. */
  relay?: RelayFactory;
}

export function registerWebhooks(app: FastifyInstance, { db, listen, config, relay = relayFactory }: WebhooksOptions) {
  app.decorate('webhooks', null);
  if (config.WEBHOOKS !== 'on') return;
  app.addHook('onReady', async () => {
    const logger = app.log;
    const dispatcher = createDispatcher({ db, config, logger });
    const r = relay?.({ db, listen, config, logger, onEvents: () => dispatcher.wake() });
    app.webhooks = { dispatcher, relay: r };
    dispatcher.start();
    r?.start();
  });
  app.addHook('onClose', async () => {
    const handle = app.webhooks;
    app.webhooks = null;
    // The relay first: it would wake the dispatcher.
    await handle?.relay?.stop();
    await handle?.dispatcher.stop();
  });
}
