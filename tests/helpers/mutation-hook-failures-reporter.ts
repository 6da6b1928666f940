/**
 * Mutation testing only (vitest.mutation.config.ts): a failing beforeAll/afterAll counts as a
 * failing test, so Stryker reports the mutant that broke it as killed.
 *
 * Why: when a file's top-level beforeAll throws (an API test builds its fixtures through the app
 * there, so a mutant that breaks, say, the admin role fails it), vitest marks the file failed and
 * every test in it skipped. Stryker 9.6's vitest runner reads only the tests: it turns a skipped
 * test into a failure when one of its enclosing describe blocks failed, but a test at the top level
 * of a file has no enclosing describe (vitest 2+ gives it `suite: undefined`), so the file's
 * failure is never seen and the mutant is reported as surviving. `npm test` fails on the same
 * mutant, so the score understated the suite. This reporter runs in vitest's main process after
 * the run and before Stryker reads the results (in the same task objects): every test a failed
 * hook left skipped becomes a failed test carrying the hook's error, and a failure in an afterAll
 * after all tests passed fails the last test of that file or block.
 */
import type { Reporter, Vitest } from 'vitest/node';

type Task = ReturnType<Vitest['state']['getFiles']>[number]['tasks'][number];
type Errors = NonNullable<NonNullable<Task['result']>['errors']>;

function testsOf(task: Task): Task[] {
  return task.type === 'suite' ? task.tasks.flatMap(testsOf) : [task];
}

function failFromHooks(block: Task): void {
  if (block.type !== 'suite') return;
  const errors: Errors | undefined = block.result?.errors;
  if (errors && errors.length > 0) {
    const tests = testsOf(block);
    const skippedByHook = tests.filter((t) => t.mode === 'skip' && t.result?.state === 'skip');
    const failed = tests.some((t) => t.result?.state === 'fail');
    const toFail = skippedByHook.length > 0 ? skippedByHook : failed ? [] : tests.slice(-1);
    for (const test of toFail) {
      test.mode = 'run';
      test.result = { ...test.result, state: 'fail', errors };
    }
  }
  for (const child of block.tasks) failFromHooks(child);
}

export default class MutationHookFailuresReporter implements Reporter {
  private vitest: Vitest | undefined;

  onInit(vitest: Vitest) {
    this.vitest = vitest;
  }

  onTestRunEnd() {
    for (const file of this.vitest?.state.getFiles() ?? []) failFromHooks(file as Task);
  }
}
