/**
 * One HTTP POST of a webhook to the address the target guard checked (src/webhooks/target.ts): the
 * socket connects to that address through `lookup`, so no second DNS answer can steer it elsewhere,
 * while the URL's host stays the Host header and the TLS server name (SNI and certificate checks).
 * No redirects are followed (node:http never follows them; a 3xx is a failure to the caller), the
 * connect and the response each have a timeout, and at most PREFIX_BYTES of the body are read before
 * the socket is destroyed: a receiver cannot make us buffer or wait for more than that.
 *
 * Sockets are kept alive in pools keyed by the URL's origin AND the checked address (SocketPools): a
 * delivery only reuses a socket that was connected to the address checked for it, so a changed DNS
 * answer gets a new connection (the old pool idles out). Without them every event paid a TCP connect
 * (and, over https, a full TLS handshake).
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { LookupFunction } from 'node:net';
import type { ResolvedAddress } from '../target.js';
import { hostOf } from '../target.js';

export const PREFIX_BYTES = 1024;
/** Below the common servers' keep-alive timeouts (Node's 5 s): we close first, rarely reuse a closed one. */
const IDLE_MS = 4_000;
/** Origin-address pairs kept; the least recently used one is dropped (its idle sockets closed). */
const MAX_POOLS = 64;
/** Idle sockets kept per pool: deliveries to one subscription go one at a time. */
const MAX_IDLE_SOCKETS = 4;

export interface SendRequest {
  url: URL;
  address: ResolvedAddress;
  headers: Record<string, string>;
  body: string;
  connectTimeoutMs: number;
  responseTimeoutMs: number;
  /** Keep-alive pools; without them the socket is closed after the response. */
  pools?: SocketPools;
}

export interface SendResult {
  /** Undefined when no response came (refused, timeout, TLS error). */
  statusCode?: number;
  /** What went wrong at the transport level; undefined when a response came. */
  error?: string;
  /** The first PREFIX_BYTES of the body, as text. */
  responsePrefix?: string;
  durationMs: number;
}

export interface SocketPools {
  /** The agent whose sockets all connect to `address` for `url`'s origin. */
  agentFor(url: URL, address: ResolvedAddress): http.Agent;
  /** Open pools (tests). */
  readonly size: number;
  /** Closes every pooled socket, busy ones too (the dispatcher stops: their leases run out). */
  close(): void;
}

function lookupOf(address: ResolvedAddress): LookupFunction {
  return (_host, options, callback) => {
    // Node asks for all addresses when it may try several families (autoSelectFamily).
    if (options.all) (callback as (e: null, a: ResolvedAddress[]) => void)(null, [address]);
    else callback(null, address.address, address.family);
  };
}

export function createSocketPools(): SocketPools {
  // A Map keeps insertion order: re-inserting on use makes the first key the least recently used.
  const pools = new Map<string, http.Agent>();
  const closeIdle = (agent: http.Agent) => {
    for (const sockets of Object.values(agent.freeSockets)) for (const s of sockets ?? []) s.destroy();
  };
  return {
    agentFor(url, address) {
      const key = `${url.origin} ${address.address}`;
      let agent = pools.get(key);
      if (agent) pools.delete(key);
      else {
        const options = {
          keepAlive: true,
          timeout: IDLE_MS,
          maxFreeSockets: MAX_IDLE_SOCKETS,
          scheduling: 'lifo' as const,
          lookup: lookupOf(address),
        };
        agent = url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
        if (pools.size >= MAX_POOLS) {
          const [oldest, old] = pools.entries().next().value as [string, http.Agent];
          pools.delete(oldest);
          closeIdle(old);
        }
      }
      pools.set(key, agent);
      return agent;
    },
    get size() {
      return pools.size;
    },
    close() {
      for (const agent of pools.values()) agent.destroy();
      pools.clear();
    },
  };
}

/** Never rejects: every outcome is a result the dispatcher records. */
export async function send(request: SendRequest): Promise<SendResult> {
  const started = performance.now();
  const first = await sendOnce(request, started);
  // A pooled socket the receiver closed while it idled fails at once, before any answer: the request
  // never reached it, so it goes again on a new connection.
  if (first.retry) return sendOnce({ ...request, pools: undefined }, started);
  return first;
}

function sendOnce(request: SendRequest, started: number): Promise<SendResult & { retry?: boolean }> {
  const { url, address } = request;
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const chunks: Buffer[] = [];
    let received = 0;
    let statusCode: number | undefined;
    const finish = (error?: string, keep = false, retry = false) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // A socket whose answer was not read to its end (cut at the prefix, an error, a timeout) is not reused.
      if (!keep) req.destroy();
      // PostgreSQL text cannot hold NUL: a binary answer would otherwise fail the attempt's record.
      const prefix = Buffer.concat(chunks).subarray(0, PREFIX_BYTES).toString('utf8').replaceAll('\u0000', '');
      resolve({
        statusCode,
        error: statusCode === undefined ? (error ?? 'no response') : undefined,
        responsePrefix: statusCode === undefined ? undefined : prefix,
        durationMs: Math.round(performance.now() - started),
        retry,
      });
    };
    const req = transport.request(url, {
      method: 'POST',
      headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
      // A pooled socket was connected to this very address (the pool's key); a fresh one connects to it.
      ...(request.pools
        ? { agent: request.pools.agentFor(url, address) }
        : { agent: false, lookup: lookupOf(address) }),
      // SNI and the certificate check name the URL's host (an IP literal gets no SNI, per RFC 6066).
      servername: url.protocol === 'https:' && isIP(hostOf(url)) === 0 ? hostOf(url) : undefined,
    });
    let timer = setTimeout(
      () => finish(`connect timeout after ${request.connectTimeoutMs} ms`),
      request.connectTimeoutMs,
    );
    const connected = () => {
      clearTimeout(timer);
      timer = setTimeout(
        () => finish(`response timeout after ${request.responseTimeoutMs} ms`),
        request.responseTimeoutMs,
      );
    };
    req.on('socket', (socket) => {
      if (req.reusedSocket) connected();
      else socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', connected);
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      const stale =
        req.reusedSocket && statusCode === undefined && (error.code === 'ECONNRESET' || error.code === 'EPIPE');
      finish(error.code ? `${error.code}: ${error.message}` : error.message, false, stale);
    });
    req.on('response', (res) => {
      statusCode = res.statusCode;
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        received += chunk.length;
        if (received >= PREFIX_BYTES) finish();
      });
      // Read to its end: the socket goes back to its pool (unless the receiver said Connection: close).
      res.on('end', () => finish(undefined, true));
      res.on('error', () => finish());
      res.on('aborted', () => finish());
    });
    req.end(request.body);
  });
}
