/**
 * Bounds on streamed exports (CSV/XLSX without ?limit), so that downloads cannot starve the API:
 *
 * - At most EXPORT_CONCURRENCY run at once in a process. One more is refused at once with a 503
 *   problem and Retry-After, before it does any database work; it never queues for a connection
 *   until a pool timeout.
 * - A client that takes nothing for EXPORT_STALL_TIMEOUT_SECONDS while bytes wait for it is cut
 *   off: the socket is destroyed, Fastify then destroys the export's stream, which ends the row
 *   source (a cursor's transaction rolled back and its connection returned, src/db/cursor.ts), and
 *   the slot is free again.
 *
 * The database side of the same promise: exports read through their own pool
 * (src/db/export-handle.ts), so even the admitted ones never hold the API's connections.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Problem } from '../shared/schemas.js';
import { HttpProblem } from './problem.js';

declare module 'fastify' {
  interface FastifyInstance {
    exportGuard: ExportGuard;
  }
}

/**
 * Seconds a refused export is told to wait. A stalled download frees its slot within the stall
 * timeout, a healthy one when it ends; a few seconds keeps BI tools' retries cheap either way.
 */
export const EXPORT_RETRY_AFTER_SECONDS = 5;

/** The 503 of an exporting route in the OpenAPI document. */
export const exportBusyResponses = {
  503: Problem.describe(
    'Too many exports are running at once (EXPORT_CONCURRENCY), or the database is unavailable; retry after Retry-After seconds.',
  ),
};

export class ExportGuard {
  private active = 0;

  constructor(
    readonly limit: number,
    readonly stallMs: number,
  ) {}

  /** Exports running now (admitted and not yet closed). */
  get running(): number {
    return this.active;
  }

  /**
   * Admits the export answering `reply`, or throws the 503 problem. The slot is held until the
   * response closes (sent completely, aborted by the client, or cut off here as stalled).
   */
  enter(request: FastifyRequest, reply: FastifyReply): void {
    const res = reply.raw;
    if (res.destroyed) return; // the client left already: nothing will be streamed
    if (this.active >= this.limit) {
      throw new HttpProblem(
        503,
        `${this.limit} exports are running, the most this server runs at once; retry in ${EXPORT_RETRY_AFTER_SECONDS} s.`,
        undefined,
        { 'retry-after': String(EXPORT_RETRY_AFTER_SECONDS) },
      );
    }
    this.active++;
    const stopWatching = watchStall(res, this.stallMs, () => {
      request.log.warn(
        { stallSeconds: this.stallMs / 1000 },
        'export client took nothing for the stall timeout; connection closed',
      );
      res.destroy();
    });
    res.once('close', () => {
      stopWatching();
      this.active--;
    });
  }
}

/**
 * Calls `onStall` once when bytes have been waiting on the response's socket for `stallMs` without
 * any of them being taken (the socket's completed writes did not move). A response that is only
 * waiting for the database has nothing pending and is not stalled. Checked a few times per
 * period rather than with a timer per write: an export writes thousands of chunks.
 */
export function watchStall(res: ServerResponse, stallMs: number, onStall: () => void): () => void {
  const socket = res.socket;
  // inject() responses have no real socket; they cannot stall.
  if (!socket || typeof socket.bytesWritten !== 'number') return () => {};
  // Bytes the kernel has taken: those handed to the socket minus those still queued in Node.
  const taken = () => (socket.bytesWritten ?? 0) - socket.writableLength;
  const period = Math.max(50, Math.min(1_000, Math.floor(stallMs / 4)));
  let last = taken();
  let since = Date.now();
  let lastTick = since;
  const timer = setInterval(() => {
    const now = Date.now();
    // Time the event loop was blocked does not count: timers run before the socket's completed
    // writes are processed, so after a long synchronous stretch the count would look stuck.
    const blocked = now - lastTick - period;
    lastTick = now;
    if (blocked > period) since += blocked;
    const t = taken();
    if (socket.writableLength === 0 || t !== last) {
      last = t;
      since = now;
    } else if (now - since >= stallMs) {
      clearInterval(timer);
      onStall();
    }
  }, period);
  timer.unref();
  return () => clearInterval(timer);
}

export function registerExportGuard(
  app: FastifyInstance,
  o: { concurrency: number; stallTimeoutSeconds: number },
): void {
  app.decorate('exportGuard', new ExportGuard(o.concurrency, o.stallTimeoutSeconds * 1000));
}
