/**
 * Strict query strings: a query parameter no route schema names answers 400, listing each unknown
 * one in `errors` beside any other invalid field. A typo (`?yaer=2016`) or a foreign convention
 * (`?$filter=...`) must not silently answer every row unfiltered.
 *
 * Done once, centrally, so every route gets it, including routes added later:
 * - `strictQueryValidatorCompiler` wraps the zod validator compiler: for the querystring it takes
 *   the parameter names out of the route's zod schema and reports the others;
 * - `registerStrictQuery` gives every documented route without a querystring schema an empty one,
 *   so `GET /plans/{id}?foo=1` answers 400 too. Routes hidden from the document (the docs UI's own
 *   files) are left alone.
 * A schema that accepts any name (`z.record`, `.loose()`, a catchall) opts its route out.
 */
import type { FastifyInstance, FastifySchema, FastifySchemaCompiler } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { core } from 'zod';

type AnySchema = core.$ZodType;

/**
 * The parameter names a query schema accepts, or null when it accepts any name. Follows what
 * query schemas are built from: objects, and the pipes (transforms), unions, intersections and
 * wrappers (optional, default, ...) around them.
 */
export function acceptedNames(schema: AnySchema): Set<string> | null {
  const def = schema._zod.def as core.$ZodTypeDef & Record<string, unknown>;
  switch (def.type) {
    case 'object': {
      const object = def as unknown as core.$ZodObjectDef;
      const catchall = object.catchall;
      if (catchall && catchall._zod.def.type !== 'never') return null;
      return new Set(Object.keys(object.shape));
    }
    case 'pipe':
      return acceptedNames((def as unknown as core.$ZodPipeDef).in);
    case 'union':
      return unionOf((def as unknown as core.$ZodUnionDef).options);
    case 'intersection': {
      const both = def as unknown as core.$ZodIntersectionDef;
      return unionOf([both.left, both.right]);
    }
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      return acceptedNames((def as unknown as { innerType: AnySchema }).innerType);
    case 'lazy':
      return acceptedNames((def as unknown as core.$ZodLazyDef).getter());
    default:
      return null;
  }
}

function unionOf(schemas: readonly AnySchema[]): Set<string> | null {
  const names = new Set<string>();
  for (const schema of schemas) {
    const part = acceptedNames(schema);
    if (part === null) return null;
    for (const name of part) names.add(name);
  }
  return names;
}

/** The zod validator compiler, with unknown query parameters reported (see the file comment). */
export const strictQueryValidatorCompiler: FastifySchemaCompiler<AnySchema> = (route) => {
  const validate = validatorCompiler(route);
  if (route.httpPart !== 'querystring') return validate;
  const names = acceptedNames(route.schema);
  if (names === null) return validate;
  // Reports the names given to it in the shape of every other validation error (zod's unrecognized_keys).
  const noneAllowed = validatorCompiler({ ...route, schema: z.strictObject({}) });
  return (data: unknown) => {
    if (typeof data !== 'object' || data === null) return validate(data);
    const query = data as Record<string, unknown>;
    const unknown = Object.keys(query).filter((key) => !names.has(key));
    if (unknown.length === 0) return validate(data);
    // Validate the rest too, so one answer lists every problem of the request.
    const known = Object.fromEntries(Object.entries(query).filter(([key]) => names.has(key)));
    const rest = validate(known) as { error?: unknown[] };
    const unknownIssues =
      (noneAllowed(Object.fromEntries(unknown.map((key) => [key, query[key]]))) as { error?: unknown[] }).error ?? [];
    return { error: [...unknownIssues, ...(Array.isArray(rest.error) ? rest.error : [])] as never };
  };
};

/** Every documented route without a query schema takes no query parameters. Call before routes. */
export function registerStrictQuery(app: FastifyInstance) {
  app.addHook('onRoute', (route) => {
    const schema = route.schema as (FastifySchema & { hide?: boolean }) | undefined;
    if (!schema || schema.hide || schema.querystring) return;
    route.schema = { ...schema, querystring: z.object({}) };
  });
}
