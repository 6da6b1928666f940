import type { Config } from '../config.js';
import type { Database } from './client.js';
import { openPglite, openPostgres } from './client.js';

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
