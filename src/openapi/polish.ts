/**
 * What the generated document says beyond the zod schemas, added once for every route (including
 * routes added later) so that validating proxies, linters and client generators accept it:
 *
 * - errors declare the media type the server sends (application/problem+json), each status with an
 *   example of its own;
 * - success responses are described (never Fastify's "Default Response");
 * - a list that answers ?format=csv|xlsx declares text/csv and the XLSX type beside
 *   application/json, as separate media types, so a typed client keeps the JSON answer addressable
 *   on its own (`content['application/json']`);
 * - operations with a rate limit (writes, /auth) declare the RateLimit-* headers they send and 429
 *   with Retry-After (src/http/rate-limit-headers.ts says which);
 * - every operation declares the 400 of an unknown query parameter and the 500 problem it can answer;
 * - integers carry format int32 or int64, from their bounds; strings whose format fixes their length
 *   (uuid, date) state it as maxLength, as linters and fuzzers look for one.
 */
import { RATE_LIMIT_HEADERS, isRateLimited } from '../http/rate-limit-headers.js';

export const XLSX_MEDIA_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const PROBLEM_MEDIA_TYPE = 'application/problem+json';
const PROBLEM_REF = '#/components/schemas/Problem';

type Json = Record<string, unknown>;
interface MediaType {
  schema?: Json;
  example?: unknown;
}
interface Response {
  description?: string;
  content?: Record<string, MediaType>;
  headers?: Record<string, unknown>;
}
interface Parameter {
  in?: string;
  name?: string;
  schema?: Json;
}
interface Operation {
  summary?: string;
  parameters?: Parameter[];
  responses?: Record<string, Response>;
}
export interface OpenApiDocument extends Json {
  paths?: Record<string, Record<string, Operation>>;
}

const METHODS = new Set(['get', 'put', 'post', 'patch', 'delete', 'head', 'options', 'trace']);

/** One realistic problem per status, shaped exactly as src/http/errors.ts sends it. */
const PROBLEM_EXAMPLES: Record<number, { detail: string; errors?: { path: string; message: string }[] }> = {
  400: { detail: 'The request is not valid; see errors.', errors: [{ path: 'query.yaer', message: 'unknown query parameter' }] },
  401: { detail: 'A bearer token is required.' },
  403: { detail: 'This operation needs the admin role.' },
  404: { detail: 'plan 0190a3b2-7c1e-7d4a-9f00-2b8e5c6d7e8f does not exist' },
  409: { detail: 'A plan with code 2014-2018 already exists in this organization.' },
  410: { detail: 'updatedSince lies before the tombstone retention horizon; resync from 1970-01-01T00:00:00Z.' },
  412: { detail: 'If-Match does not match the current version 3; reload and retry' },
  413: { detail: 'The request body is larger than the limit of this endpoint.' },
  415: { detail: 'Unsupported content type; send application/json.' },
  422: { detail: 'The request is well-formed but breaks a rule of the stored data.' },
  428: { detail: 'Send If-Match with the current ETag.' },
  429: { detail: 'More than 1200 writes a minute; retry after 12 s.' },
  500: { detail: 'An unexpected error occurred; quote the x-request-id header when reporting it.' },
  503: { detail: 'The database is unreachable.' },
};

const TITLES: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 410: 'Gone',
  412: 'Precondition Failed', 413: 'Content Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Content',
  428: 'Precondition Required', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable',
};

