/**
 * Security headers, CORS by allow-list, and load shedding: under overload a fast 503 with
 * Retry-After beats a slow timeout for every caller.
 */
import cors from '@fastify/cors';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HelmetOptions } from 'helmet';
import helmet from 'helmet';
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';
import { sendProblem } from './errors.js';

export interface SecurityOptions {
  corsOrigins: string[];
  maxEventLoopDelayMs: number;
  /** Reached over HTTPS (PUBLIC_HTTPS): only then may the CSP say upgrade-insecure-requests. */
  publicHttps?: boolean;
}

/**
 * Content Security Policy: strict, with what the Swagger UI at /docs needs. Helmet adds
 * upgrade-insecure-requests by default; over plain HTTP (the Docker deployment reached without TLS)
 * that makes the browser fetch /docs/static/* over https, which nothing answers: a blank page.
 */
export function helmetOptions(publicHttps: boolean): HelmetOptions {
  return {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", "'unsafe-inline'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'validator.swagger.io'],
        upgradeInsecureRequests: publicHttps ? [] : null,
      },
    },
  };
}

/**
 * Helmet's headers for fixed options, worked out once. @fastify/helmet rebuilds the helmet
 * middleware (parsing every option) on every request: about 2% of a plan-status request's CPU
 * (node --cpu-prof). Our options hold no per-request values (no nonces), so the headers are
 * constant. A handler may still replace one (the HTML report sets its own CSP).
 */
export function helmetHeaders(options: HelmetOptions = helmetOptions(false)): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader: () => undefined,
  };
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, () => undefined);
  return headers;
}

export async function registerSecurity(app: FastifyInstance, options: SecurityOptions) {
  const headers = helmetHeaders(helmetOptions(options.publicHttps ?? false));
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
  if (options.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: options.corsOrigins,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'if-match', 'if-none-match', 'x-request-id', 'accept-language'],
      exposedHeaders: [
        'etag',
        'location',
        'x-request-id',
        'x-correlation-id',
        'x-next-cursor',
        'link',
        'x-total-count',
        'preference-applied',
        'retry-after',
        'www-authenticate',
      ],
      maxAge: 600,
    });
  }
  if (options.maxEventLoopDelayMs > 0) {
    await app.register(underPressure, {
      maxEventLoopDelay: options.maxEventLoopDelayMs,
      retryAfter: 5,
      exposeStatusRoute: false,
      pressureHandler: (request, reply) => {
        reply.header('retry-after', '5');
        void sendProblem(request, reply, 503, 'The server is overloaded; retry shortly.');
      },
    });
  }
}
