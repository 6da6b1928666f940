/** A fresh, migrated database for one test file (see global-setup.ts for which kind). */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { inject } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { openPglite, openPostgres } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { withDatabase } from './global-setup.js';

export interface TestDatabase {
  database: Database;
  /** Connection string of the file's own database (postgres mode only). */
  url?: string;
  dispose(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const target = inject('testDatabase');
  if (target.mode === 'pglite') {
    const dump = await readFile(target.pgliteDump!);
    const database = await openPglite({ loadDataDir: new Blob([dump]) });
    await migrate(database); // no-op unless a migration was added after the dump
    return { database, dispose: () => database.close() };
  }
  const name = `${target.template}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: target.adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name} template ${target.template}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(target.adminUrl!, name);
  // Generous connect timeout: many test files share 2 cores, and a slow connect is not a failure.
  const database = await openPostgres({ url, poolMax: 5, connectTimeoutMs: 30_000 });
  return {
    database,
    url,
    async dispose() {
      await database.close();
      const cleanup = new pg.Client({ connectionString: target.adminUrl });
      await cleanup.connect();
      await cleanup.query(`drop database if exists ${name} with (force)`);
      await cleanup.end();
    },
  };
}
