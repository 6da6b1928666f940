/**
 * The areas mutation testing covers (docs/testing.md): what each mutates and which test files
 * cover it. Shared by stryker.config.mjs and vitest.mutation.config.ts, so the two cannot drift.
 */
export const AREAS = {
  achievement: {
    // compute.ts and what grew beside it (evaluation methods, bands, roll-ups, forecasts); unit
    // tests only, no database.
    mutate: ['src/achievement/**/*.ts', '!src/achievement/status-sql.ts'],
    tests: [
      'tests/unit/achievement.test.ts',
      'tests/unit/achievement.property.test.ts',
      'tests/unit/achievement.paths.test.ts',
      'tests/unit/methods.property.test.ts',
      'tests/unit/methods.examples.test.ts',
    ],
  },
  'achievement-sql': {
    // The status rule in SQL, compared with compute.ts on a database. Its own area: with these
    // tests in the achievement area every compute.ts mutant would also run them (hours, not minutes).
    mutate: ['src/achievement/status-sql.ts'],
    tests: ['tests/api/achievement-sql.test.ts', 'tests/api/achievement-percent-sql.test.ts'],
  },
  access: {
    // Whole files: the role check and the 401 (principal.ts), the route rules (access.ts), the auth
    // plugin (rules per request, 401/403, editor scoping, the access notes in the OpenAPI text) and
    // the owner lookups editor scoping uses (ownership.ts). Whole files, not line ranges, so the area
    // follows the code when it moves.
    mutate: ['src/auth/principal.ts', 'src/auth/plugin.ts', 'src/http/access.ts', 'src/db/ownership.ts'],
    tests: [
      'tests/api/auth-access-matrix.test.ts',
      'tests/api/auth-editor-scope.test.ts',
      'tests/api/approvals-access.test.ts',
    ],
  },
  etag: {
    // The route side (parsing If-Match, ETags, conditional GETs) and the service side (the check
    // against the locked row, which the spine refactor moved into src/shared/if-match.ts).
    mutate: ['src/http/etag.ts', 'src/http/conditional.ts', 'src/shared/if-match.ts'],
    tests: ['tests/api/conditional.test.ts', 'tests/api/concurrency.test.ts', 'tests/api/if-match.test.ts'],
  },
  bulk: {
    // The whole bulk write path (validation, resolution, editor scope, approved years, change
    // detection, the SQL and the audit), not line ranges: bulk.ts is rewritten often.
    mutate: ['src/measurements/bulk.ts'],
    tests: ['tests/api/bulk.test.ts', 'tests/api/bulk-transaction.test.ts'],
  },
};

export function areaOf(name) {
  if (!name) throw new Error(`MUTATION_AREA must name one of: ${Object.keys(AREAS).join(', ')}`);
  const area = AREAS[name];
  if (!area) throw new Error(`unknown MUTATION_AREA "${name}"; one of: ${Object.keys(AREAS).join(', ')}`);
  return { name, ...area };
}
