/**
 * The reach corpus (`test/mutate/reach.json`, `npm run reach`): each of its seeds still takes the
 * rare path it was chosen for, and passes every check of the simulation; `npm run reach` as typed
 * finds one seed per path within its search.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mixRun, shippedScenarios } from '../../src/detsim/mix.js';
import { pathsOf, RARE_PATHS, type RarePath } from '../../src/detsim/reach.js';
import { simulate } from '../../src/detsim/simulation.js';

const corpus = JSON.parse(readFileSync('test/mutate/reach.json', 'utf8')) as
  Record<RarePath, number[]>;

describe('[reach] seeds chosen because they take the core\'s rare paths', () => {
  it('every path has seeds, and each seed takes its path and passes every check', () => {
    const shipped = shippedScenarios();
    for (const path of RARE_PATHS) {
      const seeds = corpus[path];
      expect(seeds.length, path).toBeGreaterThan(0);
      for (const seed of seeds) {
        let taken = 0;
        const r = simulate({ ...mixRun(seed, shipped), observe: (_id, step) => {
          if (pathsOf(step).includes(path)) taken++;
        } });
        expect(r.failures, `seed ${seed}`).toEqual([]);
        expect(taken, `seed ${seed} no longer takes ${path}: run npm run reach -- --write ` +
          'test/mutate/reach.json').toBeGreaterThan(0);
      }
    }
  }, 120_000);

  it('`npm run reach -- --seeds 2100 --per 1` finds a seed for every path', () => {
    const r = spawnSync('npm', ['run', 'reach', '--', '--seeds', '2100', '--per', '1'],
      { encoding: 'utf8', timeout: 240_000, killSignal: 'SIGKILL' });
    expect(r.status, r.stderr).toBe(0);
    const found = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as Record<string, number[]>;
    for (const path of RARE_PATHS) expect(found[path]?.length, path).toBe(1);
    expect(r.stderr).toMatch(/raftkv reach: snapshotSettles 1, snapshotSettlesSession 1, lostAtCommit 1, earlierTermQuorum 1, prevTermConflict 1 of 1 each, within seeds 1\.\.2100/);
  }, 300_000);
});
