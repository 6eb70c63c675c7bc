/**
 * The leader's message budget (`check/cost.ts`): pacing cannot break safety, so only this property
 * notices a leader that sends more than its design pays for. It is shown to catch leaders whose
 * pacing is broken through the statechart's `provide` (flush to every peer, catch up on every
 * acknowledgement, heartbeat every tick), each of which breaks nothing else a run checks; the
 * correct core passes the same seeds. A batch that outgrows a datagram is shown to the checker as a
 * leader's step: no rule of the core can be switched to build one.
 */
import { raise } from 'xstate';
import { describe, expect, it } from 'vitest';
import type { SimOptions } from '../../src/detsim/simulation.js';
import { firstCaught as caughtAt } from '../support/firstCaught.js';
import type { RaftMachine } from '../../src/core/raft.js';
import type { Effect, RaftState } from '../../src/core/state.js';
import { CostChecker } from '../../src/check/cost.js';
import { Cluster } from '../../src/explorer/cluster.js';
import type { Entry, NodeId, PeerMessage } from '../../src/wire/messages.js';

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

const firstCaught = (machine: SimOptions['machine']) => caughtAt(machine, SEEDS);

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

describe('[cost] a batch fits in a datagram', () => {
  it('a leader step that sends two large entries in one AppendEntries is over budget; one alone ' +
    'is not', () => {
    const c = new Cluster(3, {}, 1);
    const me = c.ids[0] as NodeId;
    c.event(me, { type: 'ElectionTimeout' });
    for (let i = 0; i < 12; i++) {
      for (const id of c.ids) if (c.canPersist(id)) c.persist(id);
      for (const k of c.inFlightKeys()) c.deliver(k);
    }
    expect(c.role(me)).toBe('Leader');
    const s = c.state(me);
    const big = (i: number): Entry => ({ term: s.currentTerm, cmd: { kind: 'put', client: '00C0',
      session: 0, seq: 0, key: `k${i}`, value: 'x'.repeat(35_000) } }) as Entry;
    const ae = (entries: Entry[]): Effect => ({ type: 'send', message: { type:
      'AppendEntriesRequest', src: me, dst: c.ids[1], leader: me, term: s.currentTerm,
      prevLogIndex: 0, prevLogTerm: 0, entries, leaderCommit: 0, readRound: 0 } as PeerMessage });
    const checker = new CostChecker();
    // its first step as leader: every peer may be sent anything but an oversized batch
    expect(checker.stepped(me, s, { type: 'Flush' }, 'Leader', s, [ae([big(1)])])).toBeUndefined();
    const v = new CostChecker().stepped(me, s, { type: 'Flush' }, 'Leader', s, [ae([big(1), big(2)])]);
    expect(v?.invariant).toBe('messageBudget');
    expect(v?.detail).toMatch(/sent 0001 2 entries in \d+ bytes, more than a datagram holds \(60000\)/);
  });
});
