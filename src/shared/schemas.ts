/** Building blocks every module's zod schemas share. */
import { z } from 'zod';

export const Uuid = z.uuid().describe('UUID');

// PostgreSQL jsonb cannot hold U+0000: refuse it here (400 on the field) instead of failing the insert.
/** One language's text inside a LocalizedText. */
export const LocalizedString = z
  .string()
  .trim()
  .max(4000)
  .refine((s) => !s.includes('\u0000'), { message: 'must not contain the NUL character (U+0000)' });

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

/** A code as printed in plans: "1", "1.1", "1.1.3"; also organization and plan codes. */
export const Code = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[\p{L}\p{N}][\p{L}\p{N}._\-/]*$/u, 'letters, digits, ".", "-", "_" or "/", starting with a letter or digit');

/**
 * Plan and fact values: exact decimals stored as PostgreSQL numeric. The bound keeps every value
 * exactly representable as a JSON number with 15 significant digits; zod already rejects
 * NaN and Infinity.
 */
export const DecimalValue = z.number().min(-1e15).max(1e15);

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

export const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50).describe('Page size, 1..500.'),
  cursor: z.string().max(1024).optional().describe('Opaque cursor from the previous page.'),
});

export function listOf<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    nextCursor: z.string().nullable().describe('Pass as ?cursor= for the next page; null on the last page.'),
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
    status: z.number().int(),
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
