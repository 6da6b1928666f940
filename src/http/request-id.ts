/**
 * Request ids. Every request gets an id of the server's own (a UUID): the logs, the audit trail and
 * the `x-request-id` response header carry it, so no caller can make its entries share an id with
 * another's. A caller's own `x-request-id` (a gateway's trace id), when sane, is kept apart as the
 * correlation id: logged, stored in the audit trail next to the server's id, and echoed back as
 * `x-correlation-id`.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller's x-request-id when sane, else null. */
    correlationId: string | null;
  }
}

/** What a caller may send as its id: short, and nothing that could forge a log line or a header. */
const CALLER_ID = /^[\w.:-]{1,128}$/;

export const generateRequestId = () => randomUUID();

export function registerRequestIds(app: FastifyInstance) {
  app.decorateRequest('correlationId', null);
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    const given = request.headers['x-request-id'];
    if (typeof given === 'string' && CALLER_ID.test(given)) {
      request.correlationId = given;
      reply.header('x-correlation-id', given);
      request.log = request.log.child({ correlationId: given });
    }
    done();
  });
}
