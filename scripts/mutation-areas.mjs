/**
 * The areas mutation testing covers (docs/testing.md): what each mutates and which test files
 * cover it. Shared by stryker.config.mjs and vitest.mutation.config.ts, so the two cannot drift.
 */
export const AREAS = {
  achievement: {
    mutate: ['src/achievement/**/*.ts'],
    tests: [
      'tests/unit/achievement.test.ts',
      'tests/unit/achievement.property.test.ts',
      'tests/unit/achievement.paths.test.ts',
    ],
  },
  access: {
    // The role check (principal.ts) and editor scoping (the auth plugin's preHandler). The rest of
    // plugin.ts, access.ts and ownership.ts are left out to keep a run short on a shared 2-core
    // machine (a run of all of them measured ~45 min there); widen with care.
    mutate: ['src/auth/principal.ts', 'src/auth/plugin.ts:106-122'],
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
    // Editor scope (checkEditorScope) and change detection (sameValues), as line ranges: re-check them
    // when bulk.ts moves. Validation, the SQL builders, the JSON writers and the handler are left out
    // to keep a run short on a shared 2-core machine.
    mutate: ['src/measurements/bulk.ts:267-281', 'src/measurements/bulk.ts:353-358'],
    tests: ['tests/api/bulk.test.ts', 'tests/api/bulk-transaction.test.ts'],
  },
};

export function areaOf(name) {
  if (!name) throw new Error(`MUTATION_AREA must name one of: ${Object.keys(AREAS).join(', ')}`);
  const area = AREAS[name];
  if (!area) throw new Error(`unknown MUTATION_AREA "${name}"; one of: ${Object.keys(AREAS).join(', ')}`);
  return { name, ...area };
}
