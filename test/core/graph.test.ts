/**
 * Model-based tests from the statechart itself: @xstate/graph generates the shortest path to every
 * reachable (bounded) state, the paths are replayed, and every step is checked. Coverage counts
 * each transition (state, event, guard branch) of the definition that some path takes.
 */
import { getShortestPaths } from '@xstate/graph';
import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import { describe, expect, it } from 'vitest';
import type { NodeId } from '../../src/wire/messages.js';
import { effectsOf, raftMachine, type RaftMachine } from '../../src/core/raft.js';
import type { Effect, RaftState } from '../../src/core/state.js';
import type { RaftEvent, RaftInput } from '../../src/core/machine.js';
import {
  applyLogChange, entriesAfterSnapshot as toArray, lastLogIndex, lastLogTerm,
} from '../../src/core/log.js';
import { heartbeatTargets } from '../../src/core/pacing.js';

type Snap = SnapshotFrom<RaftMachine>;
const A = '0001' as NodeId;
const B = '0002' as NodeId;
const ME = '0000' as NodeId;
const C = '00C0' as NodeId;
const input: RaftInput = {
  config: { id: ME, peers: [A, B], electionTimeoutTicksMin: 2,
    electionTimeoutTicksMax: 3, campaignRetryTicksMin: 2, campaignRetryTicksMax: 3,
    heartbeatTicks: 2 },
  seed: 3,
};
const MAX_TERM = 2;
const MAX_LOG = 3;

/** A bounded menu of events built from the state, so that every guard can go either way. */
function events(snap: Snap): RaftEvent[] {
  const s = snap.context;
  const t = s.currentTerm;
  const lli = lastLogIndex(s.log);
  const llt = lastLogTerm(s.log);
  const grow = t < MAX_TERM;
  const room = lli < MAX_LOG;
  const base = { dst: ME, leader: ME };
  const list: RaftEvent[] = [
    { type: 'Tick' }, { type: 'ElectionTimeout' }, { type: 'CheckQuorum' }, { type: 'Flush' },
    { type: 'LeaderStale' },
    { type: 'Replicate', to: [A] },
    { type: 'Restart' },
    { ...base, type: 'RequestVoteResponse', src: A, term: t, voteGranted: true },
    { ...base, type: 'RequestVoteResponse', src: B, term: t, voteGranted: false },
    { ...base, type: 'PreVoteResponse', src: B, term: t, voteGranted: false },
    { ...base, type: 'RequestVoteRequest', src: B, term: t, lastLogIndex: lli, lastLogTerm: llt },
    { ...base, type: 'AppendEntriesResponse', src: A, term: t, success: true, matchIndex: lli,
      rejectHint: 0 },
    { ...base, type: 'AppendEntriesResponse', src: A, term: t, success: false, matchIndex: 0,
      rejectHint: 0 },
    { ...base, type: 'PreVoteRequest', src: A, term: t + 1, lastLogIndex: lli, lastLogTerm: llt },
    { ...base, type: 'AppendEntriesRequest', src: A, term: t, prevLogIndex: lli, prevLogTerm: llt,
      entries: [], leaderCommit: lli },
    { type: 'TakeSnapshot' },
  ] as RaftEvent[];
  if (room) { // [§7] A's snapshot of everything this server has, one entry further
    list.push({ ...base, type: 'InstallSnapshotRequest', src: A, term: t, lastIncludedIndex: lli + 1,
      lastIncludedTerm: t, kv: [['k', 'v']], sessions: [], terms: [], readRound: 0 } as unknown as RaftEvent);
  }
  if (t > 0) {
    list.push({ ...base, type: 'AppendEntriesRequest', src: A, term: t - 1, prevLogIndex: 0,
      prevLogTerm: 0, entries: [], leaderCommit: 0 } as unknown as RaftEvent);
    list.push({ ...base, type: 'InstallSnapshotRequest', src: A, term: t - 1, lastIncludedIndex: 1,
      lastIncludedTerm: t - 1, kv: [], sessions: [], terms: [], readRound: 0 } as unknown as RaftEvent);
  }
  if (room && s.held.length === 0) {
    list.push({ ...base, type: 'put', src: C, MID: `p${lli}`, key: 'k', value: 'v' } as RaftEvent);
    list.push({ ...base, type: 'get', src: C, MID: `g${lli}`, key: 'k' } as RaftEvent);
  }
  // a del, a cas and a register take the put's transitions, a list the get's: offered on a short
  // log only, to keep the graph small
  if (room && s.held.length === 0 && lli <= 1) {
    list.push({ ...base, type: 'del', src: C, MID: `d${lli}`, key: 'k' } as RaftEvent);
    list.push({ ...base, type: 'register', src: C, MID: `r${lli}` } as RaftEvent);
    list.push({ ...base, type: 'cas', src: C, MID: `c${lli}`, key: 'k', expected: null,
      value: 'w' } as RaftEvent);
    list.push({ ...base, type: 'list', src: C, MID: `l${lli}`, prefix: '' } as RaftEvent);
  }
  // [D§4] configuration changes: the leader removing itself (then the response that commits it),
  // a change that does not apply, and a follower told it is removed (its timer then never fires)
  // (offered on a short log without a change yet, to keep the graph small)
  if (room && lli <= 1 && s.log.configIndex === 0) {
    list.push({ type: 'ChangeConfig', change: 'remove', id: ME },
      { type: 'ChangeConfig', change: 'promote', id: A },
      { ...base, type: 'AppendEntriesRequest', src: A, term: t, prevLogIndex: lli,
        prevLogTerm: llt, entries: [{ term: t, cmd: { kind: 'config', change: 'remove', id: ME,
          voters: [A, B], learners: [] } }], leaderCommit: lli } as unknown as RaftEvent);
  }
  if (s.log.configIndex > 0) {
    list.push({ ...base, type: 'AppendEntriesResponse', src: B, term: t, success: true,
      matchIndex: lli, rejectHint: 0 } as unknown as RaftEvent);
  }
  if (grow) {
    list.push(...([
      { ...base, type: 'PreVoteResponse', src: A, term: t + 1, voteGranted: true },
      { ...base, type: 'PreVoteResponse', src: B, term: t + 2, voteGranted: false },
      { ...base, type: 'RequestVoteRequest', src: A, term: t + 1, lastLogIndex: lli, lastLogTerm: llt },
      { ...base, type: 'RequestVoteResponse', src: B, term: t + 1, voteGranted: false },
      { ...base, type: 'AppendEntriesResponse', src: B, term: t + 1, success: false, matchIndex: 0,
        rejectHint: 0 },
      { ...base, type: 'AppendEntriesRequest', src: B, term: t + 1, prevLogIndex: 0, prevLogTerm: 0,
        entries: room ? [{ term: t + 1, cmd: { kind: 'noop' } }] : [], leaderCommit: 0 },
    ] as RaftEvent[]));
    if (room && lli === 0) {
      list.push({ ...base, type: 'InstallSnapshotRequest', src: B, term: t + 1,
        lastIncludedIndex: 1, lastIncludedTerm: t + 1, kv: [], sessions: [], terms: [], readRound: 0,
      } as unknown as RaftEvent);
    }
  }
  return list;
}

