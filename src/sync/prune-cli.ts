/** `npm run sync:prune`: delete sync tombstones older than SYNC_TOMBSTONE_RETENTION_DAYS and exit. */
import { loadConfigOrExit } from '../config.js';
import { migrate } from '../db/migrate.js';
import { openDatabaseOrExit } from '../db/open.js';
import { pruneTombstones } from './retention.js';

const config = loadConfigOrExit();
const database = await openDatabaseOrExit(config);
try {
  await migrate(database);
  const { deleted, cutoff } = await pruneTombstones(database.db, config.SYNC_TOMBSTONE_RETENTION_DAYS);
  console.log(`pruned ${deleted} sync tombstones deleted before ${cutoff.toISOString()} (${database.kind})`);
} finally {
  await database.close();
}
