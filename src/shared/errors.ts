/**
 * Domain errors: what services and repositories throw when a request cannot be done. They name
 * the kind of failure, never an HTTP status; src/http/errors.ts maps them to problem+json in one
 * place (not found 404, conflict 409, precondition failed 412, validation 400, forbidden 403, gone 410,
 * too large 413, unsupported type 415).
 */
export interface FieldError {
  path: string;
  message: string;
}

export abstract class DomainError extends Error {
  abstract readonly kind:
    | 'not_found'
    | 'conflict'
    | 'precondition_failed'
    | 'validation'
    | 'forbidden'
    | 'gone'
    | 'too_large'
    | 'unsupported_type';
  constructor(
    readonly detail: string,
    readonly errors?: FieldError[],
  ) {
    super(detail);
  }
}

export class NotFoundError extends DomainError {
  readonly kind = 'not_found';
}
export class ConflictError extends DomainError {
  readonly kind = 'conflict';
}
/** An If-Match (or another stated expectation) no longer holds. */
export class PreconditionFailedError extends DomainError {
  readonly kind = 'precondition_failed';
}
/** The input breaks a rule; `errors` names each field. */
export class ValidationError extends DomainError {
  readonly kind = 'validation';
}
/** The actor may not do this to this target. */
export class ForbiddenError extends DomainError {
  readonly kind = 'forbidden';
}
/** What the caller refers to existed once and is gone for good (a pruned sync position). */
export class GoneError extends DomainError {
  readonly kind = 'gone';
}

/** The input is larger than a limit allows (a file, or what it unzips to). */
export class TooLargeError extends DomainError {
  readonly kind = 'too_large';
}
/** The input comes in a form this operation does not read (an upload's content type). */
export class UnsupportedTypeError extends DomainError {
  readonly kind = 'unsupported_type';
}

export const invalid = (detail: string, errors?: FieldError[]) => new ValidationError(detail, errors);
export const notFound = (what: string, id: string) => new NotFoundError(`${what} ${id} does not exist`);
export const conflict = (detail: string) => new ConflictError(detail);
export const preconditionFailed = (current: number) =>
  new PreconditionFailedError(`If-Match does not match the current version ${current}; reload and retry`);
