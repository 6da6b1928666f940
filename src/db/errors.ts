/**
 * drizzle wraps driver errors (DrizzleQueryError); the SQLSTATE sits on `cause.code`.
 * Constraint violations that slip past the pre-checks (races, mostly) become 4xx here,
 * and an unreachable database becomes 503 with Retry-After instead of a 500.
 */
import type { FieldError } from '../shared/errors.js';

interface DbProblem {
  status: number;
  detail: string;
  errors?: FieldError[];
  headers: Record<string, string>;
}

interface PgLikeError {
  code?: string;
  constraint?: string;
  message?: string;
  cause?: unknown;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08006',
]);

function findCode(error: unknown): PgLikeError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const candidate = current as PgLikeError;
    if (typeof candidate.code === 'string' && !candidate.code.startsWith('FST_')) return candidate;
    current = candidate.cause;
  }
  return undefined;
}

function isConnectionFailure(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const e = current as PgLikeError;
    if (typeof e.code === 'string' && CONNECTION_CODES.has(e.code)) return true;
    if (
      typeof e.message === 'string' &&
      /timeout exceeded when trying to connect|Connection terminated|connect ECONNREFUSED/i.test(e.message)
    )
      return true;
    current = e.cause;
  }
  return false;
}

export function databaseProblem(error: unknown): DbProblem | undefined {
  if (isConnectionFailure(error)) {
    return { status: 503, detail: 'The database is unavailable; retry shortly.', headers: { 'retry-after': '5' } };
  }
  const pg = findCode(error);
  switch (pg?.code) {
    case '23505':
      return {
        status: 409,
        detail: `A record with the same key already exists (${pg.constraint ?? 'unique'}).`,
        headers: {},
      };
    case '23503':
    case '23001': // restrict_violation: what ON DELETE RESTRICT raises from PostgreSQL 17 on (and PGlite)
      return {
        status: 409,
        detail: `The record is referenced by, or references, another record (${pg.constraint ?? 'foreign key'}).`,
        headers: {},
      };
    case '23514':
      return { status: 400, detail: `The values break a rule (${pg.constraint ?? 'check'}).`, headers: {} };
    case '22003':
      return { status: 400, detail: 'A number is out of range.', headers: {} };
    case '22P02':
      return { status: 400, detail: 'A value has the wrong format.', headers: {} };
    case '22P05': // untranslatable_character: \u0000 in jsonb
    case '22021': // character_not_in_repertoire: NUL in text
      return {
        status: 400,
        detail: 'A text contains a character that cannot be stored (such as U+0000).',
        headers: {},
      };
    case '57014':
      return {
        status: 503,
        detail: 'The query took too long and was cancelled; retry shortly.',
        headers: { 'retry-after': '5' },
      };
    default:
      // Class 22 (data exception: a date out of range, an invalid escape, a value too long, a
      // division by zero...) is raised by the values a statement was given, which come from the
      // request: the schemas refuse what they can name first, and whatever slips past is a 400, not a 500.
      if (pg?.code?.startsWith('22')) {
        return {
          status: 400,
          detail: `A value cannot be stored or compared by the database (SQLSTATE ${pg.code}).`,
          headers: {},
        };
      }
      return undefined;
  }
}

export function isUniqueViolation(error: unknown): boolean {
  return findCode(error)?.code === '23505';
}

/** 23503 foreign_key_violation, or 23001 restrict_violation (ON DELETE RESTRICT from PostgreSQL 17 on). */
export function isForeignKeyViolation(error: unknown): boolean {
  const code = findCode(error)?.code;
  return code === '23503' || code === '23001';
}
