import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { Db } from '../db/client.js';
import { organizations } from '../db/schema.js';
import { registerCrud } from '../http/crud.js';
import { iso } from '../shared/decimal.js';
import { Organization, OrganizationCreate, OrganizationFilters, OrganizationPatch } from './schemas.js';

type Row = typeof organizations.$inferSelect;

export const toOrganizationDto = (row: Row): Organization => ({
  id: row.id,
  code: row.code,
  name: row.name,
  version: row.version,
  createdAt: iso(row.createdAt),
  updatedAt: iso(row.updatedAt),
});

export function organizationRoutes(app: FastifyInstance, db: Db) {
  registerCrud(app, db, {
    name: 'organization',
    plural: 'organizations',
    tag: 'Organizations',
    table: organizations,
    entity: Organization,
    createBody: OrganizationCreate,
    patchBody: OrganizationPatch,
    collectionPath: '/organizations',
    itemPath: '/organizations/:id',
    filters: OrganizationFilters,
    filterConditions: (q) => [q.code ? eq(organizations.code, q.code) : undefined],
    orderBy: [organizations.code, organizations.id],
    toDto: toOrganizationDto,
    toInsert: (body) => ({ ...body }),
    toUpdate: (patch) => ({ ...patch }),
    // Organizations are reference data: only admins create, rename or delete them.
    writeAccess: 'admin',
    organizationOfRow: async (_db, id) => id,
  });
}
