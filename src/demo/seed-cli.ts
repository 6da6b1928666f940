/** `npm run seed:demo`: load the 2016 demo plan into the configured database (idempotent). */
import { loadConfig } from '../config.js';
import { migrate } from '../db/migrate.js';
import { openDatabaseOrExit } from '../db/open.js';
import { seedDemo } from './seed.js';

const config = loadConfig();
const database = await openDatabaseOrExit(config);
try {
  await migrate(database);
  const result = await seedDemo(database.db);
  console.log(
    result.loaded ? `demo plan loaded: plan ${result.planId}` : 'demo organization already present; nothing changed',
  );
} finally {
  await database.close();
}
