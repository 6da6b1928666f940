/**
 * LISTEN on a PostgreSQL channel over a connection of its own (never a pooled one: a pooled
 * connection goes back to the pool and its LISTEN with it), reconnecting with backoff when the
 * connection is lost. The caller learns every state change (listening, lost) so it can stop
 * trusting whatever the notifications were protecting while it is deaf.
 *
 * On PGlite (one process, one connection) its own listen() delivers a transaction's notifications
 * before the COMMIT's promise resolves: there is nothing to lose and nothing to reconnect.
 */
import type { Client as PgClient } from 'pg';

export interface ChannelHandlers {
  onNotify(payload: string): void;
  /** LISTEN is in effect: every commit from now on will be notified. */
  onListening(): void;
  /** The connection is gone: notifications from now until the next onListening() are lost. */
  onLost(error: unknown): void;
}

export interface ChannelListener {
  /**
   * Resolves once every notification of a transaction that committed before the call has been
   * handed to onNotify. PostgreSQL signals the listening backend before the committing one answers
   * COMMIT, and the backend sends pending notifications before the answer to any later query on
   * its connection: so one round trip on the listening connection is the barrier.
   */
  barrier(): Promise<void>;
  /** The backend process id of the listening connection (tests terminate it). */
  backendPid(): number | undefined;
  close(): Promise<void>;
}

export type Listen = (channel: string, handlers: ChannelHandlers) => ChannelListener;

const CHANNEL = /^[a-z_][a-z0-9_]*$/;

export interface PostgresListenOptions {
  url: string;
  connectTimeoutMs: number;
  /** First wait before reconnecting; doubles per failed attempt up to maxBackoffMs. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export function postgresListen(options: PostgresListenOptions): Listen {
  return (channel, handlers) => {
    if (!CHANNEL.test(channel)) throw new Error(`not a plain channel name: ${channel}`);
    const minBackoff = options.minBackoffMs ?? 100;
    const maxBackoff = options.maxBackoffMs ?? 5_000;
    let client: PgClient | undefined;
    let closed = false;
    let failures = 0;
    let timer: NodeJS.Timeout | undefined;

    const schedule = () => {
      if (closed) return;
      // Full jitter: replicas that lost the server together do not all come back in one instant.
      const wait = Math.min(maxBackoff, minBackoff * 2 ** Math.min(failures, 16)) * (0.5 + Math.random() / 2);
      failures++;
      timer = setTimeout(() => void connect(), wait);
      timer.unref();
    };

    const connect = async () => {
      if (closed) return;
      const { default: pg } = await import('pg');
      const c = new pg.Client({
        connectionString: options.url,
        connectionTimeoutMillis: options.connectTimeoutMs,
        keepAlive: true,
        application_name: 'nysana-status-listener',
      });
      let lost = false;
      const onGone = (error: unknown) => {
        if (lost) return;
        lost = true;
        if (client === c) client = undefined;
        void c.end().catch(() => {});
        handlers.onLost(error);
        schedule();
      };
      c.on('error', onGone);
      c.on('end', () => onGone(new Error('listening connection ended')));
      c.on('notification', (message) => {
        if (message.channel === channel) handlers.onNotify(message.payload ?? '');
      });
      try {
        await c.connect();
        await c.query(`LISTEN ${channel}`);
      } catch (error) {
        onGone(error);
        return;
      }
      if (closed) {
        await c.end().catch(() => {});
        return;
      }
      if (lost) return;
      client = c;
      failures = 0;
      handlers.onListening();
    };

    void connect();
    return {
      async barrier() {
        const c = client;
        if (!c) return;
        // A failure here is a lost connection: onLost has dropped (or will drop) what needed the barrier.
        await c.query('select 1').catch(() => {});
      },
      backendPid: () => (client as { processID?: number } | undefined)?.processID,
      async close() {
        closed = true;
        if (timer) clearTimeout(timer);
        const c = client;
        client = undefined;
        if (c) {
          c.removeAllListeners('end');
          c.removeAllListeners('error');
          c.on('error', () => {});
          await c.end().catch(() => {});
        }
      },
    };
  };
}

/** The part of a PGlite instance this needs. */
export interface PgliteListenable {
  listen(channel: string, callback: (payload: string) => void): Promise<() => Promise<void>>;
}

export function pgliteListen(client: PgliteListenable): Listen {
  return (channel, handlers) => {
    let unlisten: Promise<(() => Promise<void>) | undefined> = client
      .listen(channel, (payload) => handlers.onNotify(payload))
      .then(
        (stop) => {
          handlers.onListening();
          return stop;
        },
        (error: unknown) => {
          handlers.onLost(error);
          return undefined;
        },
      );
    return {
      // Notifications arrive before the writing query's promise resolves (one process).
      barrier: async () => {},
      backendPid: () => undefined,
      async close() {
        const stop = await unlisten;
        unlisten = Promise.resolve(undefined);
        await stop?.().catch(() => {});
      },
    };
  };
}
