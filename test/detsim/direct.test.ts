/**
 * Deletes and compare-and-swaps under faults: the mix's direct-mode seeds (one in four) run the
 * real replica loop as direct mode does, with clients that delete and compare-and-swap, and check
 * every answer against the register model where an absent key has no value. The same seeds catch
 * replicas that answer a del or cas with a value other than the one it found.
 */
import { describe, expect, it } from 'vitest';
import { mixRun, shippedScenarios } from '../../src/detsim/mix.js';
import { Simulation } from '../../src/detsim/simulation.js';
import type { RaftRules } from '../../src/core/ruleSet.js';

const shipped = shippedScenarios();
/** Direct-mode seeds of the mix: seed % 4 == 3. */
const SEEDS = Array.from({ length: 30 }, (_, i) => 4 * i + 3);

describe('[detsim] direct mode: deletes and compare-and-swap under faults', () => {
  it('the direct-mode seeds pass every checker, and their clients saw dels and cas of every ' +
    'outcome answered', () => {
    let dels = 0;
    let found = 0;
    let swaps = 0;
    let refusals = 0;
    let absentReads = 0;
    for (const seed of SEEDS) {
      const run = mixRun(seed, shipped);
      expect(run.kv).toBe('direct');
      const sim = new Simulation(run);
      const r = sim.execute();
      expect(r.failures, `seed ${seed}`).toEqual([]);
      for (const o of sim.run.history.operations) {
        if (o.status !== 'ok') continue;
        if (o.kind === 'del') {
          dels++;
          if (o.read !== undefined) found++;
        }
        if (o.kind === 'cas') {
          if ((o.read ?? null) === (o.expected ?? null)) swaps++;
          else refusals++;
        }
        if (o.kind === 'get' && o.read === undefined) absentReads++;
      }
    }
    console.log(`[detsim] ${SEEDS.length} direct seeds: ${dels} dels answered (${found} found ` +
      `a value), ${swaps} cas swapped, ${refusals} refused, ${absentReads} gets read absent`);
    expect(found).toBeGreaterThan(20);
    expect(dels - found).toBeGreaterThan(5);
    expect(swaps).toBeGreaterThan(20);
    expect(refusals).toBeGreaterThan(5);
    expect(absentReads).toBeGreaterThan(20);
  }, 120_000);

  /** Replicas whose answers to a del or cas say the key was absent, whatever it held. */
  const claimsAbsent = (rules: RaftRules): RaftRules => ({ ...rules,
    answerApplied: (s, out, p, value) => rules.answerApplied(s, out, p,
      p.cmd.kind === 'del' || p.cmd.kind === 'cas' ? null : value) });

  /** A leader that logs a cas as a put: it writes whatever the key held, and finds nothing. */
  const casWithoutCompare = (rules: RaftRules): RaftRules => ({ ...rules,
    leaderWrite: (s, m, out, r) => rules.leaderWrite(s, m.type === 'cas'
      ? { ...m, type: 'put', expected: undefined } as unknown as typeof m : m, out, r) });

  it.each([['answer a del or cas with a value it did not find', claimsAbsent],
    ['write a cas without comparing', casWithoutCompare]] as const)(
    'catches replicas that %s', (_name, rules) => {
      const caught = SEEDS.filter((seed) => {
        const r = new Simulation({ ...mixRun(seed, shipped), rules }).execute();
        return r.failures.some((f) => /linearizable/.test(f));
      });
      console.log(`[detsim] caught in ${caught.length} of ${SEEDS.length} direct seeds`);
      expect(caught.length).toBeGreaterThan(SEEDS.length / 2);
    }, 120_000);
});
