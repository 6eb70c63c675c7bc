/**
 * [spec: overloaded] The waiting-request bounds hold under a flood (`check/bounds.ts`): the mix's
 * ordinary load against small bounds, on the correct core, and on a replica that ignores the
 * bounds it was configured with (it raises its own), which the check catches.
 */
import { describe, expect, it } from 'vitest';
import type { RaftRules } from '../../src/core/ruleSet.js';
import { mixRun, shippedScenarios } from '../../src/detsim/mix.js';
import { simulate } from '../../src/detsim/simulation.js';

const LIMITS = { maxWaitingRequests: 12, maxWaitingPerClient: 4, maxUncommittedEntries: 8 };

/** A replica that keeps whatever arrives: its own bounds are a thousand times the configured. */
const ignoresItsBounds = (r: RaftRules): RaftRules => ({ ...r,
  recover: (config, seed, persisted) => r.recover({ ...config,
    maxWaitingRequests: config.maxWaitingRequests * 1000,
    maxWaitingPerClient: config.maxWaitingPerClient * 1000 }, seed, persisted) });

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
});
