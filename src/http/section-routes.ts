/**
 * The routes of a section (directions, goals): the generic CRUD routes over one shared shape.
 * Kept in the HTTP layer so the shared schemas (src/shared/section.ts) import no HTTP code.
 */
import { eq } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import type { Db } from '../db/client.js';
import { iso } from '../shared/decimal.js';
import type { sectionSchemas } from '../shared/section.js';
import type { CrudSpec, ParentSpec } from './crud.js';
import { registerCrud } from './crud.js';

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
  schemas: {
    entity: z.ZodObject;
    create: z.ZodObject;
    patch: z.ZodType;
    filters: ReturnType<typeof sectionSchemas>['filters'];
  };
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
