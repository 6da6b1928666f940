import type { Config } from '../config.js';
import type { Database } from './client.js';
import { openPglite, openPostgres } from './client.js';
import { DataDirInUse } from './data-dir-lock.js';

/** The database the configuration names: PostgreSQL with DATABASE_URL, else PGlite in DATA_DIR. */
export function openDatabase(config: Config): Promise<Database> {
  if (config.DATABASE_URL) {
    return openPostgres({
      url: config.DATABASE_URL,
      readUrl: config.DATABASE_READ_URL,
      poolMax: config.DB_POOL_MAX,
      exportPoolMax: config.EXPORT_POOL_MAX ?? config.EXPORT_CONCURRENCY,
      statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
      connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS,
    });
  }
  return openPglite({ dataDir: config.DATA_DIR });
}

/**
 * For entry points (server, CLIs): the database, or, when DATA_DIR is another process's, that
 * process and what to do instead printed, and exit 1 (before anything was written).
 */
export async function openDatabaseOrExit(config: Config): Promise<Database> {
  try {
    return await openDatabase(config);
  } catch (error) {
    if (error instanceof DataDirInUse) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}
