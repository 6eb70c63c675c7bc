/**
 * The test set `npm run mutate` runs each mutant against (`stryker.config.mjs`): the core's unit
 * tests and the fast checks of `checks.check.ts`. Not part of `npm test`, whose default pattern
 * (`*.test.ts`) does not match `*.check.ts`.
 *
 * `RAFTKV_MUTATE_TESTS` (comma-separated globs) narrows the set: `npm test`'s smoke run of
 * `npm run mutate` over one line uses it so that Stryker's dry run does not pay for every check.
 */
import { defineConfig } from 'vitest/config';

const narrowed = process.env.RAFTKV_MUTATE_TESTS?.split(',').filter((g) => g !== '');
const include = narrowed ?? ['test/core/**/*.test.ts', 'test/mutate/**/*.check.ts'];

export default defineConfig({
  test: {
    include,
    // the @xstate/graph path replay takes 13 s: every survivor would pay it; the exhaustive search
    // and the spec replay walk the same transitions
    exclude: ['test/core/graph.test.ts'],
    // the spec traces are made only for the checks that replay them
    globalSetup: include.some((g) => g.startsWith('test/mutate/')) ? ['test/mutate/traces.setup.ts'] : [],
    testTimeout: 120_000,
  },
});
