/** `npm run migrate`: apply pending migrations to the configured database and exit. */
import { loadConfig } from '../config.js';
import { migrate } from './migrate.js';
import { openDatabase } from './open.js';

const config = loadConfig();
const database = await openDatabase(config);
try {
  await migrate(database);
  console.log(`migrations applied (${database.kind})`);
} finally {
  await database.close();
}
