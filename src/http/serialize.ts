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

// The write-side check lives with the services (src/shared/servable.ts); re-exported for the error handler.
export { UnservableAnswer } from '../shared/servable.js';
