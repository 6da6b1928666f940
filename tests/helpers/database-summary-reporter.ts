/**
 * Prints, once at the end of `npm test`, which database the run used and how many tests that need
 * two connections at once it skipped, so a PGlite-only run (one connection) does not pass
 * silently for the locking it did not check. Runs in vitest's main process, as global-setup.ts
 * does, which leaves the database's label in NYSANA_TEST_DATABASE_LABEL.
 */
import type { Reporter, TestModule } from 'vitest/node';

/** Ends the name of every test that needs two connections (tests/helpers/two-connections.ts). */
export const TWO_CONNECTIONS = '[two connections]';
/** Annotation type of a check a test left out because the run has one connection. */
export const ONE_CONNECTION_SKIP = 'skipped on one connection';

export default class DatabaseSummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>) {
    let ran = 0;
    let skipped = 0;
    const leftOut: string[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        if (test.name.endsWith(TWO_CONNECTIONS)) {
          if (test.result().state === 'skipped') skipped++;
          else ran++;
        }
        for (const note of test.annotations()) if (note.type === ONE_CONNECTION_SKIP) leftOut.push(note.message);
      }
    }
    const database = process.env.NYSANA_TEST_DATABASE_LABEL ?? 'an unknown database';
    const why = skipped + leftOut.length > 0 ? ' (PGlite has one connection: run on PostgreSQL to check locking)' : '';
    const parts = [`${ran} two-connection tests ran`, `${skipped} skipped`];
    if (leftOut.length > 0) parts.push(`${leftOut.length} check(s) left out: ${leftOut.join('; ')}`);
    process.stdout.write(`\n[tests] database: ${database}; ${parts.join(', ')}${why}\n`);
  }
}
