/** `npm run migrate`: apply pending migrations to the configured database and exit. */
import { loadConfig } from '../config.js';
import { migrate } from './migrate.js';
import { openDatabaseOrExit } from './open.js';

const config = loadConfig();
const database = await openDatabaseOrExit(config);
try {
  await migrate(database);
  console.log(`migrations applied (${database.kind})`);
} finally {
  await database.close();
}