function serialize(snap: Snap): string {
  const s = snap.context;
  return [snap.value, s.currentTerm, s.votedFor, lastLogIndex(s.log), lastLogTerm(s.log),
    s.log.snapshot.index,
    s.commitIndex, s.leaderId, s.votesGranted.size,
    // (a removed follower's timer never fires, so it counts on: past the timeouts, all alike)
    [...s.progress.values()].filter((p) => p.active).length, Math.min(s.electionElapsed, 4),
    heartbeatTargets(s, s.now).join(','), s.held.length, s.leaderFresh, s.log.configIndex,
    s.log.config?.voters.join(',')].join('|');
}

/** Every transition of the definition: `state|event|branch`. */
function allTransitions(): Set<string> {
  const keys = new Set<string>();
  const visit = (node: typeof raftMachine.root): void => {
    for (const [event, defs] of node.transitions) defs.forEach((_, i) => keys.add(`${node.id}|${event}|${i}`));
    for (const child of Object.values(node.states)) visit(child);
  };
  visit(raftMachine.root);
  return keys;
}

/**
 * What survives a crash is exactly what was persisted: a change of term, vote or log comes with a
 * persist effect, and replaying its log change onto the old log gives the new log.
 */
function expectPersisted(before: RaftState, after: RaftState, effects: Effect[]): void {
  const persists = effects.filter((e) => e.type === 'persist');
  const changed = before.currentTerm !== after.currentTerm || before.votedFor !== after.votedFor
    || before.log.snapshot !== after.log.snapshot
    || JSON.stringify(toArray(before.log)) !== JSON.stringify(toArray(after.log));
  expect(persists.length > 0).toBe(changed);
  let log = before.log;
  for (const p of persists) {
    if (p.type !== 'persist') continue;
    if (p.log !== undefined) log = applyLogChange(log, p.log);
    expect([p.currentTerm, p.votedFor]).toEqual([after.currentTerm, after.votedFor]);
  }
  expect([log.snapshot, toArray(log)]).toEqual([after.log.snapshot, toArray(after.log)]);
}

const roleOf: Record<string, string> = {
  follower: 'Follower', preCandidate: 'PreCandidate', candidate: 'Candidate', leader: 'Leader',
};

describe('[MBT] @xstate/graph paths cover the statechart', () => {
  const paths = getShortestPaths(raftMachine, {
    input, events: (snap) => events(snap) as never, serializeState: (snap) => serialize(snap),
  });
  const total = allTransitions();
  const covered = new Set<string>();
  let steps = 0;

  /** One step, checked: role and context agree, and persist comes before any send or reply. */
  const step = (snap: Snap, event: RaftEvent): Snap => {
    for (const t of raftMachine.getTransitionData(snap, event)) {
      const defs = t.source.transitions.get(t.eventType) ?? [];
      covered.add(`${t.source.id}|${t.eventType}|${defs.indexOf(t)}`);
    }
    const [next, actions] = transition(raftMachine, snap, event);
    const effects = effectsOf(actions);
    expectPersisted(snap.context, next.context, effects);
    const firstPersist = effects.findIndex((e) => e.type === 'persist');
    const firstOut = effects.findIndex((e) => e.type === 'send' || e.type === 'reply');
    if (firstPersist >= 0 && firstOut >= 0) expect(firstPersist).toBeLessThan(firstOut);
    expect(roleOf[next.value as string]).toBeDefined(); // the role: the state, held nowhere else
    steps++;
    return next;
  };

  it('replays the path to every state, then every event offered there, checking each step', () => {
    for (const path of paths) {
      let [snap] = initialTransition(raftMachine, input);
      for (const s of path.steps.slice(1)) snap = step(snap, s.event);
      expect(serialize(snap)).toBe(serialize(path.state));
      for (const event of events(snap)) step(snap, event);
    }
    expect(paths.length).toBeGreaterThan(100);
  }, 120_000);

  it('covers every transition of the definition', () => {
    const missing = [...total].filter((k) => !covered.has(k));
    console.log(`[MBT] ${paths.length} paths, ${steps} steps, transitions covered ` +
      `${covered.size}/${total.size}, states ${new Set(paths.map((p) => p.state.value)).size}/4`);
    expect(missing).toEqual([]);
  });
});
