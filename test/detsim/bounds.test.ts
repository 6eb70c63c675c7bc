/**
 * [spec: overloaded] The waiting-request bounds hold under a flood (`check/bounds.ts`): the mix's
 * ordinary load against small bounds, on the correct core, and on a replica that ignores the
 * bounds it was configured with (it raises its own), which the check catches.
 */
import { describe, expect, it } from 'vitest';
import type { RaftRules } from '../../src/core/ruleSet.js';
import { mixRun, shippedScenarios } from '../../src/detsim/mix.js';
import { simulate } from '../../src/detsim/simulation.js';

/** Small bounds: ordinary load is a flood, and a page and a few large values fill the units waiting. */
const LIMITS = { maxWaitingRequests: 12, maxWaitingPerClient: 4, maxUncommittedEntries: 8,
  maxWaitingBytes: 64_000 };

/** A replica that keeps whatever arrives: its own bounds are a thousand times the configured. */
const ignoresItsBounds = (r: RaftRules): RaftRules => ({ ...r,
  recover: (config, seed, persisted) => r.recover({ ...config,
    maxWaitingRequests: config.maxWaitingRequests * 1000,
    maxWaitingPerClient: config.maxWaitingPerClient * 1000 }, seed, persisted) });

/** A replica that keeps large requests whatever they weigh: its own byte bound is huge. */
const ignoresItsByteBound = (r: RaftRules): RaftRules => ({ ...r,
  recover: (config, seed, persisted) => r.recover({ ...config,
    maxWaitingBytes: config.maxWaitingBytes * 1000 }, seed, persisted) });

describe('[overload] the waiting-request bounds hold under a flood', () => {
  it('the correct core keeps them, refusing the rest; a replica that ignores them is caught', () => {
    const shipped = shippedScenarios();
    let refused = 0;
    let caught: string | undefined;
    for (let seed = 1; seed <= 4; seed++) {
      const run = { ...mixRun(seed, shipped), limits: LIMITS };
      const r = simulate(run);
      expect(r.failures, `seed ${seed}`).toEqual([]);
      refused += r.history.attempts.filter((a) => a.answers.some((x) => x.type === 'fail')).length;
      caught ??= simulate({ ...run, rules: ignoresItsBounds }).failures[0];
    }
    console.log(`[overload] ${refused} requests refused over 4 seeds; broken replica: ${caught}`);
    expect(refused).toBeGreaterThan(1000);
    expect(caught).toMatch(/^overloadBound violated at step \d+ .*: \d{4} keeps \d+ requests (of \w+ )?waiting \(bound (12|4 per client)\)$/);
  }, 120_000);

  it('a large request is kept only within the byte bound; a replica that ignores it is caught', () => {
    const shipped = shippedScenarios();
    // the mix's direct-mode seeds: one write in twenty carries a large value
    const seeds = [3, 7, 11, 15, 19, 23, 27, 31];
    const caught = seeds.flatMap((seed) => {
      const run = { ...mixRun(seed, shipped), limits: LIMITS };
      expect(simulate(run).failures, `seed ${seed}`).toEqual([]);
      return simulate({ ...run, rules: ignoresItsByteBound }).failures.slice(0, 1);
    });
    console.log(`[overload] byte bound ignored: caught in ${caught.length} of ${seeds.length} ` +
      `direct seeds: ${caught[0]}`);
    expect(caught.length).toBeGreaterThan(seeds.length / 4);
    expect(caught[0]).toMatch(/^overloadBound violated at step \d+ .*: \d{4} kept (put|cas|get|list) \S+ of \d+ units waiting, with \d+ units in all \(bound 64000\)$/);
  }, 120_000);
});
