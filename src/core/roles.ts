/**
 * One state per Raft role (as etcd splits stepFollower / stepCandidate / stepLeader). A guard on a
 * transition decides only a change of role; the rule it runs does the rest. Transitions without a
 * target keep the role.
 */
import { raftSetup } from './machine.js';

/**
 * Handlers every role shares: pre-votes never change a role; `clientRequest` serves clients. Only
 * a follower knows a leader it heard from (`leaderFresh`), so `LeaderStale` is its own.
 */
const common = {
  PreVoteRequest: { actions: 'handlePreVoteRequest' },
  LeaderStale: { actions: 'ignore' },
  get: { actions: 'clientRequest' },
  put: { actions: 'clientRequest' },
  TakeSnapshot: { guard: 'canSnapshot', actions: 'takeSnapshot' },
} as const;

/** A message from a newer term turns any non-follower role into a follower. */
const newerTermStepsDown = {
  PreVoteResponse: [
    { guard: 'isPreVoteRejectionFromNewerTerm', target: 'follower',
      actions: 'handlePreVoteResponse' },
    { actions: 'handlePreVoteResponse' },
  ],
  RequestVoteRequest: [
    { guard: 'isNewerTerm', target: 'follower', actions: 'handleRequestVoteRequest' },
    { actions: 'handleRequestVoteRequest' },
  ],
  RequestVoteResponse: [
    { guard: 'isNewerTerm', target: 'follower', actions: 'handleRequestVoteResponse' },
    { actions: 'handleRequestVoteResponse' },
  ],
  AppendEntriesRequest: [
    { guard: 'isCurrentOrNewerTerm', target: 'follower', actions: 'handleAppendEntriesRequest' },
    { actions: 'handleAppendEntriesRequest' },
  ],
  AppendEntriesResponse: [
    { guard: 'isNewerTerm', target: 'follower', actions: 'handleAppendEntriesResponse' },
    { actions: 'handleAppendEntriesResponse' },
  ],
  InstallSnapshotRequest: [
    { guard: 'isCurrentOrNewerTerm', target: 'follower', actions: 'handleInstallSnapshotRequest' },
    { actions: 'handleInstallSnapshotRequest' },
  ],
} as const;

/**
 * Time: a `Tick` that makes a timer expire raises the timer's own event (as etcd's tick raises
 * MsgHup / MsgBeat / MsgCheckQuorum), so each spec action has one event, and a test can send it.
 */
const electionTick = [
  { guard: 'electionTimeoutElapsed', actions: ['tick', 'raiseElectionTimeout'] },
  { actions: 'tick' },
] as const;

/** A follower's timers: the election timeout first (it forgets the leader), then staleness. */
const followerTick = [
  electionTick[0],
  { guard: 'leaderStaleDue', actions: ['tick', 'raiseLeaderStale'] },
  electionTick[1],
] as const;

/** [§5.2 §9.6] The election timer restarts a pre-vote round from any non-leader role. */
const ElectionTimeout = { target: 'preCandidate', actions: 'electionTimeout' } as const;

export const follower = raftSetup.createStateConfig({
  on: {
    ...common,
    Tick: followerTick,
    ElectionTimeout,
    LeaderStale: [{ guard: 'isLeaderFresh', actions: 'leaderStale' }, { actions: 'ignore' }],
    Replicate: { actions: 'ignore' },
    Flush: { actions: 'ignore' },
    CheckQuorum: { actions: 'ignore' },
    PreVoteResponse: { actions: 'handlePreVoteResponse' },
    RequestVoteRequest: { actions: 'handleRequestVoteRequest' },
    RequestVoteResponse: { actions: 'handleRequestVoteResponse' },
    AppendEntriesRequest: { actions: 'handleAppendEntriesRequest' },
    AppendEntriesResponse: { actions: 'handleAppendEntriesResponse' },
    InstallSnapshotRequest: { actions: 'handleInstallSnapshotRequest' },
  },
});

export const preCandidate = raftSetup.createStateConfig({
  on: {
    ...common,
    ...newerTermStepsDown,
    Tick: electionTick,
    ElectionTimeout,
    Replicate: { actions: 'ignore' },
    Flush: { actions: 'ignore' },
    CheckQuorum: { actions: 'ignore' },
    PreVoteResponse: [
      { guard: 'hasPreVoteQuorum', target: 'candidate', actions: 'handlePreVoteResponse' },
      ...newerTermStepsDown.PreVoteResponse,
    ],
  },
});

export const candidate = raftSetup.createStateConfig({
  on: {
    ...common,
    ...newerTermStepsDown,
    Tick: electionTick,
    ElectionTimeout,
    Replicate: { actions: 'ignore' },
    Flush: { actions: 'ignore' },
    CheckQuorum: { actions: 'ignore' },
    RequestVoteResponse: [
      { guard: 'hasVoteQuorum', target: 'leader', actions: 'handleRequestVoteResponse' },
      ...newerTermStepsDown.RequestVoteResponse,
    ],
  },
});

export const leader = raftSetup.createStateConfig({
  on: {
    ...common,
    ...newerTermStepsDown,
    Tick: [
      { guard: 'checkQuorumDue', actions: ['tick', 'raiseCheckQuorum'] },
      { guard: 'heartbeatDue', actions: ['tick', 'raiseHeartbeat'] },
      { actions: 'tick' },
    ],
    ElectionTimeout: { actions: 'ignore' },
    Replicate: { actions: 'replicate' },
    Flush: { actions: 'raiseFlush' },
    AppendEntriesResponse: [
      ...newerTermStepsDown.AppendEntriesResponse.slice(0, 1),
      { guard: 'needsCatchUp', actions: ['handleAppendEntriesResponse', 'raiseCatchUp'] },
      { actions: 'handleAppendEntriesResponse' },
    ],
    CheckQuorum: [
      { guard: 'lacksQuorumContact', target: 'follower', actions: 'checkQuorum' },
      { actions: 'checkQuorum' },
    ],
  },
});
