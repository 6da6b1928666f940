// ESLint: the recommended JavaScript and typescript-eslint rules, plus the type-aware rules that catch
// what tsc does not (promises nobody awaits, `any` leaking into typed code). Formatting is Prettier's job.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // Generated: the OpenAPI types and the OData client (scripts/generate-odata-client.sh) are checked by their tests.
  {
    ignores: [
      'dist/',
      'node_modules/',
      'coverage/',
      'reports/',
      '.stryker-tmp/',
      'openapi/',
      'migrations/',
      'tests/odata-client/generated/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': [
        'error',
        { checksVoidReturn: { arguments: false, attributes: false } },
      ],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unsafe-assignment': 'error',
      '@typescript-eslint/no-unsafe-member-access': 'error',
      '@typescript-eslint/no-unsafe-call': 'error',
      '@typescript-eslint/no-unsafe-return': 'error',
      '@typescript-eslint/no-unsafe-argument': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // The layer rule of docs/architecture.md: data and shared code (services, repositories, schemas,
    // src/shared, src/db, src/lists, ...) never import HTTP code (src/http) nor any feature's routes.
    // Exempt: the HTTP edge itself, i.e. routes, plugins and the HTTP plumbing folders listed in
    // docs/architecture.md.
    files: ['src/**/*.ts'],
    ignores: [
      'src/http/**',
      'src/app.ts',
      'src/**/routes.ts',
      'src/**/*-routes.ts',
      'src/**/*-route.ts',
      'src/auth/plugin.ts',
      'src/openapi/plugin.ts',
      'src/openapi/polish.ts',
      'src/observability/metrics.ts',
      'src/status-cache/respond.ts',
      'src/reports/negotiate.ts',
      'src/exports/tabular.ts',
      'src/exports/status.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/http/*'],
              message:
                'Data code does not import HTTP code: throw a domain error (src/shared/errors.ts), take an Actor.',
            },
            {
              group: ['**/routes.js', '**/*-routes.js', '**/*-route.js'],
              message: "Features call each other's services or repositories, never their routes.",
            },
          ],
        },
      ],
    },
  },
  {
    // Tests read JSON answers as `Json` (any) on purpose: asserting on them is the point, and typing every
    // body would only restate the OpenAPI document (tests/api/openapi-types.test.ts checks the types).
    files: ['tests/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly' },
    },
  },
);
