/**
 * A webhook receiver on 127.0.0.1 for the delivery tests and the bench: it verifies every request's
 * signature with the `standardwebhooks` package (the reference implementation, not our code) against
 * each secret it is given, and answers what the test's handler says (default 200).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
  /** For each secret given, whether the signature verified under it. */
  verified: boolean[];
  at: number;
}

export type Handler = (r: Received, res: http.ServerResponse) => void | Promise<void>;

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** Requests whose response has not been sent yet (a handler holding them open). */
  open: number;
  /** TCP connections accepted (keep-alive: many deliveries, one connection). */
  connections: number;
  handler: Handler;
  close(): Promise<void>;
}

export async function startReceiver(secrets: () => string[], port = 0, host = '127.0.0.1'): Promise<Receiver> {
  const receiver = {
    received: [] as Received[],
    open: 0,
    connections: 0,
    handler: ((_r, res) => void res.end('ok')) as Handler,
  } as Receiver;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]),
      );
      const verified = secrets().map((secret) => {
        try {
          new Webhook(secret).verify(body, headers);
          return true;
        } catch {
          return false;
        }
      });
      const r: Received = { path: req.url ?? '/', headers, body, verified, at: Date.now() };
      receiver.received.push(r);
      receiver.open++;
      res.on('close', () => receiver.open--);
      void Promise.resolve(receiver.handler(r, res)).catch(() => res.destroy());
    });
  });
  server.on('connection', () => receiver.connections++);
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `http://${host}:${receiver.port}/hooks`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}

/** A port nothing listens on (a receiver that is down). */
export async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls `check` until it holds; throws with `what` after `timeoutMs` (a hang, not a timing assertion). */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
