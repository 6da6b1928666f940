/**
 * The CRUD shape every planning entity shares (list under a parent, create, read, patch,
 * delete with the children rule), written once. Modules supply their schemas, row mapping
 * and cross-field rules; this file owns HTTP semantics: 404s, ETag/If-Match, cursor pages.
 * The writes (their transactions, the children rule, ?cascade=true, audit) are the service
 * src/crud/service.ts: the handlers here parse, call it, and map the answer.
 *
 * drizzle's table generics do not survive being passed around generically, so rows are
 * handled as EntityRow (src/crud/repository.ts) here and typed at the module boundary (toDto).
 */
import { actorOf } from './actor.js';
import type { SQL } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import type { Tx } from '../db/tx.js';
import type { EntityRow } from '../crud/repository.js';
import { findEntity } from '../crud/repository.js';
import { entityWriteService } from '../crud/service.js';
import type { AccessRule } from '../auth/access-rule.js';
import { access } from './access.js';
import { answerVersioned, ifMatchOf, setEtag } from './etag.js';
import { notFound } from './problem.js';
import { errorResponses } from './responses.js';
import { CascadeQuery, IdParams } from '../shared/schemas.js';
import { registerCrudList } from './crud-list.js';

export type CrudTable = PgTable & { id: AnyPgColumn; version: AnyPgColumn; updatedAt: AnyPgColumn };

export interface ParentSpec {
  /** Path parameter name, e.g. "planId". */
  param: string;
  table: PgTable & { id: AnyPgColumn };
  column: AnyPgColumn;
  name: string;
}

export interface CrudSpec<
  Entity extends z.ZodObject,
  Create extends z.ZodType,
  Patch extends z.ZodType,
  Filters extends z.ZodObject,
  T extends CrudTable = CrudTable,
> {
  name: string; // "plan"
  plural: string; // "plans"
  tag: string;
  table: T;
  entity: Entity;
  createBody: Create;
  patchBody: Patch;
  collectionPath: string; // "/plans" or "/plans/:planId/directions"
  itemPath: string; // "/plans/:id"
  parent?: ParentSpec;
  filters: Filters;
  filterConditions: (filters: z.output<Filters>) => (SQL | undefined)[];
  /** Ascending sort keys; the last must be unique (id). */
  orderBy: AnyPgColumn[];
  toDto: (row: T['$inferSelect']) => z.output<Entity>;
  toInsert: (body: z.output<Create>, parentId: string | undefined) => Record<string, unknown>;
  toUpdate: (patch: z.output<Patch>) => Record<string, unknown>;
  /** Cross-field and cross-row rules on the row as it would be stored; throw an HttpProblem. */
  validate?: (tx: Tx, candidate: EntityRow, previous: EntityRow | undefined) => Promise<void>;
  /** Organization that will own a row created by `request` / owns row `id`: editor scoping. */
  organizationOfNew?: (db: Db, request: FastifyRequest) => Promise<string | undefined>;
  organizationOfRow: (db: Db, id: string) => Promise<string | undefined>;
  /** Defaults to editor of the owning organization. */
  writeAccess?: 'admin';
  description?: string;
  /** The list operation's description, when the default ("ordered by position, code") does not fit. */
  listDescription?: string;
  hasPosition?: boolean;
  /**
   * The plan a row belongs to: while that plan has approved years, the row cannot be deleted and
   * `lockedFields` (those that would change an approved verdict) cannot change.
   */
  planOf?: (tx: Tx, row: EntityRow) => Promise<string | undefined>;
  lockedFields?: string[];
}

export function registerCrud<
  E extends z.ZodObject,
  C extends z.ZodType,
  P extends z.ZodType,
  F extends z.ZodObject,
  T extends CrudTable,
