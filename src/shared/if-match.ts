/**
 * What a write's If-Match asks for, parsed once by the route (src/http/etag.ts ifMatchOf) and
 * checked by the service against the row it locked.
 *   undefined          - no If-Match: write unconditionally
 *   { version: n }     - the stored version must be n
 *   { version: undefined } - "*": something must be stored
 */
import { preconditionFailed } from './errors.js';

export type IfMatch = { version: number | undefined } | undefined;

/** Throws PreconditionFailedError when `ifMatch` does not hold for `current` (undefined: nothing stored). */
export function checkIfMatch(ifMatch: IfMatch, current: number | undefined): void {
  if (!ifMatch) return;
  if (current === undefined) throw preconditionFailed(0);
  if (ifMatch.version !== undefined && ifMatch.version !== current) throw preconditionFailed(current);
}
