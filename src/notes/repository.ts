import { and, eq, getTableColumns, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import type { Tx } from '../db/tx.js';
import { registerChild } from '../db/hierarchy.js';
import { analyticalNotes, plans } from '../db/schema.js';
import { tableList } from '../lists/table.js';
import { iso } from '../shared/decimal.js';
import type { AnalyticalNote, NoteBlock } from './schemas.js';

// Notes hang under plans: a plan delete with ?cascade=true removes them, without it they answer 409.
registerChild(plans, {
  table: analyticalNotes,
  parentColumn: analyticalNotes.planId,
  entityType: 'note',
  describe: (row) => ({
    before: toNoteDto(row as unknown as Row),
    entityKey: `${String(row.planId)}/${String(row.year)}`,
  }),
});

type Row = typeof analyticalNotes.$inferSelect;

export const toNoteDto = (row: Row): AnalyticalNote => ({
  id: row.id,
  planId: row.planId,
  year: row.year,
  blocks: row.blocks as NoteBlock[],
  version: row.version,
  createdAt: iso(row.createdAt),
  updatedAt: iso(row.updatedAt),
});

/** The plan's years; with `lock`, a share lock so a concurrent cascade delete waits for the write. */
export async function planYearsOf(executor: Db | Tx, planId: string, lock = false) {
  let query = executor
    .select({ startYear: plans.startYear, endYear: plans.endYear })
    .from(plans)
    .where(eq(plans.id, planId))
    .$dynamic();
  if (lock) query = query.for('share');
  return (await query)[0];
}

export async function findNote(executor: Db | Tx, planId: string, year: number, forUpdate = false) {
  let query = executor
    .select()
    .from(analyticalNotes)
    .where(and(eq(analyticalNotes.planId, planId), eq(analyticalNotes.year, year)))
    .$dynamic();
  if (forUpdate) query = query.for('update');
  return (await query)[0];
}

/** A plan's notes, by year (one per year: the year alone is the key). */
export const noteList = (planId: string) =>
  tableList({
    table: analyticalNotes,
    where: [eq(analyticalNotes.planId, planId)],
    orderBy: [analyticalNotes.year],
    toDto: toNoteDto,
  });

/** Insert or replace; `created` tells which (xmax = 0 only for a freshly inserted tuple). */
export async function upsertNote(tx: Tx, planId: string, year: number, blocks: NoteBlock[]) {
  const [row] = await tx
    .insert(analyticalNotes)
    .values({ planId, year, blocks })
    .onConflictDoUpdate({
      target: [analyticalNotes.planId, analyticalNotes.year],
      set: { blocks, version: sql`${analyticalNotes.version} + 1`, updatedAt: sql`now()` },
    })
    .returning({ ...getTableColumns(analyticalNotes), created: sql<boolean>`(xmax = 0)` });
  return row!;
}

export async function deleteNote(tx: Tx, planId: string, year: number) {
  await tx.delete(analyticalNotes).where(and(eq(analyticalNotes.planId, planId), eq(analyticalNotes.year, year)));
}
