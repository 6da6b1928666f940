import { z } from 'zod';
import { Code, EntityMeta, LocalizedText } from '../shared/schemas.js';

export const Organization = z.object({ ...EntityMeta, code: Code, name: LocalizedText }).meta({
  id: 'Organization',
  description: 'A state body that runs strategic plans.',
  example: {
    id: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
    version: 1,
    createdAt: '2016-11-22T09:00:00.000Z',
    updatedAt: '2016-11-22T09:00:00.000Z',
    code: 'ASCSAC',
    name: {
      ru: 'Агентство по делам государственной службы и противодействию коррупции',
      en: 'Agency for Civil Service Affairs and Anti-Corruption',
    },
  },
});
export type Organization = z.infer<typeof Organization>;

export const OrganizationCreate = z.strictObject({ code: Code, name: LocalizedText });
export const OrganizationPatch = OrganizationCreate.partial().refine((p) => Object.keys(p).length > 0, {
  message: 'send at least one field to change',
});
export const OrganizationFilters = z.object({ code: Code.optional() });
