/** `npm run sync:prune`: delete sync tombstones older than SYNC_TOMBSTONE_RETENTION_DAYS and exit. */
import { ConfigError, loadConfig } from '../config.js';
import { migrate } from '../db/migrate.js';
import { openDatabase } from '../db/open.js';
import { pruneTombstones } from './retention.js';

let config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
const database = await openDatabase(config);
try {
  await migrate(database);
  const { deleted, cutoff } = await pruneTombstones(database.db, config.SYNC_TOMBSTONE_RETENTION_DAYS);
  console.log(`pruned ${deleted} sync tombstones deleted before ${cutoff.toISOString()} (${database.kind})`);
} finally {
  await database.close();
}
