/**
 * Security headers, CORS by allow-list, and load shedding: under overload a fast 503 with
 * Retry-After beats a slow timeout for every caller.
 */
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';
import { sendProblem } from './errors.js';

export interface SecurityOptions {
  corsOrigins: string[];
  maxEventLoopDelayMs: number;
}

export async function registerSecurity(app: FastifyInstance, options: SecurityOptions) {
  await app.register(helmet, {
    // The interactive docs (/docs) and HTML reports run inline scripts and styles of their own.
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", "'unsafe-inline'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'validator.swagger.io'],
      },
    },
  });
  if (options.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: options.corsOrigins,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'if-match', 'if-none-match', 'x-request-id', 'accept-language'],
      exposedHeaders: ['etag', 'location', 'x-request-id', 'x-next-cursor', 'link', 'retry-after', 'www-authenticate'],
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
