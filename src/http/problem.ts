/**
 * RFC 9457 problem details for what only HTTP knows (401, 405, 413, 415, 429, 503...). Services
 * throw the domain errors of src/shared/errors.ts instead; the helpers below are those, re-exported
 * under their HTTP names for handlers, and src/http/errors.ts maps both kinds to problem+json.
 */
import type { FieldError } from '../shared/errors.js';
import { DomainError, invalid } from '../shared/errors.js';

export type { FieldError } from '../shared/errors.js';
export { conflict, notFound } from '../shared/errors.js';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  410: 'Gone',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function titleFor(status: number): string {
  return TITLES[status] ?? 'Error';
}

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }
}

const STATUS_OF: Record<DomainError['kind'], number> = {
  validation: 400,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  precondition_failed: 412,
  too_large: 413,
  unsupported_type: 415,
};

/** The problem an error stands for: an HttpProblem as it is, a domain error by its kind, else undefined. */
export function problemOf(error: unknown): HttpProblem | undefined {
  if (error instanceof HttpProblem) return error;
  if (error instanceof DomainError) return new HttpProblem(STATUS_OF[error.kind], error.detail, error.errors);
  return undefined;
}

export const badRequest = invalid;
