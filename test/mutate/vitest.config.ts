/**
 * The test set `npm run mutate` runs each mutant against (`stryker.config.mjs`): the core's unit
 * tests and the fast checks of `checks.check.ts`. Not part of `npm test`, whose default pattern
 * (`*.test.ts`) does not match `*.check.ts`.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/core/**/*.test.ts', 'test/mutate/**/*.check.ts'],
    // the @xstate/graph path replay takes 13 s: every survivor would pay it; the exhaustive search
    // and the spec replay walk the same transitions
    exclude: ['test/core/graph.test.ts'],
    globalSetup: ['test/mutate/traces.setup.ts'],
    testTimeout: 120_000,
  },
});
