/**
 * `npm run mutate`: StrykerJS mutates every rule and guard of the core (comparisons, boolean
 * operators and conjuncts, +-1, early returns, block removal, Math.max/min and the like; string,
 * object and array literals are left alone: they name things, not decisions) and runs each mutant
 * against the core's unit tests and the fast checks of `checks.check.ts`, quickest first (Stryker
 * orders a mutant's tests by their dry-run time), stopping at the first that fails.
 *
 * Static mutants (evaluated once, when a module loads: the statechart's definition) are left out
 * (`ignoreStatic`): each would need a fresh process per run.
 */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'test/mutate/vitest.config.ts' },
  mutate: [
    'src/core/rules/**/*.ts',
    'src/core/machine.ts',
    'src/core/raftRules.ts',
    'src/core/pacing.ts',
    'src/core/timers.ts',
    'src/core/log.ts',
    'src/core/kv.ts',
  ],
  mutator: { excludedMutations: ['StringLiteral', 'ObjectLiteral', 'ArrayDeclaration', 'Regex'] },
  ignoreStatic: true,
  coverageAnalysis: 'perTest',
  concurrency: 2,
  timeoutMS: 30_000,
  reporters: ['clear-text', 'json', 'progress-append-only'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
