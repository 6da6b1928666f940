/**
 * Some files do not use the run's database at all: they start the server on an embedded database of
 * its own (`npm start`, the DATA_DIR lock) or a PostgreSQL server of their own (a read replica, an
 * outage). CI runs the suite twice, on PostgreSQL and on PGlite, and runs each such file in only one of
 * the two: TEST_SKIP=embedded (or own-postgres, or both, comma-separated) names what this run leaves to
 * the other. Unset, as on a developer's machine, everything runs.
 */
export type SkippableKind = 'embedded' | 'own-postgres';

export function leftToTheOtherRun(kind: SkippableKind): string | undefined {
  const skipped = (process.env.TEST_SKIP ?? '').split(',').map((s) => s.trim());
  return skipped.includes(kind) ? `TEST_SKIP=${kind}: the other CI run covers it` : undefined;
}
