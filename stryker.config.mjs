// Mutation testing (docs/testing.md): `npm run test:mutation` runs every area in turn;
// `MUTATION_AREA=achievement npm run test:mutation` (or access, etag, bulk) runs one.
// Each area mutates its own source and runs only the test files that cover it (see
// vitest.mutation.config.ts), with per-test coverage so a mutant runs only the tests that reach it.
// CPU on the CI machines is scarce: one or two test runners, never more.
import { areaOf } from './scripts/mutation-areas.mjs';

const area = areaOf(process.env.MUTATION_AREA);

export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.mutation.config.ts', related: false },
  mutate: area.mutate,
  coverageAnalysis: 'perTest',
  concurrency: Number(process.env.MUTATION_CONCURRENCY ?? 1),
  // API tests build an app and a database per file: a slow mutant is not a hung one.
  timeoutMS: 60_000,
  timeoutFactor: 3,
  ignoreStatic: true,
  checkers: [],
  reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true, reportMutants: true },
  htmlReporter: { fileName: `reports/mutation/${area.name}.html` },
  jsonReporter: { fileName: `reports/mutation/${area.name}.json` },
  tempDirName: `.stryker-tmp/${area.name}`,
  cleanTempDir: 'always',
  // Only what the tests and the mutated code need goes into the sandbox.
  // Anchored with "/": a bare "reports" would also drop src/reports.
  ignorePatterns: [
    '/bench',
    '/dist',
    '/data',
    '/docker',
    '/reports',
    '/coverage',
    '/.ci',
    '/docs',
    '/.mutation-baseline',
  ],
};
