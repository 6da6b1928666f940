/**
 * Chooses the PostgreSQL the tests run on, once per run:
 *   1. TEST_DATABASE_URL, when set (CI points it at the local server);
 *   2. a testcontainers PostgreSQL 15, when a container runtime answers;
 *   3. otherwise the embedded PGlite, so `npm test` passes on a fresh machine.
 * For a real server it migrates a template database once; each test file then clones it.
 */
import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import pg from 'pg';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { openPglite, openPostgres } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';

export interface TestDatabaseTarget {
  mode: 'postgres' | 'pglite';
  adminUrl?: string;
  /** PGlite: a migrated data directory dump each test file starts from. */
  pgliteDump?: string;
  template?: string;
  label: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    testDatabase: TestDatabaseTarget;
  }
}

async function startContainer(): Promise<{ url: string; stop: () => Promise<unknown> } | undefined> {
  try {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const container = await new PostgreSqlContainer('postgres:15-alpine').start();
    return { url: container.getConnectionUri(), stop: () => container.stop() };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.log(`[tests] no container runtime (${message.split('\n')[0]}); using PGlite`);
    return undefined;
  }
}

export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

export default async function setup(project: TestProject) {
  let adminUrl = process.env.TEST_DATABASE_URL || undefined;
  let stop: (() => Promise<unknown>) | undefined;
  let label = 'TEST_DATABASE_URL';
  if (!adminUrl && process.env.TEST_DATABASE !== 'pglite') {
    const container = await startContainer();
    if (container) {
      adminUrl = container.url;
      stop = container.stop;
      label = 'testcontainers postgres:15';
    }
  }
  if (!adminUrl) {
    // initdb is the slow part of a new PGlite (~4.5 s); migrate once, dump, and let each file load it.
    const database = await openPglite();
    await migrate(database);
    const dump = await (database.db as unknown as { $client: PGlite }).$client.dumpDataDir('none');
    await database.close();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'nysana-tests-'));
    const pgliteDump = path.join(dir, 'migrated.tar');
    await writeFile(pgliteDump, Buffer.from(await dump.arrayBuffer()));
    project.provide('testDatabase', { mode: 'pglite', label: 'PGlite (embedded)', pgliteDump });
    process.env.NYSANA_TEST_DATABASE_LABEL = 'PGlite (embedded)'; // for database-summary-reporter.ts
    console.log('[tests] database: PGlite (embedded), one in-memory instance per test file');
    return () => rm(dir, { recursive: true, force: true });
  }

  const template = `nysana_tpl_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${template}`);
  const database = await openPostgres({ url: withDatabase(adminUrl, template), poolMax: 2 });
  await migrate(database);
  await database.close();
  project.provide('testDatabase', { mode: 'postgres', adminUrl, template, label });
  const version = (await admin.query('show server_version')).rows[0].server_version;
  console.log(`[tests] database: ${label} (PostgreSQL ${version}), one database per test file`);
  process.env.NYSANA_TEST_DATABASE_LABEL = `${label} (PostgreSQL ${version})`; // for database-summary-reporter.ts

  return async () => {
    // Drop the template and any per-file database a crashed worker left behind.
    const leftovers = await admin.query(`select datname from pg_database where datname = $1 or datname like $2`, [
      template,
      `${template}_%`,
    ]);
    for (const row of leftovers.rows) await admin.query(`drop database if exists ${row.datname} with (force)`);
    await admin.end();
    await stop?.();
  };
}
