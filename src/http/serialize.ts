/**
 * Response serializers.
 *
 * The app's default (fastify-type-provider-zod) encodes every answer through its zod response
 * schema before JSON.stringify: it strips fields the schema does not list, so a handler that
 * returns a database row cannot leak a column, and it fails loudly on a wrong shape.
 *
 * `trustedJson` skips that for the hot read paths whose answers are assembled field by field by
 * typed code (src/status/assemble.ts): TypeScript already checks them against the zod output
 * type, there is nothing to strip, and tests/api/serialization.test.ts checks that the bytes are
 * the ones the zod serializer would send. Measured on the 19-indicator plan status: zod's encode
 * of the whole document was about 12% of the request's CPU (node --cpu-prof, docs/benchmarks.md).
 * Never use it for a handler that returns rows or objects it did not build itself.
 */
import type { FastifySerializerCompiler } from 'fastify/types/schema.js';

export const trustedJson: FastifySerializerCompiler<unknown> = () => (data) => JSON.stringify(data);

/**
 * The answer of a write, checked against its response schema INSIDE the write's transaction.
 * The serializer checks it again after the handler, but by then the transaction has committed: a
 * row the schema refuses would be stored (and audited) while the caller is told 500. Thrown here,
 * the error rolls the write back, so nothing is committed whose answer cannot be served. The
 * database's CHECK constraints (migration 0009) keep such rows out in the first place; this is the
 * guarantee for whatever they cannot express.
 */
export class UnservableAnswer extends Error {
  constructor(readonly issues: unknown) {
    super('The changed record could not be represented in the answer; nothing was changed.');
  }
}

export function assertServable<T>(schema: { safeParse(value: unknown): { success: boolean; error?: unknown } }, answer: T): T {
  const result = schema.safeParse(answer);
  if (!result.success) throw new UnservableAnswer(result.error);
  return answer;
}
