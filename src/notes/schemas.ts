/** The analytical note (section 3 of the annual report): localized rich text per plan and year. */
import { z } from 'zod';
import { EntityMeta, ListQuery, LocalizedText, Uuid, Year } from '../shared/schemas.js';

const Paragraph = z
  .strictObject({ type: z.literal('paragraph'), text: LocalizedText })
  .meta({ id: 'NoteParagraph', description: 'A paragraph.' });
const Heading = z
  .strictObject({ type: z.literal('heading'), text: LocalizedText })
  .meta({ id: 'NoteHeading', description: 'A sub-heading.' });
const List = z
  .strictObject({
    type: z.literal('list'),
    ordered: z.boolean().default(false).describe('true: numbered 1), 2), ...; false (default): bullets.'),
    items: z.array(LocalizedText).min(1).max(500),
  })
  .meta({ id: 'NoteList', description: 'A bulleted or numbered list; each item is localized text.' });

export const NoteBlock = z.discriminatedUnion('type', [Paragraph, Heading, List]).meta({
  id: 'NoteBlock',
  description: 'One block of the note: a paragraph, a sub-heading or a list.',
});
export type NoteBlock = z.infer<typeof NoteBlock>;

const blocks = z.array(NoteBlock).min(1).max(2000).describe('The text in reading order.');

export const AnalyticalNote = z.object({ ...EntityMeta, planId: Uuid, year: Year, blocks }).meta({
  id: 'AnalyticalNote',
  description: "A plan's analytical note for one reporting year (section 3 of the report).",
});
export type AnalyticalNote = z.infer<typeof AnalyticalNote>;

export const NotePut = z.strictObject({ blocks }).describe('The whole note: PUT replaces it.');

export const NoteParams = z.strictObject({
  id: Uuid,
  year: z.coerce.number().int().min(1900).max(2200),
});

export const NoteListQuery = ListQuery;
