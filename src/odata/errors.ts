/**
 * Errors in the OData JSON error format (OData JSON Format 4.01, section 21):
 * `{ "error": { "code", "message", "target"?, "details"? } }`. OData clients (Power BI, Excel,
 * generated clients) read this shape, not RFC 9457, so the feed answers in it; the status codes
 * are the REST API's (400 bad query, 401, 403, 404, 405, 406, 501 for options it does not offer).
 */
export class ODataError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly target?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const badQuery = (message: string, target?: string) => new ODataError(400, 'BadQuery', message, target);
export const notImplemented = (message: string, target?: string) =>
  new ODataError(501, 'NotImplemented', message, target);
export const odataNotFound = (message: string) => new ODataError(404, 'NotFound', message);

export interface ODataErrorBody {
  error: { code: string; message: string; target?: string };
}

export function errorBody(code: string, message: string, target?: string): ODataErrorBody {
  return { error: target === undefined ? { code, message } : { code, message, target } };
}
