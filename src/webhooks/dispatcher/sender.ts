/**
 * One HTTP POST of a webhook to the address the target guard checked (src/webhooks/target.ts): the
 * socket connects to that address through `lookup`, so no second DNS answer can steer it elsewhere,
 * while the URL's host stays the Host header and the TLS server name (SNI and certificate checks).
 * No redirects are followed (node:http never follows them; a 3xx is a failure to the caller), the
 * connect and the response each have a timeout, and at most PREFIX_BYTES of the body are read before
 * the socket is destroyed: a receiver cannot make us buffer or wait for more than that.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { LookupFunction } from 'node:net';
import type { ResolvedAddress } from '../target.js';
import { hostOf } from '../target.js';

export const PREFIX_BYTES = 1024;

export interface SendRequest {
  url: URL;
  address: ResolvedAddress;
  headers: Record<string, string>;
  body: string;
  connectTimeoutMs: number;
  responseTimeoutMs: number;
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

/** Never rejects: every outcome is a result the dispatcher records. */
export function send(request: SendRequest): Promise<SendResult> {
  const started = performance.now();
  const { url, address } = request;
  const lookup: LookupFunction = (_host, options, callback) => {
    // Node asks for all addresses when it may try several families (autoSelectFamily).
    if (options.all) (callback as (e: null, a: ResolvedAddress[]) => void)(null, [address]);
    else callback(null, address.address, address.family);
  };
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const chunks: Buffer[] = [];
    let received = 0;
    let statusCode: number | undefined;
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      // PostgreSQL text cannot hold NUL: a binary answer would otherwise fail the attempt's record.
      const prefix = Buffer.concat(chunks).subarray(0, PREFIX_BYTES).toString('utf8').replaceAll('\u0000', '');
      resolve({
        statusCode,
        error: statusCode === undefined ? (error ?? 'no response') : undefined,
        responsePrefix: statusCode === undefined ? undefined : prefix,
        durationMs: Math.round(performance.now() - started),
      });
    };
    const req = transport.request(url, {
      method: 'POST',
      headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
      lookup,
      // A fresh socket per delivery: a pooled one could have been opened to an address checked earlier.
      agent: false,
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
      socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', connected);
    });
    req.on('error', (error: NodeJS.ErrnoException) =>
      finish(error.code ? `${error.code}: ${error.message}` : error.message),
    );
    req.on('response', (res) => {
      statusCode = res.statusCode;
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        received += chunk.length;
        if (received >= PREFIX_BYTES) finish();
      });
      res.on('end', () => finish());
      res.on('error', () => finish());
      res.on('aborted', () => finish());
    });
    req.end(request.body);
  });
}
