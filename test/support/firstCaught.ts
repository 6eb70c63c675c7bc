/**
 * The first seed of the soak's mix (from 1, up to `seeds`) at which a replica built with `machine`
 * fails a simulated run; the correct core must pass every seed before it.
 */
import { expect } from 'vitest';
import { mixRun, shippedScenarios } from '../../src/detsim/mix.js';
import { simulate, type SimOptions } from '../../src/detsim/simulation.js';

export function firstCaught(machine: SimOptions['machine'], seeds: number):
  { seed: number; failure: string } {
  const shipped = shippedScenarios();
  for (let seed = 1; seed <= seeds; seed++) {
    const run = mixRun(seed, shipped);
    const broken = simulate({ ...run, machine });
    if (broken.failures.length > 0) return { seed, failure: broken.failures[0] as string };
    expect(simulate(run).failures, `seed ${seed}`).toEqual([]);
  }
  return { seed: 0, failure: '' };
}
