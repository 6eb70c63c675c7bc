/**
 * One state per Raft role (as etcd splits stepFollower / stepCandidate / stepLeader). The state
 * is the role's only owner: the context holds no role, and each state passes its role to the
 * rules it runs (the `role` parameter of their actions). A guard on a transition decides a change
 * of role (a newer term seen, a quorum reached, a quorum lost), once: the action it runs does what
 * that decision implies, and the rules never decide it again. Transitions without a target keep
 * the role.
 */
import { raftSetup } from './machine.js';
import type { Role } from './state.js';

/**
 * The action `type` as a state of role `role` runs it: with the role as its parameter. (Typed as
 * the action's name, which the setup checks; the setup types action parameters as absent.)
 */
function as(role: Role) {
  return <T extends string>(type: T): T => ({ type, params: { role } }) as unknown as T;
}

/**
 * Handlers every role shares: pre-votes never change a role; `clientRequest` serves clients. Only
 * a follower knows a leader it heard from (`leaderFresh`), so `LeaderStale` is its own.
 */
function common<R extends Role>(role: R) {
  const a = as(role);
  return {
    PreVoteRequest: { actions: a('handlePreVoteRequest') },
    LeaderStale: { actions: 'ignore' },
    get: { actions: a('clientRequest') },
    put: { actions: a('clientRequest') },
    del: { actions: a('clientRequest') },
    cas: { actions: a('clientRequest') },
    list: { actions: a('clientRequest') },
    register: { actions: a('clientRequest') },
    TakeSnapshot: { guard: 'canSnapshot', actions: a('takeSnapshot') },
  } as const;
}

/**
 * [etcd Step] The term first, in every role: a message from a newer term makes the server step
 * down, adopt the term and follow (its action steps down from `role`, then handles the message as
 * a follower); only then does the role's own handling apply. A pre-vote proposes a term without
 * changing it, so a pre-vote request never moves a term, and a pre-vote response only when it
 * refuses from a newer one. A follower stays a follower; the other roles move to `follower`, and
 * [Fig2:Candidates] also follow a leader of their own term.
 */
function termFirst<R extends Role>(role: R) {
  const a = as(role);
  const target = role === 'Follower' ? {} : { target: 'follower' as const };
  const leaderSeen = role === 'Follower' ? 'isNewerTerm' as const : 'isCurrentOrNewerTerm' as const;
  return {
    PreVoteResponse: [
      { guard: 'isPreVoteRejectionFromNewerTerm', ...target,
        actions: a('stepDownThenHandlePreVoteResponse') },
      { actions: a('handlePreVoteResponse') },
    ],
    RequestVoteRequest: [
      { guard: 'isNewerTerm', ...target, actions: a('stepDownThenHandleRequestVoteRequest') },
      { actions: a('handleRequestVoteRequest') },
    ],
    RequestVoteResponse: [
      { guard: 'isNewerTerm', ...target, actions: a('stepDownThenHandleRequestVoteResponse') },
      { actions: a('handleRequestVoteResponse') },
    ],
    AppendEntriesResponse: [
      { guard: 'isNewerTerm', ...target, actions: a('stepDownThenHandleAppendEntriesResponse') },
      { actions: a('handleAppendEntriesResponse') },
    ],
    AppendEntriesRequest: [
      { guard: leaderSeen, ...target, actions: a('stepDownThenHandleAppendEntriesRequest') },
      { actions: a('handleAppendEntriesRequest') },
    ],
    InstallSnapshotRequest: [
      { guard: leaderSeen, ...target, actions: a('stepDownThenHandleInstallSnapshotRequest') },
      { actions: a('handleInstallSnapshotRequest') },
    ],
  } as const;
}

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
function electionTimeout<R extends Role>(role: R) {
  return { target: 'preCandidate', actions: as(role)('electionTimeout') } as const;
}

/**
 * [D§4] A learner, or a server removed from its own configuration, never campaigns. Only a
 * follower can be one: a server campaigns only as a voter, and its configuration changes only
 * with its log, which a campaigner changes only once a leader made it a follower.
 */
const followerElectionTimeout = [{ guard: 'isVoter', ...electionTimeout('Follower') },
  { actions: 'ignore' }] as const;

/** Events only a leader acts on. */
const notLeading = {
  Replicate: { actions: 'ignore' },
  Flush: { actions: 'ignore' },
  CheckQuorum: { actions: 'ignore' },
  ChangeConfig: { actions: 'ignore' },
} as const;

const f = as('Follower');
export const follower = raftSetup.createStateConfig({
  on: {
    ...common('Follower'),
    ...termFirst('Follower'),
    ...notLeading,
    Tick: followerTick,
    ElectionTimeout: followerElectionTimeout,
    LeaderStale: [{ guard: 'isLeaderFresh', actions: f('leaderStale') }, { actions: 'ignore' }],
  },
});

const preCandidateTerm = termFirst('PreCandidate');
export const preCandidate = raftSetup.createStateConfig({
  on: {
    ...common('PreCandidate'),
    ...preCandidateTerm,
    ...notLeading,
    Tick: electionTick,
    ElectionTimeout: electionTimeout('PreCandidate'),
    PreVoteResponse: [
      preCandidateTerm.PreVoteResponse[0],
      { guard: 'hasPreVoteQuorum', target: 'candidate', actions: as('PreCandidate')('winPreVote') },
      preCandidateTerm.PreVoteResponse[1],
    ],
  },
});

const candidateTerm = termFirst('Candidate');
export const candidate = raftSetup.createStateConfig({
  on: {
    ...common('Candidate'),
    ...candidateTerm,
    ...notLeading,
    Tick: electionTick,
    ElectionTimeout: electionTimeout('Candidate'),
    RequestVoteResponse: [
      candidateTerm.RequestVoteResponse[0],
      { guard: 'hasVoteQuorum', target: 'leader', actions: as('Candidate')('winElection') },
      candidateTerm.RequestVoteResponse[1],
    ],
  },
});

const l = as('Leader');
const leaderTerm = termFirst('Leader');
export const leader = raftSetup.createStateConfig({
  on: {
    ...common('Leader'),
    ...leaderTerm,
    Tick: [
      { guard: 'checkQuorumDue', actions: ['tick', 'raiseCheckQuorum'] },
      { guard: 'heartbeatDue', actions: ['tick', 'raiseHeartbeat'] },
      { actions: 'tick' },
    ],
    ElectionTimeout: { actions: 'ignore' },
    Replicate: { actions: l('replicate') },
    Flush: { actions: 'raiseFlush' },
    AppendEntriesResponse: [
      leaderTerm.AppendEntriesResponse[0],
      // [D§4.2.2] the response that commits its own removal: it steps down, in its term
      { guard: 'completesRemoval', target: 'follower',
        actions: l('handleAppendEntriesResponseThenStepDown') },
      { guard: 'needsCatchUp', actions: [l('handleAppendEntriesResponse'), 'raiseCatchUp'] },
      leaderTerm.AppendEntriesResponse[1],
    ],
    ChangeConfig: [{ guard: 'canChangeConfig', actions: l('changeConfig') }, { actions: 'ignore' }],
    CheckQuorum: [
      { guard: 'lacksQuorumContact', target: 'follower', actions: l('loseQuorum') },
      { actions: l('checkQuorum') },
    ],
  },
});