>(app: FastifyInstance, db: Db, spec: CrudSpec<E, C, P, F, T>) {
  // Routes typed by their generics, not by the type provider: the zod schemas still validate and
  // serialize, but their static types cannot be followed through this generic factory.
  const r = app;
  const table = spec.table;
  const Title = spec.name[0]!.toUpperCase() + spec.name.slice(1);
  const PluralTitle = spec.plural[0]!.toUpperCase() + spec.plural.slice(1);
  const opId = (verb: string, suffix = '') => `${verb}${suffix || Title}`;
  // The writes: src/crud/service.ts owns their transactions, rules and audit; the handlers below map HTTP onto it.
  const writes = entityWriteService({ db }, { ...spec, toDto: spec.toDto as (row: EntityRow) => z.output<E> & object });

  const parentParams = spec.parent ? z.strictObject({ [spec.parent.param]: z.uuid() }) : undefined;
  const writeRule = (resolve: (req: FastifyRequest) => Promise<string | undefined>): AccessRule =>
    spec.writeAccess === 'admin' ? access.admin : access.editor(resolve);
  const byItemId = (req: FastifyRequest) => spec.organizationOfRow(db, (req.params as { id: string }).id);

  // LIST: src/http/crud-list.ts, through the one list pipeline.
  registerCrudList(app, db, spec, { title: Title, pluralTitle: PluralTitle });

  // CREATE
  r.post<{ Params: Record<string, string>; Body: unknown }>(spec.collectionPath, {
    config: {
      access: writeRule(async (req) => spec.organizationOfNew?.(db, req)),
    },
    schema: {
      tags: [spec.tag],
      operationId: opId('create'),
      summary: `Create a ${spec.name}`,
      ...(parentParams ? { params: parentParams } : {}),
      body: spec.createBody,
      response: { 201: spec.entity, ...errorResponses(400, 401, 403, 404, 409, 413, 415) },
    },
    handler: async (request, reply) => {
      const parentId = spec.parent ? request.params[spec.parent.param] : undefined;
      const created = await writes.create(actorOf(request), parentId, request.body as z.output<C>);
      setEtag(reply, created.version);
      const prefix = request.routeOptions.url!.slice(0, -spec.collectionPath.length);
      reply.header('location', `${prefix}${spec.itemPath.replace(':id', created.id)}`);
      return reply.code(201).send(spec.toDto(created));
    },
  });

  // READ
  r.get<{ Params: { id: string } }>(spec.itemPath, {
    config: { access: access.viewer },
    schema: {
      tags: [spec.tag],
      operationId: opId('get'),
      summary: `Get a ${spec.name}`,
      params: IdParams,
      response: { 200: spec.entity, 304: z.null().describe('Not modified'), ...errorResponses(400, 401, 403, 404) },
    },
    handler: async (request, reply) => {
      const row = await findEntity(db, table, request.params.id);
      if (!row) throw notFound(spec.name, request.params.id);
      return answerVersioned(request, reply, row, spec.toDto);
    },
  });

  // PATCH
  r.patch<{ Params: { id: string }; Body: unknown }>(spec.itemPath, {
    config: { access: writeRule(byItemId) },
    schema: {
      tags: [spec.tag],
      operationId: opId('update'),
      summary: `Update a ${spec.name}`,
      description: 'Partial update. Send If-Match with the ETag to refuse stale writes (412).',
      params: IdParams,
      body: spec.patchBody,
      response: { 200: spec.entity, ...errorResponses(400, 401, 403, 404, 409, 412, 413, 415) },
    },
    handler: async (request, reply) => {
      const updated = await writes.update(
        actorOf(request),
        request.params.id,
        request.body as z.output<P>,
        ifMatchOf(request),
      );
      setEtag(reply, updated.version);
      return spec.toDto(updated);
    },
  });

  // DELETE
  r.delete<{ Params: { id: string }; Querystring: { cascade: boolean } }>(spec.itemPath, {
    config: { access: writeRule(byItemId) },
    schema: {
      tags: [spec.tag],
      operationId: opId('delete'),
      summary: `Delete a ${spec.name}`,
      description: `Answers 409 while the ${spec.name} has children, unless ?cascade=true deletes them too, in one transaction.`,
      params: IdParams,
      querystring: CascadeQuery,
      response: { 204: z.null().describe('Deleted'), ...errorResponses(400, 401, 403, 404, 409, 412) },
    },
    handler: async (request, reply) => {
      await writes.remove(actorOf(request), request.params.id, {
        cascade: request.query.cascade,
        ifMatch: ifMatchOf(request),
      });
      return reply.code(204).send(null);
    },
  });
}
