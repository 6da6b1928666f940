/**
 * `npm run keys:rotate`: a new signing key for every replica. The previous key stops signing at
 * once but stays in the JWKS and keeps verifying until its last tokens have expired; replicas pick
 * the new key up within a minute (or at once, on the first token naming it). Keys retired long ago
 * are deleted. With the embedded PGlite database, stop the server first (one process at a time).
 * The new key is of JWT_ALGORITHM; after switching algorithms this is what retires the old one's key.
 */
import { loadConfig } from '../config.js';
import { migrate } from '../db/migrate.js';
import { openDatabaseOrExit } from '../db/open.js';
import { KeyStore } from './keys.js';

const config = loadConfig();
const database = await openDatabaseOrExit(config);
try {
  await migrate(database);
  const keys = new KeyStore(database.db, config);
  const result = await keys.rotate();
  const minutes = Math.ceil(keys.retentionMs / 60_000);
  console.log(`new signing key ${result.kid} (${keys.algorithm})`);
  for (const kid of result.retired) console.log(`retired ${kid} (verifies tokens for another ${minutes} min)`);
  for (const kid of result.deleted) console.log(`deleted ${kid}`);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  await database.close();
}