export function problemExample(status: number, path: string) {
  const example = PROBLEM_EXAMPLES[status] ?? { detail: TITLES[status] ?? 'Error' };
  return {
    type: status >= 500 ? 'about:blank' : `https://nysana.kz/problems/${status}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail: example.detail,
    instance: path.replace(/\{[^}]+\}/g, '0190a3b2-7c1e-7d4a-9f00-2b8e5c6d7e8f'),
    ...(example.errors ? { errors: example.errors } : {}),
  };
}

function successDescription(status: string, summary: string | undefined): string {
  const what = summary ? `: ${summary[0]!.toLowerCase()}${summary.slice(1)}` : '';
  if (status === '201') return `Created${what}`;
  if (status === '204') return `Done, no content${what}`;
  if (status === '304') return 'Not modified: the If-None-Match ETag is current';
  return `OK${what}`;
}

const isProblemSchema = (media: MediaType | undefined) => media?.schema?.$ref === PROBLEM_REF;

/** Error responses as application/problem+json with an example of their own status. */
function problemMediaTypes(path: string, responses: Record<string, Response>) {
  for (const [code, response] of Object.entries(responses)) {
    const status = Number(code);
    const json = response.content?.['application/json'];
    if (!(status >= 400) || !response.content || !isProblemSchema(json)) continue;
    const { 'application/json': _replaced, ...others } = response.content;
    response.content = { [PROBLEM_MEDIA_TYPE]: { schema: json!.schema, example: problemExample(status, path) }, ...others };
  }
}

/** The media types a ?format= value answers (the other values answer JSON or declare their own). */
const FORMAT_MEDIA_TYPES: Record<string, MediaType> = {
  csv: { schema: { type: 'string', description: 'CSV, UTF-8 with a byte order mark; one column per field.' } },
  xlsx: { schema: { type: 'string', format: 'binary', description: 'An Excel workbook.' } },
};
const FORMAT_NAMES: Record<string, string> = { csv: 'text/csv', xlsx: XLSX_MEDIA_TYPE };

function exportMediaTypes(operation: Operation) {
  const format = operation.parameters?.find((p) => p.in === 'query' && p.name === 'format');
  const values = format?.schema?.enum;
  const ok = operation.responses?.['200'];
  if (!Array.isArray(values) || !ok?.content?.['application/json']) return;
  for (const value of values) {
    const name = FORMAT_NAMES[String(value)];
    if (name && !ok.content[name]) ok.content[name] = FORMAT_MEDIA_TYPES[String(value)]!;
  }
}

const RETRY_AFTER = {
  description: 'Seconds to wait before retrying.',
  schema: { type: 'integer', format: 'int32', minimum: 1, maximum: 86400 },
};

function rateLimitHeaders(responses: Record<string, Response>, path: string) {
  for (const [code, response] of Object.entries(responses)) {
    if (/^[24]/.test(code)) response.headers = { ...RATE_LIMIT_HEADERS, ...response.headers };
  }
  const tooMany = responses['429'] ?? {
    description: 'Too many requests; see Retry-After.',
    content: { [PROBLEM_MEDIA_TYPE]: { schema: { $ref: PROBLEM_REF }, example: problemExample(429, path) } },
  };
  tooMany.headers = { 'Retry-After': RETRY_AFTER, ...RATE_LIMIT_HEADERS, ...tooMany.headers };
  responses['429'] = tooMany;
}

/** Every route refuses unknown query parameters (src/http/strict-query.ts), so every operation can answer 400. */
function unknownParameter(responses: Record<string, Response>, path: string) {
  responses['400'] ??= {
    description: 'A query parameter this operation does not take; `errors` names each (query.<name>).',
    content: { [PROBLEM_MEDIA_TYPE]: { schema: { $ref: PROBLEM_REF }, example: problemExample(400, path) } },
  };
}

function serverError(responses: Record<string, Response>, path: string) {
  responses['500'] ??= {
    description: 'An unexpected error; nothing was changed. Quote the x-request-id response header when reporting it.',
    content: { [PROBLEM_MEDIA_TYPE]: { schema: { $ref: PROBLEM_REF }, example: problemExample(500, path) } },
  };
}

const INT32 = 2 ** 31;

/** Lengths a string format already fixes (its pattern allows no other). */
const FORMAT_LENGTHS: Record<string, number> = { uuid: 36, date: 10 };

/**
 * format int32 when the bounds fit in 32 bits, else int64 (JSON Schema integers have no size of
 * their own); maxLength of a uuid or a date.
 */
function sizes(node: unknown) {
  if (Array.isArray(node)) {
    for (const item of node) sizes(item);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const schema = node as Json;
  const type = schema.type;
  const isInteger = type === 'integer' || (Array.isArray(type) && type.includes('integer'));
  if (isInteger && schema.format === undefined) {
    const min = typeof schema.minimum === 'number' ? schema.minimum : -Infinity;
    const max = typeof schema.maximum === 'number' ? schema.maximum : Infinity;
    schema.format = min >= -INT32 && max < INT32 ? 'int32' : 'int64';
  }
  const fixedLength = typeof schema.format === 'string' ? FORMAT_LENGTHS[schema.format] : undefined;
  if (fixedLength !== undefined && schema.maxLength === undefined && (type === 'string' || Array.isArray(type))) schema.maxLength = fixedLength;
  for (const value of Object.values(schema)) sizes(value);
}

export function polishDocument<T extends OpenApiDocument>(doc: T): T {
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const [method, operation] of Object.entries(item)) {
      if (!METHODS.has(method) || !operation.responses) continue;
      const responses = operation.responses;
      for (const [code, response] of Object.entries(responses)) {
        if (response.description === 'Default Response' || !response.description) {
          response.description = successDescription(code, operation.summary);
        }
      }
      problemMediaTypes(path, responses);
      exportMediaTypes(operation);
      if (isRateLimited(method.toUpperCase(), path)) rateLimitHeaders(responses, path);
      unknownParameter(responses, path);
      serverError(responses, path);
    }
  }
  sizes(doc);
  return doc;
}
