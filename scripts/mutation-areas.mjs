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
    // Who may call a route (access.ts, principal.ts, the auth plugin's role check) and editor
    // scoping (the plugin's preHandler, ownership.ts). The rest of plugin.ts (rule lookup, OpenAPI
    // descriptions) is left out to keep a run short on a shared 2-core machine.
    mutate: ['src/http/access.ts', 'src/auth/principal.ts', 'src/auth/plugin.ts:86-120', 'src/db/ownership.ts'],
    tests: ['tests/api/auth-access-matrix.test.ts', 'tests/api/auth-editor-scope.test.ts', 'tests/api/approvals-access.test.ts'],
  },
  etag: {
    mutate: ['src/http/etag.ts', 'src/http/conditional.ts'],
    tests: ['tests/api/conditional.test.ts', 'tests/api/concurrency.test.ts', 'tests/api/if-match.test.ts'],
  },
  bulk: {
    // Editor scope, change detection (sameValues) and the handler (transaction, outcomes, counts);
    // validation, the SQL builders and the JSON writers are left out to keep a run short on a
    // shared 2-core machine.
    mutate: ['src/measurements/bulk.ts:253-264', 'src/measurements/bulk.ts:325-331', 'src/measurements/bulk.ts:444-478'],
    tests: ['tests/api/bulk.test.ts', 'tests/api/bulk-transaction.test.ts'],
  },
};

export function areaOf(name) {
  if (!name) throw new Error(`MUTATION_AREA must name one of: ${Object.keys(AREAS).join(', ')}`);
  const area = AREAS[name];
  if (!area) throw new Error(`unknown MUTATION_AREA "${name}"; one of: ${Object.keys(AREAS).join(', ')}`);
  return { name, ...area };
}
