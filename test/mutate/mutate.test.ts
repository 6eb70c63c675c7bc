/**
 * `npm run mutate`, as typed but over one line of the core (the whole run takes about an hour and
 * is not part of `npm test`): Stryker instruments the line, runs the dry run of the test set on the
 * correct core, kills each mutant of the line and prints the score table. The test set is narrowed
 * (`RAFTKV_MUTATE_TESTS`, read by `vitest.config.ts`) to the core's unit tests of the rules: the dry
 * run of the whole set, with the simulated and explored checks, took a minute under CI's load.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';

const TEMP = '.stryker-tmp-test';
afterAll(() => { rmSync(TEMP, { recursive: true, force: true }); });

/**
 * Lines whose every mutant a check kills: the count behind every quorum (votes, ReadIndex,
 * CheckQuorum), of voters only, the server itself only if it is one [D§4] (`countsQuorum`).
 */
const LINE = 'src/core/state.ts:313-315';
/** The tests that decide it: the core's unit tests, without the simulated and explored checks. */
const TESTS = 'test/core/**/*.test.ts';

describe('[mutate] npm run mutate', () => {
  it('mutates one line, kills its mutants and prints the score', () => {
    const r = spawnSync('npm', ['run', 'mutate', '--', '--mutate', LINE, '--concurrency', '1',
      '--tempDirName', TEMP, '--reporters', 'clear-text'], { encoding: 'utf8', timeout: 420_000,
      killSignal: 'SIGKILL', env: { ...process.env, FORCE_COLOR: '0', RAFTKV_MUTATE_TESTS: TESTS } });
    const out = `${r.stdout}${r.stderr}`;
    expect(r.status, out.slice(-3000)).toBe(0);
    expect(out).toMatch(/Instrumented 1 source file\(s\) with \d+ mutant\(s\)/);
    expect(out).toMatch(/Initial test run succeeded/);
    const row = out.split('\n').find((l) => /^\s*state\.ts\s*\|/.test(l));
    console.log(`[mutate] ${row?.trim()}`);
    const cells = (row ?? '').split('|').map((c) => c.trim());
    // File | total | covered | killed | timeout | survived | no cov | errors
    expect(Number(cells[1])).toBe(100);
    expect(Number(cells[3]) + Number(cells[4])).toBeGreaterThan(0);
    expect(Number(cells[5])).toBe(0);
  }, 480_000);
});
