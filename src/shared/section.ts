/**
 * Directions and goals are the same kind of thing: a coded, titled, ordered section of its parent.
 * One definition serves both, so the two cannot drift apart.
 */
import { eq } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import type { CrudSpec, ParentSpec } from '../http/crud.js';
import { registerCrud } from '../http/crud.js';
import { Code, EntityMeta, LocalizedText, Position, Uuid } from './schemas.js';
import { iso } from './decimal.js';

const sectionFields = {
  code: Code.describe('Code as printed in the plan, unique within the parent, e.g. "1" or "1.1".'),
  title: LocalizedText,
  position: Position.describe('Order within the parent; defaults to after the last one.'),
};

export function sectionSchemas<P extends string>(parentField: P, id: string, description: string) {
  const entity = z
    .object({ ...EntityMeta, [parentField]: Uuid, ...sectionFields } as typeof EntityMeta & Record<P, typeof Uuid> & typeof sectionFields)
    .meta({ id, description });
  const create = z.strictObject({ ...sectionFields, position: sectionFields.position.optional() });
  const patch = z
    .strictObject(sectionFields)
    .partial()
    .refine((p) => Object.keys(p).length > 0, { message: 'send at least one field to change' });
  const filters = z.object({ code: Code.optional() });
  return { entity, create, patch, filters };
}

interface SectionTable {
  id: AnyPgColumn;
  code: AnyPgColumn;
  position: AnyPgColumn;
  version: AnyPgColumn;
  updatedAt: AnyPgColumn;
}

export interface SectionSpec {
  name: string;
  plural: string;
  tag: string;
  table: CrudSpec<never, never, never, never>['table'] & SectionTable;
  parent: ParentSpec & { field: string };
  schemas: { entity: z.ZodObject; create: z.ZodObject; patch: z.ZodType; filters: ReturnType<typeof sectionSchemas>['filters'] };
  organizationOfParent: (db: Db, id: string) => Promise<string | undefined>;
  organizationOfRow: (db: Db, id: string) => Promise<string | undefined>;
  planOf: CrudSpec<never, never, never, never>['planOf'];
}

export function registerSection(app: FastifyInstance, db: Db, spec: SectionSpec) {
  const { table, parent, schemas } = spec;
  registerCrud(app, db, {
    name: spec.name,
    plural: spec.plural,
    tag: spec.tag,
    table,
    entity: schemas.entity,
    createBody: schemas.create,
    patchBody: schemas.patch,
    collectionPath: `/${parent.name}s/:${parent.param}/${spec.plural}`,
    itemPath: `/${spec.plural}/:id`,
    parent,
    filters: schemas.filters,
    filterConditions: (q) => [q.code ? eq(table.code, q.code) : undefined],
    orderBy: [table.position, table.code, table.id],
    hasPosition: true,
    toDto: (row) =>
      ({
        id: row.id,
        [parent.field]: row[parent.field],
        code: row.code,
        title: row.title,
        position: row.position,
        version: row.version,
        createdAt: iso(row.createdAt as Date),
        updatedAt: iso(row.updatedAt as Date),
      }) as z.output<typeof schemas.entity>,
    toInsert: (body, parentId) => ({ ...(body as object), [parent.field]: parentId }),
    toUpdate: (patch) => ({ ...(patch as object) }),
    organizationOfNew: (database, request) =>
      spec.organizationOfParent(database, (request.params as Record<string, string>)[parent.param]!),
    organizationOfRow: spec.organizationOfRow,
    planOf: spec.planOf,
  });
}

