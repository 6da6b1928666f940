/**
 * HTTP of the OData v4 feed at /odata/v1 (read-only): the service document, $metadata, entity
 * sets, entities by key, navigation and /$count. One wildcard GET route hands the path and the raw
 * query string to the service (OData paths such as `Plans('…')/Directions` and `$`-options are not
 * Fastify routes or zod query schemas); everything else answers 405.
 *
 * Access is the REST API's: any authenticated caller reads (viewer), by bearer token or by a
 * personal access token as the HTTP Basic password, which is what Power BI and Excel store. Errors,
 * the auth plugin's 401/403 included, leave in the OData error format (errors.ts), with the same
 * WWW-Authenticate challenges. The routes are hidden from the OpenAPI document: $metadata is the
 * feed's contract, and the README shows how to connect.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/client.js';
import { databaseProblem } from '../db/errors.js';
import { access } from '../http/access.js';
import { HttpProblem } from '../http/problem.js';
import { errorBody, ODataError } from './errors.js';
import type { FeedAnswer } from './service.js';
import { ODataService } from './service.js';
import { FEED_SETS } from './sets.js';

export const ODATA_PREFIX = '/odata/v1';

const JSON_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';
const XML_TYPE = 'application/xml;charset=utf-8';
const ERROR_CODES: Record<number, string> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  413: 'TooLarge',
  503: 'Unavailable',
};

/** odata.maxpagesize=N of a Prefer header, when given as a positive whole number. */
function preferredPageSize(prefer: string | string[] | undefined): number | undefined {
  const text = Array.isArray(prefer) ? prefer.join(',') : (prefer ?? '');
  const match = /(?:^|[,;\s])odata\.maxpagesize\s*=\s*"?(\d{1,9})"?/i.exec(text);
  const n = match ? Number(match[1]) : undefined;
  return n !== undefined && n > 0 ? n : undefined;
}

function send(reply: FastifyReply, answer: FeedAnswer) {
  reply.header('odata-version', '4.0');
  if (answer.type === 'xml') return reply.type(XML_TYPE).send(answer.body);
  if (answer.type === 'text') return reply.type('text/plain;charset=utf-8').send(answer.body);
  if (answer.pageSize !== undefined) reply.header('preference-applied', `odata.maxpagesize=${answer.pageSize}`);
  return reply.type(JSON_TYPE).serializer(JSON.stringify).send(answer.body);
}

function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
  target?: string,
) {
  return reply
    .code(status)
    .header('odata-version', '4.0')
    .type('application/json;charset=utf-8')
    .serializer(JSON.stringify)
    .send(
      errorBody(
        code,
        status >= 500 && status !== 501 && status !== 503 ? `${message} (request ${request.id})` : message,
        target,
      ),
    );
}

export function odataRoutes(app: FastifyInstance, db: Db) {
  const service = new ODataService(db, FEED_SETS);

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof ODataError)
      return sendError(request, reply.headers(error.headers), error.status, error.code, error.message, error.target);
    if (error instanceof HttpProblem) {
      reply.headers(error.headers);
      return sendError(request, reply, error.status, ERROR_CODES[error.status] ?? String(error.status), error.detail);
    }
    const fromDb = databaseProblem(error);
    if (fromDb) {
      reply.headers(fromDb.headers);
      if (fromDb.status >= 500) request.log.warn({ err: error }, 'database unavailable');
      return sendError(request, reply, fromDb.status, ERROR_CODES[fromDb.status] ?? 'BadQuery', fromDb.detail);
    }
    const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
    // Fastify's own client errors (415, 413, a malformed URL): their messages are safe to show.
    if (status >= 400 && status < 500)
      return sendError(request, reply, status, ERROR_CODES[status] ?? 'BadRequest', error.message);
    request.log.error({ err: error }, 'unhandled error in the OData feed');
    return sendError(
      request,
      reply,
      500,
      'InternalError',
      'An unexpected error occurred; quote the x-request-id header when reporting it.',
    );
  });

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const [pathAndPrefix = '', query = ''] = splitOnce(request.url, '?');
    const path = pathAndPrefix.slice(ODATA_PREFIX.length);
    const base = `${request.protocol}://${request.host}${ODATA_PREFIX}`;
    const answer = await service.answer({
      path,
      query,
      base,
      acceptLanguage: request.headers['accept-language'],
      maxPageSize: preferredPageSize(request.headers.prefer),
    });
    return send(reply, answer);
  };

  const config = { access: access.viewer };
  const schema = { hide: true };
  app.get('', { config, schema }, handler);
  app.get('/*', { config, schema }, handler);
  const readOnly = async () => {
    throw new ODataError(
      405,
      'MethodNotAllowed',
      'The OData feed is read-only; change data through /api/v1.',
      undefined,
      {
        allow: 'GET, HEAD',
      },
    );
  };
  app.route({ method: ['POST', 'PUT', 'PATCH', 'DELETE'], url: '/*', config, schema, handler: readOnly });
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + 1)];
}
