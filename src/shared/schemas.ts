/** Building blocks every module's zod schemas share. */
import { z } from 'zod';

export const Uuid = z.uuid().describe('UUID');

/**
 * No lone UTF-16 surrogate: JSON can carry one ("\ud800"), UTF-8 and so PostgreSQL cannot.
 * String.prototype.isWellFormed (Node 20, not yet in the ES2022 lib types) is the native check,
 * about twice as fast as a /\p{Cs}/u test, and every response string goes through it too.
 */
const wellFormed = (s: string) => (s as string & { isWellFormed(): boolean }).isWellFormed();

/**
 * Every text the API stores goes through this: without it a lone surrogate ("\ud800") would be
 * stored as U+FFFD in a text column (silently changed) or fail as jsonb (400 naming no field).
 * Start every stored string schema here; add trim/min/max after.
 */
export const Text = z.string().refine(wellFormed, {
  message: 'must not contain an unpaired UTF-16 surrogate (such as \\ud800): send well-formed Unicode',
});

// PostgreSQL jsonb cannot hold U+0000: refuse it here (400 on the field) instead of failing the insert.
/** One language's text inside a LocalizedText. */
export const LocalizedString = Text.trim()
  .max(4000)
  .refine((s) => !s.includes('\u0000'), { message: 'must not contain the NUL character (U+0000)' });

/** What PostgreSQL and JavaScript both hold as a date: it has no year 0, and JSON dates have 4 digits. */
const storableYear = (value: string) => {
  const year = new Date(value).getUTCFullYear();
  return year >= 1 && year <= 9999;
};
const yearMessage = { message: 'the year must lie in 0001..9999 (in UTC)' };

/** An instant in a query (updatedSince, from, to): ISO 8601 with offset, one the database can compare. */
export const Instant = z.iso.datetime({ offset: true }).max(64).refine(storableYear, yearMessage);

/** A calendar date, YYYY-MM-DD, year 0001..9999. */
export const CalendarDate = z.iso.date().refine(storableYear, yearMessage);

export const LocalizedText = z
  .strictObject({ kk: LocalizedString.optional(), ru: LocalizedString.optional(), en: LocalizedString.optional() })
  .refine((t) => Object.values(t).some((v) => typeof v === 'string' && v.length > 0), {
    message: 'at least one of kk, ru, en must be a non-empty string',
  })
  .meta({
    id: 'LocalizedText',
    description: 'Text in Kazakh (state language), Russian and/or English; at least one non-empty.',
    example: { kk: 'Мемлекеттік қызмет', ru: 'Государственная служба', en: 'Civil service' },
  });
export type LocalizedText = z.infer<typeof LocalizedText>;

const CODE_MESSAGE = 'letters, digits, ".", "-", "_" or "/", starting with a letter or digit';

/**
 * The ASCII part of the code rule, as a pattern every regex engine reads (Python's re, Java, ECMA
 * without the u flag, schema fakers: no \p{...}): ASCII letters, digits and . - _ / (not first), and
 * any non-ASCII character. Migration 0009's CHECK holds the same part. The OpenAPI document shows it.
 */
const CODE_ASCII_PATTERN = /^[A-Za-z0-9\u0080-\uFFFF][A-Za-z0-9._\-/\u0080-\uFFFF]*$/;

/** The non-ASCII part, checked in code: a character beyond ASCII must be a Unicode letter or digit. */
const nonAsciiLetterOrDigit = /^[\p{L}\p{N}\p{ASCII}]*$/u;

/** A code as printed in plans: "1", "1.1", "1.1.3"; also organization and plan codes. */
export const Code = Text.trim()
  .min(1)
  .max(64)
  .regex(CODE_ASCII_PATTERN, CODE_MESSAGE)
  .refine((s) => nonAsciiLetterOrDigit.test(s), { message: CODE_MESSAGE });

/**
 * Plan and fact values: exact decimals stored as PostgreSQL numeric. The bound keeps every value
 * exactly representable as a JSON number with 15 significant digits; zod already rejects
 * NaN and Infinity.
 */
export const DecimalValue = z.number().min(-1e15).max(1e15);

/** Appended to the description of every decimal field (plan, fact, score). */
export const EXACT_DECIMAL_NOTE =
  ' Stored exactly as written: a number with more significant digits than a JSON double holds (over 15), ' +
  'or beyond its range (1e-400), answers 400 naming this field instead of being rounded.';

export const Year = z.number().int().min(1900).max(2200);

export const MAX_POSITION = 1_000_000;

export const Position = z.number().int().min(0).max(MAX_POSITION);

export const EntityMeta = {
  id: Uuid,
  version: z.number().int().min(1).describe('Incremented on every change; also sent as the ETag.'),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
};

export const IdParams = z.strictObject({ id: Uuid });

/** ?count=true asks a list for its total (as does `Prefer: count=exact`); anything but true/false is a 400. */
export const CountQuery = z
  .enum(['true', 'false'])
  .optional()
  .transform((v) => (v === undefined ? undefined : v === 'true'))
  .describe(
    'true: the answer carries `total`, every row matching the filters (X-Total-Count on CSV/XLSX). ' +
      '`Prefer: count=exact` asks the same (answered with Preference-Applied: count=exact); count=false overrides it. ' +
      'Without the ask no count is made.',
  );

export const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50).describe('Page size, 1..500.'),
  cursor: z.string().max(1024).optional().describe('Opaque cursor from the previous page.'),
  count: CountQuery,
});

/** `total` of a list answer: present only when asked for (?count=true or Prefer: count=exact). */
export const TotalField = z
  .number()
  .int()
  .min(0)
  .optional()
  .describe('Only when asked (?count=true or Prefer: count=exact): how many rows match the filters, on every page.');

/** `{ items, nextCursor, total? }`; the next page is also in the Link header (rel="next"). */
export function listOf<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    nextCursor: z.string().nullable().describe('Pass as ?cursor= for the next page; null on the last page.'),
    total: TotalField,
  });
}

export const CascadeQuery = z.object({
  cascade: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe('Also delete every descendant; without it a parent with children answers 409.'),
});

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int().min(100).max(599),
    detail: z.string(),
    instance: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({
    id: 'Problem',
    description: 'RFC 9457 problem details.',
    example: {
      type: 'about:blank',
      title: 'Bad Request',
      status: 400,
      detail: 'The request is not valid; see errors.',
      errors: [{ path: 'body.fact', message: 'a rank is a whole number >= 1' }],
    },
  });
export type Problem = z.infer<typeof Problem>;
