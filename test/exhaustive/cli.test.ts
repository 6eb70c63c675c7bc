/**
 * `npm run check:exhaustive`, through the compiled entry point (the npm script rebuilds dist/,
 * which no test may do while others run it): the CI bound is searched to exhaustion within two
 * minutes with no violation; a broken core is caught with its shortest trace, and the printed
 * replay command reproduces it; a bad argument is refused before any search.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requireBuiltDist } from '../support/dist.js';

const MAIN = 'dist/exhaustive/main.js';
const dir = mkdtempSync(join(tmpdir(), 'raftkv-exhaustive-'));
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

function run(args: readonly string[], timeoutMs: number) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: timeoutMs,
    killSignal: 'SIGKILL' });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

describe('[exhaustive] npm run check:exhaustive', () => {
  it('--bound ci: every state within the CI bound, no violation, in under two minutes', () => {
    requireBuiltDist();
    const json = join(dir, 'ci.json');
    const t0 = performance.now();
    const r = run(['--bound', 'ci', '--json', json], 180_000);
    const seconds = (performance.now() - t0) / 1000;
    console.log(r.stdout.split('\n').slice(-4).join('\n'));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^the bound is exhausted: it has [\d,]+ states$/m);
    const report = JSON.parse(readFileSync(json, 'utf8')) as { exhausted: boolean;
      states: number; transitions: number; depth: number; completeDepth: number;
      found?: unknown };
    expect(report.exhausted).toBe(true);
    expect(report.completeDepth).toBe(report.depth);
    expect(report.found).toBeUndefined();
    expect(report.states).toBeGreaterThan(100_000);
    expect(report.transitions).toBeGreaterThan(report.states);
    expect(report.depth).toBeGreaterThan(20);
    // about 70 s alone on this machine; CI runs other suites beside it
    expect(seconds).toBeLessThan(180);
  }, 200_000);

  it('--bug voteWithoutUpToDateCheck: caught with its shortest trace, which the printed replay ' +
    'command reproduces; quint test names the step the spec refuses and accepts the steps ' +
    'before it', () => {
      requireBuiltDist();
      const r = run(['--bound', 'ci', '--bug', 'voteWithoutUpToDateCheck'], 180_000);
      expect(r.code, r.stdout + r.stderr).toBe(0); // with --bug, finding it is success
      const violation = /^VIOLATION leaderCompleteness: .+$/m.exec(r.stdout);
      expect(violation, r.stdout).not.toBeNull();
      const steps = Number(/^shortest trace, (\d+) steps:$/m.exec(r.stdout)?.[1]);
      expect(steps).toBeGreaterThan(5);
      const replay = /^replay: npm run check:exhaustive -- (.+)$/m.exec(r.stdout)?.[1] ?? '';
      expect(replay).toMatch(/--bug voteWithoutUpToDateCheck --replay [\d.]+$/);
      const again = run(replay.split(' '), 60_000);
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expect(again.stdout).toContain(violation?.[0]);
      expect(again.stdout.split('\n').filter((l) => /^ *\d+\. /.test(l))).toHaveLength(steps);
      // the spec verdict: a vote request granted against a more up-to-date log
      const verdict = /^spec verdict: the spec refuses step (\d+): (handle\w+)\(/m.exec(r.stdout);
      expect(verdict, r.stdout).not.toBeNull();
      expect(verdict?.[2]).toMatch(/^handle(PreVote|RequestVote)Request$/);
      const k = Number(verdict?.[1]);
      expect(k).toBeGreaterThan(1);
      expect(k).toBeLessThanOrEqual(steps);
      expect(r.stdout).toContain(`quint test fails upTo${k}Test and passes upTo${k - 1}Test`);
      expect(again.stdout).toContain(verdict?.[0]);
    }, 240_000);

  it('--bound deep --bug commitEarlierTermByCount: Figure 8, a leader committing an entry of an ' +
    'earlier term by counting replicas, caught by leaderCommit in its shortest trace of 22 steps',
  () => {
    requireBuiltDist();
    const r = run(['--bound', 'deep', '--bug', 'commitEarlierTermByCount', '--spec', 'off'],
      240_000);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^check:exhaustive: 3 servers, terms <= 3, logs <= 2 entries, 0 cl/m);
    expect(r.stdout)
      .toMatch(/^VIOLATION leaderCommit: \d{4}, leader of term \d, committed \d \(term \d\)/m);
    expect(r.stdout).toMatch(/^shortest trace, 22 steps:$/m);
  }, 260_000);

  it.each([['on worker threads', []], ['in the calling thread (--workers 0)', ['--workers', '0']]])(
    'the default bound under --max-seconds stops at the limit and says it is not exhausted, %s',
    (_how, extra) => {
      requireBuiltDist();
      const t0 = performance.now();
      const r = run(['--max-seconds', '5', ...extra], 60_000);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^check:exhaustive: 3 servers, terms <= 3, .+ 1 crash\(es\)/m);
      const stop = new RegExp('^stopped by the time limit: the bound is not exhausted; every ' +
        'state to depth (\\d+) was visited, and part of depth (\\d+)$', 'm').exec(r.stdout);
      expect(stop, r.stdout).not.toBeNull();
      // the last level printed is the one the limit cut short
      expect(Number(stop?.[2])).toBe(Number(stop?.[1]) + 1);
      expect(r.stdout).toMatch(new RegExp(`, depth ${stop?.[2]}, `));
      expect(r.stdout).not.toMatch(/exhausted: it has/);
      expect(performance.now() - t0).toBeLessThan(30_000);
    }, 60_000);

  it('--bound five: five servers elect and replicate (thousands of states, not a pruned few)',
    () => {
      requireBuiltDist();
      const r = run(['--bound', 'five', '--max-states', '3000'], 60_000);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^check:exhaustive: 5 servers, terms <= 2, logs <= 1 entries/m);
      const states = Number(/^([\d,]+) distinct states/m.exec(r.stdout)?.[1]?.replace(/,/g, ''));
      expect(states).toBeGreaterThanOrEqual(3000);
      const depth = Number(/, depth (\d+),/.exec(r.stdout)?.[1]);
      expect(depth).toBeGreaterThanOrEqual(12);
    }, 60_000);

  it('refuses a bound too small for a campaign to broadcast (exit 2)', () => {
    requireBuiltDist();
    const r = run(['--servers', '5', '--max-inflight', '3'], 30_000);
    expect(r.code).toBe(2);
    expect(r.stderr + r.stdout).toMatch(/--max-inflight 3 is below the 4 messages one campaign/);
  });

  it('refuses a bad bound or an unknown bug at once (exit 2)', () => {
    requireBuiltDist();
    const bad = run(['--max-term', 'many'], 30_000);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^bad --max-term "many": expected a whole number/m);
    const path = run(['--bound', 'ci', '--replay', '99999'], 30_000);
    expect(path.code).toBe(2);
    expect(path.stderr).toMatch(/^bad --replay: step 1 has no move 99999 \(\d+ there\)/m);
    const bug = run(['--bug', 'nonsense'], 30_000);
    expect(bug.code).toBe(2);
    expect(bug.stderr).toMatch(/^unknown bug nonsense; known: /m);
    expect(bug.stdout).toBe('');
    const spec = run(['--spec', 'maybe'], 30_000);
    expect(spec.code).toBe(2);
    expect(spec.stderr).toMatch(/^bad --spec maybe: expected on or off/m);
  });
});
