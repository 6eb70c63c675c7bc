/**
 * The leader's message budget (`check/cost.ts`): pacing cannot break safety, so only this property
 * notices a leader that sends more than its design pays for. It is shown to catch leaders whose
 * pacing is broken through the statechart's `provide` (flush to every peer, catch up on every
 * acknowledgement, heartbeat every tick), each of which breaks nothing else a run checks; the
 * correct core passes the same seeds.
 */
import { raise } from 'xstate';
import { describe, expect, it } from 'vitest';
import { mixRun, shippedScenarios } from '../../src/detsim/mix.js';
import { simulate, type SimOptions } from '../../src/detsim/simulation.js';
import type { RaftMachine } from '../../src/core/raft.js';
import type { RaftState } from '../../src/core/state.js';

const SEEDS = 40;

type Ctx = { context: RaftState; event: { type: string; src?: string; term?: number } };

/** A leader that sends each batch of requests to every peer, not `quorum - 1` of them. */
const flushesToAll = (m: RaftMachine): RaftMachine => m.provide({ actions: {
  raiseFlush: raise(({ context }: Ctx) => ({ type: 'Replicate', to: context.config.peers })),
} } as never) as RaftMachine;

/** A leader that answers every acknowledgement of its term with more AppendEntries. */
const catchesUpAlways = (m: RaftMachine): RaftMachine => m.provide({ guards: {
  needsCatchUp: ({ context, event }: Ctx) => event.type === 'AppendEntriesResponse'
    && event.term === context.currentTerm,
} } as never) as RaftMachine;

/** A leader that heartbeats every peer at every tick. */
const beatsEveryTick = (m: RaftMachine): RaftMachine => m.provide({
  guards: { heartbeatDue: () => true },
  actions: { raiseHeartbeat: raise(({ context }: Ctx) =>
    ({ type: 'Replicate', to: context.config.peers })) },
} as never) as RaftMachine;

function firstCaught(machine: SimOptions['machine']): { seed: number; failure: string } {
  const shipped = shippedScenarios();
  for (let seed = 1; seed <= SEEDS; seed++) {
    const run = mixRun(seed, shipped);
    const broken = simulate({ ...run, machine });
    if (broken.failures.length > 0) return { seed, failure: broken.failures[0] as string };
    expect(simulate(run).failures, `seed ${seed}`).toEqual([]);
  }
  return { seed: 0, failure: '' };
}

describe('[cost] the leader\'s message budget, seen from what it sends', () => {
  it.each([
    ['flushes every batch to every peer', flushesToAll,
      /flushed to more than 1 peer\(s\) not due a heartbeat/],
    ['catches up on every acknowledgement', catchesUpAlways, /nothing new to catch up/],
    ['heartbeats at every tick', beatsEveryTick, /tick\(s\) after the last \(heartbeat every \d+\), on Tick/],
  ] as const)('catches a leader that %s', (_name, machine, detail) => {
    const c = firstCaught(machine);
    console.log(`[cost] caught at seed ${c.seed}: ${c.failure}`);
    expect(c.failure).toMatch(/^messageBudget violated at step \d+ .*: \d{4}, leader of term \d+, /);
    expect(c.failure).toMatch(detail);
  }, 120_000);
});
