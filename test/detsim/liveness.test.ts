/**
 * Liveness after the faults end: a live replica answers every client request it received within
 * `ANSWER_WITHIN_MS` of the later of its arrival and the end of the faults. Shown to catch a
 * replica that breaks nothing else: it forgets, without answering, the requests it was leading
 * when it stepped down. Safety, linearizability (an unanswered request constrains nothing),
 * one-answer-per-MID and convergence all pass it.
 */
import { describe, expect, it } from 'vitest';
import { emptyChain } from '../../src/core/chain.js';
import type { RaftRules } from '../../src/core/ruleSet.js';
import { mixRun, shippedScenarios } from '../../src/detsim/mix.js';
import { simulate } from '../../src/detsim/simulation.js';

/** A deposed leader drops its pending requests: nobody ever answers them. */
const forgetPendingOnStepDown = (r: RaftRules): RaftRules => ({ ...r,
  stepDown: (s, term, out, from) => {
    const follower = r.stepDown(s, term, out, from);
    return from === 'Leader' ? { ...follower, pending: emptyChain() } : follower;
  } });

const SEEDS = 60;

describe('[liveness] every request a live replica received is answered after the faults end', () => {
  it(`catches a replica that forgets its pending requests on step-down within ${SEEDS} seeds, ` +
    'and passes the correct core on the same seeds', () => {
    const shipped = shippedScenarios();
    let caught: { seed: number; failures: readonly string[] } | undefined;
    for (let seed = 1; seed <= SEEDS && caught === undefined; seed++) {
      const run = mixRun(seed, shipped);
      const broken = simulate({ ...run, rules: forgetPendingOnStepDown });
      if (broken.failures.length > 0) caught = { seed, failures: broken.failures };
      expect(simulate(run).failures, `seed ${seed}`).toEqual([]);
    }
    console.log(`[liveness] forgetPendingOnStepDown caught at seed ${caught?.seed}: ` +
      `${caught?.failures[0]}`);
    expect(caught?.failures.length).toBeGreaterThan(0);
    // liveness, and nothing else, catches it
    expect(caught?.failures.every((f) => f.startsWith('liveness: '))).toBe(true);
    expect(caught?.failures[0]).toMatch(new RegExp(`^liveness: \\d{4} received (get|put) .+ and ` +
      `has not answered it \\d+\\.\\d s after (it arrived|the faults ended)$`));
  }, 120_000);
});

/** One follower refuses every AppendEntries: it can only ever install snapshots. */
const oneFollowerRefusesAppends = (r: RaftRules): RaftRules => ({ ...r,
  logOk: (s, m) => s.config.id !== '0001' && r.logOk(s, m) });

describe('[catch-up] every live replica commits what the leader had when the run converged', () => {
  it('catches a follower that never accepts entries, which a quorum without it outvotes', () => {
    const shipped = shippedScenarios();
    let caught: { seed: number; failures: readonly string[] } | undefined;
    for (let seed = 1; seed <= 20 && caught === undefined; seed++) {
      const broken = simulate({ ...mixRun(seed, shipped), rules: oneFollowerRefusesAppends });
      if (broken.failures.length > 0) caught = { seed, failures: broken.failures };
    }
    console.log(`[catch-up] caught at seed ${caught?.seed}: ${caught?.failures.join(' | ')}`);
    expect(caught?.failures.some((f) => /^catch-up: 0001 has committed \d+ of the \d+ entries /
      .test(f))).toBe(true);
  }, 120_000);
});
