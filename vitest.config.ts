import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/helpers/global-setup.ts'],
    // Every test file gets its own fresh database, so files run in parallel safely.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // The summary line says which database ran and how many two-connection tests were skipped.
    reporters: ['default', './tests/helpers/database-summary-reporter.ts'],
  },
});
