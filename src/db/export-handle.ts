/**
 * Streamed exports read through a pool of their own, so a download, however slow its client, never
 * holds a connection that ordinary requests wait for. openPostgres() gives each handle it opens
 * (the primary's, and the replica's with DATABASE_READ_URL) a twin over a small second pool
 * (EXPORT_POOL_MAX) and registers it here; an export looks up the twin of the handle its route
 * reads from, so it reads the same database (a status export stays on the replica) through other
 * connections. PGlite has one connection and no twin: exports there page in short queries instead
 * (src/exports/status.ts, tabular.ts) and share it.
 */
import type { Db } from './client.js';

const twins = new WeakMap<Db, Db>();

/** Called by openPostgres: `exportDb` reads what `db` reads, through the exports' own pool. */
export function registerExportHandle(db: Db, exportDb: Db): void {
  twins.set(db, exportDb);
}

/** The handle an export of `db`'s data reads through: its twin when it has one, else `db` itself. */
export function exportHandleOf(db: Db): Db {
  return twins.get(db) ?? db;
}
