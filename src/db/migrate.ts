import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database } from './client.js';

export const MIGRATIONS_FOLDER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

/** Applies pending drizzle-kit migrations; replicas starting together serialize on the lock. */
export async function migrate(database: Database): Promise<void> {
  await database.withMigrationLock(async () => {
    if (database.kind === 'pglite') {
      const { migrate: run } = await import('drizzle-orm/pglite/migrator');
      await run(database.db as never, { migrationsFolder: MIGRATIONS_FOLDER });
    } else {
      const { migrate: run } = await import('drizzle-orm/node-postgres/migrator');
      await run(database.db as never, { migrationsFolder: MIGRATIONS_FOLDER });
    }
  });
}
