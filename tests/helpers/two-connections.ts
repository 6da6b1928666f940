/**
 * Tests that need two database connections at once (one holds a lock or an open transaction while
 * the app's request works on another) run on PostgreSQL only: PGlite is one connection. Their
 * names end with "[two connections]", and `npm test` ends with a line counting the ones it ran and
 * skipped (database-summary-reporter.ts).
 */
import { inject, it } from 'vitest';
import type { TestContext } from 'vitest';
import { ONE_CONNECTION_SKIP, TWO_CONNECTIONS } from './database-summary-reporter.js';

export const hasTwoConnections = (): boolean => inject('testDatabase').mode === 'postgres';

/** `it`, on PostgreSQL only, named so the run's summary counts it. */
export function itTwoConnections(name: string, fn: (context: TestContext) => Promise<void>, timeout?: number) {
  return it.skipIf(!hasTwoConnections())(`${name} ${TWO_CONNECTIONS}`, fn, timeout);
}

/** Records, in the test's report and the run's summary, a check left out because the run has one connection. */
export async function leftOutOnOneConnection(context: TestContext, check: string) {
  await context.annotate(check, ONE_CONNECTION_SKIP);
}
