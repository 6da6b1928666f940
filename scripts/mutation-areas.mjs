/**
 * The areas mutation testing covers (docs/testing.md): what each mutates and which test files
 * cover it. Shared by stryker.config.mjs and vitest.mutation.config.ts, so the two cannot drift.
 */
export const AREAS = {
  achievement: {
    mutate: ['src/achievement/**/*.ts'],
    tests: ['tests/unit/achievement.test.ts', 'tests/unit/achievement.property.test.ts', 'tests/unit/achievement.paths.test.ts'],
  },
  access: {
    // Who may call a route (access.ts, principal.ts, the auth plugin's rule lookup and role check),
    // editor scoping (the plugin's preHandler and ownership.ts). Lines 60-85 of plugin.ts write the
    // OpenAPI descriptions (covered by tests/api/openapi.test.ts, not by these tests).
    mutate: ['src/http/access.ts', 'src/auth/principal.ts', 'src/auth/plugin.ts:47-58', 'src/auth/plugin.ts:86-120', 'src/db/ownership.ts'],
    tests: ['tests/api/auth-access-matrix.test.ts', 'tests/api/auth-editor-scope.test.ts', 'tests/api/approvals-access.test.ts'],
  },
  etag: {
    mutate: ['src/http/etag.ts', 'src/http/conditional.ts'],
    tests: ['tests/api/conditional.test.ts', 'tests/api/concurrency.test.ts', 'tests/api/if-match.test.ts'],
  },
  bulk: {
    // The checks and the change detection (checkEditorScope .. sameValues) and the handler; the
    // SQL builders and the JSON writers in between are left out to keep a run under half an hour.
    mutate: ['src/measurements/bulk.ts:253-331', 'src/measurements/bulk.ts:444-478'],
    tests: ['tests/api/bulk.test.ts', 'tests/api/bulk-transaction.test.ts'],
  },
};

export function areaOf(name) {
  if (!name) throw new Error(`MUTATION_AREA must name one of: ${Object.keys(AREAS).join(', ')}`);
  const area = AREAS[name];
  if (!area) throw new Error(`unknown MUTATION_AREA "${name}"; one of: ${Object.keys(AREAS).join(', ')}`);
  return { name, ...area };
}
