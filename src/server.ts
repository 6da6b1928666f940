/** `npm start`: configuration, database, migrations, then serve until SIGTERM/SIGINT. */
import { setFlagsFromString } from 'node:v8';
import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { loadConfigOrExit } from './config.js';
import { migrate } from './db/migrate.js';
import { openDatabaseOrExit } from './db/open.js';
import { isEmpty, seedDemo } from './demo/seed.js';
import { startPruneTimer } from './sync/retention.js';
import { ensureFirstAdmin } from './users/bootstrap.js';

const config = loadConfigOrExit();
// Set before the database and the app allocate anything; V8 reads it at every heap-limit update.
// The young generation's size cannot be set this way (V8 sizes it once, at heap setup): it is a node
// flag of package.json's start script.
if (config.HEAP_GROWING_PERCENT > 0) setFlagsFromString(`--heap-growing-percent=${config.HEAP_GROWING_PERCENT}`);

const database = await openDatabaseOrExit(config);
await migrate(database);
// A newcomer's first `npm start` on an empty embedded database gets the 2016 demo plan to explore.
// Never automatic on a DATABASE_URL database: that is somebody's real data.
if (database.kind === 'pglite' && config.DEMO_DATA !== false && (await isEmpty(database.db))) {
  const seeded = await seedDemo(database.db);
  console.log(`loaded the demo plan (DEMO_DATA=false skips this): plan ${seeded.planId}`);
}
// The first admin, only while no user exists: ADMIN_EMAIL / ADMIN_PASSWORD, or on the embedded
// database a generated local admin whose password is printed here, once.
const firstAdmin = await ensureFirstAdmin(database.db, config, { generateLocal: database.kind === 'pglite' });
if (firstAdmin.status === 'created') {
  console.log(
    firstAdmin.generatedPassword
      ? `created the local admin ${firstAdmin.email} with password ${firstAdmin.generatedPassword} (shown only now; change it with POST /api/v1/me/password)`
      : `created the first admin ${firstAdmin.email}`,
  );
} else if (firstAdmin.status === 'no-users') {
  console.warn(
    'no user exists yet: set ADMIN_EMAIL and ADMIN_PASSWORD, or run `npm run user:create -- --email ... --role admin`',
  );
}
const app = await buildApp({
  db: database.db,
  readDb: database.read,
  config,
  poolStats: database.poolStats,
  listen: database.listen,
});
app.log.info(
  { database: database.kind, dataDir: database.kind === 'pglite' ? config.DATA_DIR : undefined },
  'database ready',
);

// Tombstones older than the retention are pruned on a timer (unref'd: it never holds the process open).
const stopPruning = startPruneTimer(database.db, {
  retentionDays: config.SYNC_TOMBSTONE_RETENTION_DAYS,
  intervalMinutes: config.SYNC_PRUNE_INTERVAL_MINUTES,
  log: app.log,
});

// SIGTERM and SIGINT are handled here rather than by close-with-grace, which exits 1 on a second
// signal: under `npm start` one Ctrl-C reaches node twice (the terminal signals the whole process
// group, and npm forwards its own copy), and that must stop the server once, cleanly. The same signal
// again within a second is that duplicate; a later one (an impatient second Ctrl-C) exits at once.
let stopSignal: NodeJS.Signals | undefined;
const graceful = closeWithGrace({ delay: 10_000, skip: ['SIGINT', 'SIGTERM'] }, async ({ err }) => {
  if (err) app.log.error({ err }, 'closing after an error');
  else app.log.info({ signal: stopSignal }, 'shutting down');
  stopPruning();
  await app.close();
  await database.close();
});
let firstSignalAt = 0;
const onStopSignal = (signal: NodeJS.Signals) => {
  if (stopSignal === undefined) {
    stopSignal = signal;
    firstSignalAt = Date.now();
    void graceful.close();
  } else if (signal !== stopSignal || Date.now() - firstSignalAt > 1_000) {
    app.log.warn({ signal }, 'second signal while shutting down: exiting now');
    process.exit(1);
  }
};
process.on('SIGTERM', onStopSignal);
process.on('SIGINT', onStopSignal);

await app.listen({ port: config.PORT, host: config.HOST });
