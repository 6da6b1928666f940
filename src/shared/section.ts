/**
 * Directions and goals are the same kind of thing: a coded, titled, ordered section of its parent.
 * One definition of their schemas serves both, so the two cannot drift apart; their routes are
 * registered once too (src/http/section-routes.ts).
 */
import { z } from 'zod';
import { Code, EntityMeta, LocalizedText, Position, Uuid } from './schemas.js';

const sectionFields = {
  code: Code.describe('Code as printed in the plan, unique within the parent, e.g. "1" or "1.1".'),
  title: LocalizedText,
  position: Position.describe('Order within the parent; defaults to after the last one.'),
};

export function sectionSchemas<P extends string>(parentField: P, id: string, description: string) {
  const entity = z
    .object({ ...EntityMeta, [parentField]: Uuid, ...sectionFields } as typeof EntityMeta &
      Record<P, typeof Uuid> &
      typeof sectionFields)
    .meta({ id, description });
  const create = z.strictObject({ ...sectionFields, position: sectionFields.position.optional() });
  const patch = z
    .strictObject(sectionFields)
    .partial()
    .refine((p) => Object.keys(p).length > 0, { message: 'send at least one field to change' });
  const filters = z.object({ code: Code.optional() });
  return { entity, create, patch, filters };
}
