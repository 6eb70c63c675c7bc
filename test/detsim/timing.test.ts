/**
 * The timing properties (`check/timing.ts`): heartbeat, CheckQuorum and redirect freshness. Each
 * is shown to catch a replica whose timer guard is broken (through the statechart's `provide`, as
 * no rule switch can express it) and which breaks nothing else that a run checks; the correct core
 * passes the same seeds.
 */
import { describe, expect, it } from 'vitest';
import type { SimOptions } from '../../src/detsim/simulation.js';
import { firstCaught as caughtAt } from '../support/firstCaught.js';
import type { RaftMachine } from '../../src/core/raft.js';

const SEEDS = 40;

/** The statechart with `guard` never true: its timer never fires. */
const never = (guard: 'heartbeatDue' | 'checkQuorumDue' | 'leaderStaleDue') =>
  (m: RaftMachine): RaftMachine => m.provide({ guards: { [guard]: () => false } }) as RaftMachine;

const firstCaught = (machine: SimOptions['machine']) => caughtAt(machine, SEEDS);

describe('[timing] what a replica\'s timers promise, seen from the network', () => {
  it('heartbeat: catches a leader that never sends heartbeats', () => {
    const c = firstCaught(never('heartbeatDue'));
    console.log(`[timing] no heartbeats caught at seed ${c.seed}: ${c.failure}`);
    expect(c.failure).toMatch(/^heartbeat violated at step \d+ .*: \d{4}, leader of term \d+, has sent \d{4} nothing for \d+ ms/);
  }, 120_000);

  it('CheckQuorum: catches a leader that never checks it still has a quorum', () => {
    const c = firstCaught(never('checkQuorumDue'));
    console.log(`[timing] no CheckQuorum caught at seed ${c.seed}: ${c.failure}`);
    expect(c.failure).toMatch(/^checkQuorum violated at step \d+ .*: \d{4} is still leader of term \d+ \d+ ms after it was elected, but heard from 1 of \d/);
  }, 120_000);

  it('redirect freshness: catches a follower that keeps redirecting to a leader it no longer ' +
    'hears from', () => {
    const c = firstCaught(never('leaderStaleDue'));
    console.log(`[timing] stale redirects caught at seed ${c.seed}: ${c.failure}`);
    expect(c.failure).toMatch(/^redirectFresh violated at step \d+ .*: \d{4} redirected a client to \d{4}, last heard from \d+ ms before/);
  }, 120_000);
});
