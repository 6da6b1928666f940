/**
 * The webhooks scenario's receiver (bench/webhooks.ts), in a process of its own: verifying ~700
 * signatures a second in the bench's process took CPU from the very load generator whose writes are
 * counted. It verifies every request with the `standardwebhooks` package (the reference implementation,
 * not our code) under the secret the bench sends it, answers 204 (400 to a signature that does not
 * verify, as a real receiver would), and counts. Over IPC (started with fork):
 *   parent -> child: { secret } (answered { ready: true }), { watch: boolean }, { stats: true }
 *   child -> parent: { url } once listening, { arrival: ms } for each measurement event while watched
 *   (performance.timeOrigin + performance.now(): comparable across processes), { stats: {...} }
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Webhook } from 'standardwebhooks';

export interface ReceiverStats {
  total: number;
  measurementEvents: number;
  /** Requests whose signature did not verify (or that were not webhooks at all). */
  bad: number;
}

type Message = { secret: string } | { watch: boolean } | { stats: true };

const stats: ReceiverStats = { total: 0, measurementEvents: 0, bad: 0 };
let webhook: Webhook | undefined;
let watching = false;
const reply = (message: object) => process.send!(message);

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const at = performance.timeOrigin + performance.now();
    const body = Buffer.concat(chunks).toString('utf8');
    let type: string;
    try {
      if (!webhook) throw new Error('no secret yet');
      type = (webhook.verify(body, req.headers as Record<string, string>) as { type?: string }).type ?? '';
    } catch {
      stats.bad++;
      res.statusCode = 400;
      res.end();
      return;
    }
    res.statusCode = 204;
    res.end();
    stats.total++;
    if (type.startsWith('kz.nysana.measurement.')) {
      stats.measurementEvents++;
      if (watching) reply({ arrival: at });
    }
  });
});

process.on('message', (m: Message) => {
  if ('secret' in m) {
    webhook = new Webhook(m.secret);
    reply({ ready: true });
  } else if ('watch' in m) watching = m.watch;
  else reply({ stats });
});
process.on('disconnect', () => {
  server.closeAllConnections();
  server.close();
});
server.listen(0, '127.0.0.1', () => reply({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks` }));
