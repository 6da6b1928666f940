/** The analytical note of a plan per reporting year: PUT creates or replaces, like measurements. */
import { actorOf } from '../http/actor.js';
import { noteService } from './service.js';
import { UpdatedSince, syncListDescription, syncListOf, tombstoneOf } from '../sync/cursor.js';
import { analyticalNotes } from '../db/schema.js';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { organizationOf } from '../db/ownership.js';
import { access } from '../http/access.js';
import { answerVersioned, ifMatchOf, setEtag } from '../http/etag.js';
import { errorResponses } from '../http/responses.js';
import { IdParams, Uuid, Year } from '../shared/schemas.js';
import { toNoteDto, noteList } from './repository.js';
import { planYearList } from '../http/plan-year-list.js';
import { AnalyticalNote, NoteListQuery, NoteParams, NotePut } from './schemas.js';

const TAG = 'Reports';
const NoteTombstone = tombstoneOf('AnalyticalNote', { planId: Uuid, year: Year.nullable() });
export function noteRoutes(app: FastifyInstance, db: Db) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const service = noteService({ db });
  const byPlan = access.editor((req) => organizationOf.plan(db, (req.params as { id: string }).id));

  r.get('/plans/:id/notes', {
    config: { access: access.viewer },
    schema: {
      tags: [TAG],
      operationId: 'listAnalyticalNotes',
      summary: "List a plan's analytical notes",
      description: 'One note per reporting year, ordered by year, cursor-paginated.' + syncListDescription,
      params: IdParams,
      querystring: NoteListQuery.extend({ updatedSince: UpdatedSince.optional() }),
      response: { 200: syncListOf(AnalyticalNote, NoteTombstone), ...errorResponses(400, 401, 403, 404, 410) },
    },
    handler: async (request, reply) => {
      const { id } = request.params;
      const q = request.query;
      return planYearList(
        request,
        reply,
        db,
        {
          planId: id,
          list: noteList(id),
          table: analyticalNotes,
          entityType: 'note',
          planColumn: analyticalNotes.planId,
          toDto: toNoteDto,
        },
        q,
      );
    },
  });

  r.get('/plans/:id/notes/:year', {
    config: { access: access.viewer },
    schema: {
      tags: [TAG],
      operationId: 'getAnalyticalNote',
      summary: "Get a plan's analytical note for a year",
      params: NoteParams,
      response: { 200: AnalyticalNote, 304: z.null().describe('Not modified'), ...errorResponses(400, 401, 403, 404) },
    },
    handler: async (request, reply) =>
      answerVersioned(request, reply, await service.get(request.params.id, request.params.year), toNoteDto),
  });

  r.put('/plans/:id/notes/:year', {
    config: { access: byPlan },
    schema: {
      tags: [TAG],
      operationId: 'putAnalyticalNote',
      summary: "Create or replace a plan's analytical note for a year",
      description:
        'The year must be one of the plan years (startYear..endYear). 201 when created, 200 when replaced. ' +
        'Send If-Match with the ETag to refuse replacing a newer version (412). An approved year answers 409 until an admin reopens it.',
      params: NoteParams,
      body: NotePut,
      response: { 200: AnalyticalNote, 201: AnalyticalNote, ...errorResponses(400, 401, 403, 404, 409, 412, 413, 415) },
    },
    handler: async (request, reply) => {
      const stored = await service.put(
        actorOf(request),
        request.params.id,
        request.params.year,
        request.body,
        ifMatchOf(request),
      );
      setEtag(reply, stored.version);
      return reply.code(stored.created ? 201 : 200).send(toNoteDto(stored));
    },
  });

  r.delete('/plans/:id/notes/:year', {
    config: { access: byPlan },
    schema: {
      tags: [TAG],
      operationId: 'deleteAnalyticalNote',
      summary: "Delete a plan's analytical note for a year",
      description: 'An approved year answers 409 until an admin reopens it.',
      params: NoteParams,
      response: { 204: z.null().describe('Deleted'), ...errorResponses(400, 401, 403, 404, 409, 412) },
    },
    handler: async (request, reply) => {
      await service.remove(actorOf(request), request.params.id, request.params.year, ifMatchOf(request));
      return reply.code(204).send(null);
    },
  });
}
