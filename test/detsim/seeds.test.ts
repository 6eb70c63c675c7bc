/**
 * Scale and replay: CI runs 2,000 seeds of the scenario mix with the soak tool on both cores, and
 * shows that a failing seed comes with a replay command that reproduces it and a trace file.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireBuiltDist } from '../support/dist.js';

const CI_SEEDS = 2000;

interface Summary {
  seeds: number; wallS: number; seedsPerS: number; simulatedS: number;
  simulatedSPerWallS: number; undecided: number; failing: number[];
}

beforeAll(requireBuiltDist);

describe('[simulation] thousands of seeds per CI run', () => {
  it(`${CI_SEEDS} seeds of the scenario mix pass every checker`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'raftkv-seeds-'));
    const json = join(dir, 'summary.json');
    const r = spawnSync(process.execPath, ['dist/tools/soak.js', '--seeds', String(CI_SEEDS),
      '--workers', '2', '--json', json, '--traces', dir], { encoding: 'utf8',
      timeout: 600_000 });
    const out = `${r.stdout}${r.stderr}`;
    expect(r.status, out.slice(-3000)).toBe(0);
    const s = JSON.parse(readFileSync(json, 'utf8')) as Summary;
    console.log(`[seeds] ${s.seeds} seeds in ${s.wallS} s (${s.seedsPerS}/s), ${s.simulatedS} s ` +
      `simulated, ${s.simulatedSPerWallS} simulated s per wall s on 2 threads; history ` +
      `undecided in ${s.undecided} seeds`);
    expect(s.seeds).toBe(CI_SEEDS);
    expect(s.failing).toEqual([]);
  }, 600_000);

  it('prints a failing seed with a replay command and a trace file, and the replay fails alike',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'raftkv-seeds-'));
      const r = spawnSync(process.execPath, ['dist/tools/soak.js', '--seeds', '3', '--workers',
        '1', '--bug', 'answerTwice', '--traces', dir], { encoding: 'utf8', timeout: 120_000 });
      expect(r.status, r.stdout + r.stderr).toBe(0); // with --bug, finding it is success
      const replay = /replay: (node dist\/cli\.js detsim --mix --seed (\d+) --bug answerTwice)/
        .exec(r.stdout);
      expect(replay, r.stdout).not.toBeNull();
      const seed = Number(replay?.[2]);
      const trace = join(dir, `seed-${seed}.trace`);
      expect(existsSync(trace)).toBe(true);
      // The trace starts with the scenario, then one line per step.
      const [scenario, ...steps] = readFileSync(trace, 'utf8').trim().split('\n');
      expect((JSON.parse(scenario as string) as { seed: number }).seed).toBe(seed);
      expect(steps.length).toBeGreaterThan(100);
      // The replay command runs the same seed and fails the same way.
      const args = (replay?.[1] ?? '').split(' ').slice(1);
      const again = spawnSync(process.execPath, [...args, '--trace', join(dir, 'again.trace')],
        { encoding: 'utf8', timeout: 120_000 });
      expect(again.status).toBe(1);
      expect(again.stdout)
        .toMatch(/simulation verdict: FAIL \(seed \d+\)\n {2}\d+ duplicate answers/);
      expect(readFileSync(join(dir, 'again.trace'), 'utf8')).toBe(readFileSync(trace, 'utf8'));
    }, 120_000);

  it('raftkv detsim refuses bad arguments with a usage line (exit 2)', () => {
    const r = spawnSync(process.execPath, ['dist/cli.js', 'detsim', '--mix'],
      { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--mix needs --seed\nusage: raftkv detsim/);
    const bug = spawnSync(process.execPath, ['dist/cli.js', 'detsim', '--mix', '--seed', '1',
      '--bug', 'nope'], { encoding: 'utf8' });
    expect(bug.status).toBe(2);
    expect(bug.stderr).toMatch(/unknown bug "nope"; known: voteWithoutUpToDateCheck/);
    expect(execFileSync(process.execPath, ['dist/cli.js', 'detsim', '--mix', '--seed', '2'],
      { encoding: 'utf8' })).toMatch(/simulation verdict: PASS/);
  });

  it('the old names still run this round, saying the new one: simulate is detsim, sim is netsim',
    () => {
      const old = spawnSync(process.execPath, ['dist/cli.js', 'simulate', '--mix', '--seed', '2'],
        { encoding: 'utf8' });
      expect(old.status).toBe(0);
      expect(old.stderr).toContain('raftkv simulate is now raftkv detsim');
      expect(old.stdout).toMatch(/^raftkv detsim: .+ seed 2$/m);
      const sim = spawnSync(process.execPath, ['dist/cli.js', 'sim'], { encoding: 'utf8' });
      expect(sim.status).toBe(2); // no scenario: the network simulator's own usage line
      expect(sim.stderr).toContain('raftkv sim is now raftkv netsim');
      expect(sim.stderr).toContain('usage: raftkv netsim SCENARIO');
    });
});
