import { describe, expect, it } from 'vitest';
import type { Bug } from '../../src/mutants/catalog.js';
import {
  randomProfile, search, steeredProfile, type ExploreOptions,
} from '../../src/explorer/explorer.js';

function rate(events: number, ms: number): string {
  return `${Math.round(events / (ms / 1000)).toLocaleString('en')} events/s`;
}

describe('[explorer] several statecharts, every invariant after every event', () => {
  it('finds no violation in the correct core (random and steered walks)', () => {
    const t0 = Date.now();
    const random = search(randomProfile, 1, 300);
    const steered = search(steeredProfile, 1, 40);
    const events = random.events + steered.events;
    console.log(`[explorer] correct core: ${random.seeds} random + ${steered.seeds} steered seeds, ` +
      `${events} events, ${rate(events, Date.now() - t0)}`);
    expect(random.found?.violation).toBeUndefined();
    expect(steered.found?.violation).toBeUndefined();
  }, 300_000);

  /** Search seeds with one rule broken; the checkers must report a violation within the bound. */
  function expectCaught(bug: Bug, profile: Omit<ExploreOptions, 'seed'>, seeds: number): void {
    const t0 = Date.now();
    const r = search({ ...profile, bugs: [bug] }, 1, seeds);
    console.log(`[explorer] ${bug}: caught by ${r.found?.violation?.invariant} ` +
      `at seed ${r.found?.seed} step ${r.found?.violation?.step}, after ${r.seeds} seeds ` +
      `(${r.events} events, ${Date.now() - t0} ms)`);
    expect(r.found?.violation).toBeDefined();
  }

  it('catches a vote granted without the up-to-date check [§5.4.1]', () => {
    expectCaught('voteWithoutUpToDateCheck', randomProfile, 200);
  }, 300_000);

  it('catches the Figure 8 commit of an earlier-term entry by counting replicas [§5.4.2]', () => {
    expectCaught('commitEarlierTermByCount', steeredProfile, 400);
  }, 600_000);
});
