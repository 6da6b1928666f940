/** Analytical note writes: the plan-year document service (src/plan-year-documents/) over the notes' SQL. */
import type { Db } from '../db/client.js';
import { planYearDocumentService } from '../plan-year-documents/service.js';
import { deleteNote, findNote, toNoteDto, upsertNote } from './repository.js';
import type { NoteBlock } from './schemas.js';

export const noteService = (deps: { db: Db }) =>
  planYearDocumentService(deps, {
    entityType: 'note',
    missing: (planId, year) => `plan ${planId} has no analytical note for ${year}`,
    find: findNote,
    upsert: (tx, planId, year, body: { blocks: NoteBlock[] }) => upsertNote(tx, planId, year, body.blocks),
    remove: deleteNote,
    toDto: toNoteDto,
  });
