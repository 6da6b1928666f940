/**
 * One database handle type for both drivers: node-postgres against a real server, or the
 * embedded PGlite (PostgreSQL compiled to WASM) when no DATABASE_URL is given.
 */
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { Schema } from './schema.js';
import { schema } from './schema.js';
import { registerExportHandle } from './export-handle.js';
import type { DataDirLock } from './data-dir-lock.js';
import { lockDataDir } from './data-dir-lock.js';
import type { Listen } from './listen.js';
import { pgliteListen, postgresListen } from './listen.js';

export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export interface Database {
  db: Db;
  /**
   * Where plain reads may go: a streaming replica when DATABASE_READ_URL is set, else `db` itself.
   * Writes, reads inside a write's transaction and the read that confirms a write stay on `db`
   * (a replica lags the primary by its replay delay).
   */
  read: Db;
  kind: 'postgres' | 'pglite';
  /** Runs `fn` while holding a session-level advisory lock (no-op lock on PGlite: one process). */
  withMigrationLock<T>(fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** LISTEN on a channel of the primary over a connection of its own (src/db/listen.ts). */
  listen: Listen;
  /** Connection pool usage (PostgreSQL only). */
  poolStats?: () => { total: number; idle: number; waiting: number };
  /** Usage of the streamed exports' own pool of the primary (PostgreSQL only; src/db/export-handle.ts). */
  exportPoolStats?: () => { total: number; idle: number; waiting: number };
}

export interface PostgresOptions {
  url: string;
  /** A hot standby (or any read-only copy) for `read`; its own pool of the same size. */
  readUrl?: string;
  poolMax?: number;
  /** Connections of the second, smaller pool that streamed exports read through (per URL). */
  exportPoolMax?: number;
  statementTimeoutMs?: number;
  connectTimeoutMs?: number;
}

/** Server settings of the exports' pools' connections (see openPostgres). */
const EXPORT_SERVER_OPTIONS = '-c max_parallel_workers_per_gather=0';

// Arbitrary but fixed: every replica must agree on it.
const MIGRATION_LOCK_KEY = 727_001_2016;

export async function openPostgres(options: PostgresOptions): Promise<Database> {
  const { default: pg } = await import('pg');
  const { drizzle } = await import('drizzle-orm/node-postgres');
  const newPool = (connectionString: string, max = options.poolMax ?? 10, serverOptions?: string) => {
    const p = new pg.Pool({
      connectionString,
      max,
      ...(serverOptions ? { options: serverOptions } : {}),
      // pg's default of 0 waits forever for a connection; fail fast instead so callers can 503.
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      statement_timeout: options.statementTimeoutMs ?? 15_000,
      idleTimeoutMillis: 30_000,
    });
    // An idle client losing its server (restart, network) emits 'error' on the pool; without a
    // listener that would crash the process. The next checkout simply opens a new connection.
    p.on('error', () => {});
    return p;
  };
  const pool = newPool(options.url);
  const readPool = options.readUrl ? newPool(options.readUrl) : undefined;
  const db = drizzle(pool, { schema }) as unknown as Db;
  const read = readPool ? (drizzle(readPool, { schema }) as unknown as Db) : db;
  // pg opens connections on demand, so a pool no export ever uses costs nothing.
  const exportMax = options.exportPoolMax ?? 4;
  // Exports start no parallel workers: those are server processes beyond the pool's bound, taken from
  // ordinary requests, and a cursor cannot use them anyway; the watermark's scan spent a third more
  // CPU with one for no shorter a wait (docs/benchmarks.md, fourth session).
  const exportPool = newPool(options.url, exportMax, EXPORT_SERVER_OPTIONS);
  const exportReadPool = options.readUrl ? newPool(options.readUrl, exportMax, EXPORT_SERVER_OPTIONS) : undefined;
  registerExportHandle(db, drizzle(exportPool, { schema }) as unknown as Db);
  if (readPool) registerExportHandle(read, drizzle(exportReadPool!, { schema }) as unknown as Db);
  return {
    db,
    read,
    kind: 'postgres',
    listen: postgresListen({ url: options.url, connectTimeoutMs: options.connectTimeoutMs ?? 5_000 }),
    async withMigrationLock(fn) {
      const client = await pool.connect();
      try {
        await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
        try {
          return await fn();
        } finally {
          await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
        }
      } finally {
        client.release();
      }
    },
    close: async () => {
      await Promise.all([pool.end(), readPool?.end(), exportPool.end(), exportReadPool?.end()]);
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    exportPoolStats: () => ({
      total: exportPool.totalCount,
      idle: exportPool.idleCount,
      waiting: exportPool.waitingCount,
    }),
  };
}

export interface PgliteOptions {
  /** Folder of the database; undefined keeps it in memory (tests). */
  dataDir?: string;
  /** A `dumpDataDir()` tarball to start from: ~0.8 s instead of ~4.5 s for a fresh initdb. */
  loadDataDir?: Blob;
}

/**
 * PostgreSQL settings of the embedded server (a folder, not the tests' in-memory copies). PGlite's
 * memory is a WebAssembly.Memory, which grows and never shrinks: whatever PostgreSQL touches once
 * stays resident. PostgreSQL's defaults are sized for a dedicated server (shared_buffers 128 MB,
 * maintenance_work_mem 64 MB); a service of a few plans needs a fraction of that.
 */
const SERVER_SETTINGS = [
  '-c',
  'shared_buffers=16MB',
  '-c',
  'work_mem=2MB',
  '-c',
  'maintenance_work_mem=16MB',
  '-c',
  'temp_buffers=2MB',
  '-c',
  'wal_buffers=1MB',
];

export async function openPglite(options: PgliteOptions = {}): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { dataDir, loadDataDir } = options;
  let lock: DataDirLock | undefined;
  if (dataDir) {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dataDir, { recursive: true });
    // One process per folder: a second opener stops here, naming the owner (data-dir-lock.ts).
    lock = await lockDataDir(dataDir);
  }
  let client: InstanceType<typeof PGlite>;
  try {
    client = new PGlite({
      dataDir,
      loadDataDir,
      ...(dataDir ? { startParams: [...PGlite.defaultStartParams, ...SERVER_SETTINGS] } : {}),
    });
    await client.waitReady;
  } catch (error) {
    await lock?.release();
    throw error;
  }
  const db = drizzle(client, { schema }) as unknown as Db;
  return {
    db,
    read: db,
    kind: 'pglite',
    listen: pgliteListen(client),
    withMigrationLock: (fn) => fn(),
    close: async () => {
      try {
        await client.close();
      } finally {
        await lock?.release();
      }
    },
  };
}
