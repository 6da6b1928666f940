/**
 * The vitest configuration Stryker runs (stryker.config.mjs): the normal one, restricted to the
 * test files that cover the area being mutated (scripts/mutation-areas.mjs), plus a reporter that
 * makes a failing beforeAll/afterAll count as a failing test (tests/helpers/mutation-hook-failures-reporter.ts).
 */
import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';
import { areaOf } from './scripts/mutation-areas.mjs';

const area = areaOf(process.env.MUTATION_AREA);
const baseReporters = base.test?.reporters ?? [];

// Not mergeConfig: it would append to the base's include list instead of replacing it.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: area.tests,
    reporters: [
      ...(Array.isArray(baseReporters) ? baseReporters : [baseReporters]),
      './tests/helpers/mutation-hook-failures-reporter.ts',
    ],
  },
});
