/**
 * One state per Raft role (as etcd splits stepFollower / stepCandidate / stepLeader). A guard on a
 * transition decides a change of role (a newer term seen, a quorum reached, a quorum lost), once:
 * the action it runs does what that decision implies, and the rules never decide it again.
 * Transitions without a target keep the role.
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

/**
 * [etcd Step] The term first, in every role: a message from a newer term makes the server step
 * down, adopt the term and follow (its action steps down, then handles the message); only then
 * does the role's own handling apply. A pre-vote proposes a term without changing it, so a
 * pre-vote request never moves a term, and a pre-vote response only when it refuses from a newer
 * one. `newerTerm` is the follower's table (it stays a follower); `stepsDown` the other roles'.
 */
function termFirst(target: { target: 'follower' } | Record<string, never>) {
  return {
    PreVoteResponse: [
      { guard: 'isPreVoteRejectionFromNewerTerm', ...target,
        actions: 'stepDownThenHandlePreVoteResponse' },
      { actions: 'handlePreVoteResponse' },
    ],
    RequestVoteRequest: [
      { guard: 'isNewerTerm', ...target, actions: 'stepDownThenHandleRequestVoteRequest' },
      { actions: 'handleRequestVoteRequest' },
    ],
    RequestVoteResponse: [
      { guard: 'isNewerTerm', ...target, actions: 'stepDownThenHandleRequestVoteResponse' },
      { actions: 'handleRequestVoteResponse' },
    ],
    AppendEntriesResponse: [
      { guard: 'isNewerTerm', ...target, actions: 'stepDownThenHandleAppendEntriesResponse' },
      { actions: 'handleAppendEntriesResponse' },
    ],
    // [Fig2:Candidates] a leader of the current term is followed too, by a (pre-)candidate
    AppendEntriesRequest: [
      { guard: 'target' in target ? 'isCurrentOrNewerTerm' : 'isNewerTerm', ...target,
        actions: 'stepDownThenHandleAppendEntriesRequest' },
      { actions: 'handleAppendEntriesRequest' },
    ],
    InstallSnapshotRequest: [
      { guard: 'target' in target ? 'isCurrentOrNewerTerm' : 'isNewerTerm', ...target,
        actions: 'stepDownThenHandleInstallSnapshotRequest' },
      { actions: 'handleInstallSnapshotRequest' },
    ],
  } as const;
}

const newerTerm = termFirst({});
const stepsDown = termFirst({ target: 'follower' });

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
    ...newerTerm,
  },
});

export const preCandidate = raftSetup.createStateConfig({
  on: {
    ...common,
    ...stepsDown,
    Tick: electionTick,
    ElectionTimeout,
    Replicate: { actions: 'ignore' },
    Flush: { actions: 'ignore' },
    CheckQuorum: { actions: 'ignore' },
    PreVoteResponse: [
      stepsDown.PreVoteResponse[0],
      { guard: 'hasPreVoteQuorum', target: 'candidate', actions: 'winPreVote' },
      stepsDown.PreVoteResponse[1],
    ],
  },
});

export const candidate = raftSetup.createStateConfig({
  on: {
    ...common,
    ...stepsDown,
    Tick: electionTick,
    ElectionTimeout,
    Replicate: { actions: 'ignore' },
    Flush: { actions: 'ignore' },
    CheckQuorum: { actions: 'ignore' },
    RequestVoteResponse: [
      stepsDown.RequestVoteResponse[0],
      { guard: 'hasVoteQuorum', target: 'leader', actions: 'winElection' },
      stepsDown.RequestVoteResponse[1],
    ],
  },
});

export const leader = raftSetup.createStateConfig({
  on: {
    ...common,
    ...stepsDown,
    Tick: [
      { guard: 'checkQuorumDue', actions: ['tick', 'raiseCheckQuorum'] },
      { guard: 'heartbeatDue', actions: ['tick', 'raiseHeartbeat'] },
      { actions: 'tick' },
    ],
    ElectionTimeout: { actions: 'ignore' },
    Replicate: { actions: 'replicate' },
    Flush: { actions: 'raiseFlush' },
    AppendEntriesResponse: [
      stepsDown.AppendEntriesResponse[0],
      { guard: 'needsCatchUp', actions: ['handleAppendEntriesResponse', 'raiseCatchUp'] },
      stepsDown.AppendEntriesResponse[1],
    ],
    CheckQuorum: [
      { guard: 'lacksQuorumContact', target: 'follower', actions: 'loseQuorum' },
      { actions: 'checkQuorum' },
    ],
  },
});
