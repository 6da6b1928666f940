/**
 * Every error leaves as RFC 9457 application/problem+json. User input never produces a 500:
 * validation errors list every bad field, database constraint violations map to 4xx, and a
 * genuine 5xx hides its internals (the log keeps them, tied by the request id).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import type { FieldError } from './problem.js';
import { problemOf, titleFor } from './problem.js';
import { databaseProblem } from '../db/errors.js';
import { UnservableAnswer } from './serialize.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  detail: string,
  errors?: FieldError[],
) {
  const body: Record<string, unknown> = {
    type: status >= 500 ? 'about:blank' : `https://nysana.kz/problems/${status}`,
    title: titleFor(status),
    status,
    detail,
    instance: request.url,
  };
  if (errors && errors.length > 0) body.errors = errors;
  // Serialized by hand: the route's response schema must not get a chance to reject an error body.
  return reply.code(status).type(PROBLEM_CONTENT_TYPE).serializer(JSON.stringify).send(body);
}

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

function validationErrors(context: string | undefined, issues: ValidationIssue[]): FieldError[] {
  const prefix = context === 'querystring' ? 'query' : (context ?? 'body');
  const out: FieldError[] = [];
  for (const issue of issues) {
    const base = (issue.instancePath ?? '').split('/').filter(Boolean);
    const keys = issue.keyword === 'unrecognized_keys' ? (issue.params?.keys as string[] | undefined) : undefined;
    if (keys && keys.length > 0) {
      const message = prefix === 'query' ? 'unknown query parameter' : 'unknown field';
      for (const key of keys) out.push({ path: [prefix, ...base, key].join('.'), message });
    } else {
      out.push({ path: [prefix, ...base].join('.'), message: issue.message ?? 'invalid value' });
    }
  }
  return out;
}

export function registerErrorHandling(app: FastifyInstance) {
  // The API reads JSON only. Fastify also parses text/plain by default, which would hand a string
  // to the body validators (400) instead of answering 415 for the wrong content type.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler((error: FastifyError, request, reply) => {
    // Domain errors of the services and HTTP problems of the handlers: the one mapping to problem+json.
    const problem = problemOf(error);
    if (problem) {
      reply.headers(problem.headers);
      return sendProblem(request, reply, problem.status, problem.detail, problem.errors);
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const errors = validationErrors(error.validationContext, error.validation as ValidationIssue[]);
      return sendProblem(request, reply, 400, 'The request is not valid; see errors.', errors);
    }
    if (error instanceof UnservableAnswer) {
      request.log.error(
        { err: error, issues: error.issues },
        'a write was rolled back: its answer does not fit the response schema',
      );
      return sendProblem(request, reply, 500, error.message);
    }
    const fromDb = databaseProblem(error);
    if (fromDb) {
      if (fromDb.status >= 500) request.log.warn({ err: error }, 'database unavailable');
      reply.headers(fromDb.headers);
      return sendProblem(request, reply, fromDb.status, fromDb.detail, fromDb.errors);
    }
    const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
    if (status >= 400 && status < 500) {
      // Fastify's own client errors (bad JSON, 413, 415, ...): their messages are safe to show.
      return sendProblem(request, reply, status, clientErrorDetail(error));
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(
      request,
      reply,
      500,
      'An unexpected error occurred; quote the x-request-id header when reporting it.',
    );
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(request, reply, 404, `No route ${request.method} ${request.url.split('?')[0]}`),
  );
}

/**
 * Fastify's `frameworkErrors` option: errors its router raises before any route or hook runs
 * (a malformed percent-encoding, an over-long path parameter) leave as problems too, not as
 * Fastify's own JSON.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  reply.header('x-request-id', request.id);
  const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
  if (status >= 500) {
    request.log.error({ err: error }, 'framework error');
    void sendProblem(
      request,
      reply,
      500,
      'An unexpected error occurred; quote the x-request-id header when reporting it.',
    );
    return;
  }
  const detail =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? 'A path parameter is too long.'
      : 'The URL is not valid (malformed percent-encoding).';
  void sendProblem(request, reply, status, detail);
}

function clientErrorDetail(error: FastifyError): string {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'The request body is larger than the limit of this endpoint.';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'Unsupported content type; send application/json.';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'The JSON body is empty.';
    default:
      return error.message;
  }
}
