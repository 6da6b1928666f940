import { z } from 'zod';
import { Code, EntityMeta, LocalizedText } from '../shared/schemas.js';

export const Organization = z
  .object({ ...EntityMeta, code: Code, name: LocalizedText })
  .meta({ id: 'Organization', description: 'A state body that runs strategic plans.' });
export type Organization = z.infer<typeof Organization>;

export const OrganizationCreate = z.strictObject({ code: Code, name: LocalizedText });
export const OrganizationPatch = OrganizationCreate.partial().refine((p) => Object.keys(p).length > 0, {
  message: 'send at least one field to change',
});
export const OrganizationFilters = z.object({ code: Code.optional() });
