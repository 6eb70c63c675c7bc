/**
 * [§5.2 §9.6] Leader election with PreVote. Each exported function is one spec action of
 * `spec/raft.qnt`, under the same name.
 */
import {
  BROADCAST,
  type NodeId,
  type PreVoteRequest,
  type PreVoteResponse,
  type RequestVoteRequest,
  type RequestVoteResponse,
} from '../../wire/messages.js';
import { lastLogIndex, lastLogTerm } from '../log.js';
import type { RaftRules } from '../ruleSet.js';
import {
  countsQuorum, freshProgressOf, isCampaigning, isVoter, membership, replicaPeers,
  resetElectionTimer, votingPeers, type Effect, type RaftState, type Role,
} from '../state.js';
import { asIndex, asTerm, releaseHeld, send } from './common.js';
import { replicate } from './replication.js';

function requestVotes(s: RaftState, out: Effect[], type: 'PreVoteRequest' | 'RequestVoteRequest',
  term: number): void {
  const lastIndex = asIndex(lastLogIndex(s.log));
  const lastTerm = asTerm(lastLogTerm(s.log));
  for (const peer of votingPeers(s)) { // [D§4] only voters are asked
    send(s, out, peer,
      { type, term: asTerm(term), lastLogIndex: lastIndex, lastLogTerm: lastTerm });
  }
}

/**
 * [§9.6] The election timer fired: start a pre-vote round for `currentTerm + 1` without changing
 * the term, so a server cut off from the others cannot inflate terms and depose a healthy leader.
 */
export function electionTimeout(s: RaftState, out: Effect[], role: Role): RaftState {
  // A request held through a whole failed round goes back to its client (leader unknown), so a
  // replica in a minority does not keep it forever.
  const released = isCampaigning(role) ? releaseHeld(s, out, BROADCAST) : s;
  const next = resetElectionTimer({
    ...released,
    leaderId: null,
    leaderFresh: false,
    votesGranted: new Set([s.config.id]),
  }, 'PreCandidate');
  requestVotes(next, out, 'PreVoteRequest', next.currentTerm + 1);
  return next;
}

/**
 * Would this server grant a pre-vote? It records nothing and keeps its term. [§5.4.1] The election
 * restriction applies to pre-votes as to votes.
 */
export function preVoteGranted(s: RaftState, m: PreVoteRequest, rules: RaftRules, role: Role):
  boolean {
  return m.term > s.currentTerm && s.leaderId === null && role !== 'Leader'
    && rules.logUpToDate(s, m.lastLogIndex, m.lastLogTerm);
}

export function handlePreVoteRequest(s: RaftState, m: PreVoteRequest, out: Effect[],
  rules: RaftRules, role: Role): RaftState {
  const voteGranted = preVoteGranted(s, m, rules, role);
  const term = asTerm(voteGranted ? m.term : s.currentTerm);
  send(s, out, m.src, { type: 'PreVoteResponse', term, voteGranted });
  return s;
}

function becomeCandidate(s: RaftState, out: Effect[]): RaftState {
  const next = resetElectionTimer({
    ...s,
    currentTerm: s.currentTerm + 1,
    votedFor: s.config.id,
    votesGranted: new Set([s.config.id]),
    leaderId: null,
  }, 'Candidate');
  requestVotes(next, out, 'RequestVoteRequest', next.currentTerm);
  return next;
}

/**
 * A pre-candidate counts a pre-vote granted for its next term. A rejection from a newer term is
 * the statechart's to handle, first (`isPreVoteRejectionFromNewerTerm`); so is a quorum
 * (`hasPreVoteQuorum`, then `winPreVote`).
 */
export function handlePreVoteResponse(s: RaftState, m: PreVoteResponse, role: Role): RaftState {
  if (role !== 'PreCandidate' || !m.voteGranted || m.term !== s.currentTerm + 1) return s;
  if (!isVoter(membership(s), m.src)) return s; // [D§4] a learner's vote never counts
  return { ...s, votesGranted: new Set(s.votesGranted).add(m.src) };
}

/** [§9.6] The guard `hasPreVoteQuorum` decided: this pre-vote completes a quorum. */
export function winPreVote(s: RaftState, m: PreVoteResponse, out: Effect[]): RaftState {
  return becomeCandidate(handlePreVoteResponse(s, m, 'PreCandidate'), out);
}

/** Would this grant complete a quorum of pre-votes (the guard `hasPreVoteQuorum`)? */
export function completesPreVoteQuorum(s: RaftState, m: PreVoteResponse): boolean {
  return m.voteGranted && m.term === s.currentTerm + 1 && isVoter(membership(s), m.src)
    && countsQuorum(s, new Set(s.votesGranted).add(m.src));
}

/** [Fig2:RV#2] This term's vote is free for `candidate`: not given, or given to it. */
export function voteFree(s: RaftState, candidate: NodeId): boolean {
  return s.votedFor === null || s.votedFor === candidate;
}

/** [Fig2:RV#2 §5.4.1] Grant at most one vote per term, and only to an up-to-date log. */
export function voteGranted(s: RaftState, m: RequestVoteRequest, rules: RaftRules): boolean {
  return m.term === s.currentTerm && rules.voteFree(s, m.src)
    && rules.logUpToDate(s, m.lastLogIndex, m.lastLogTerm);
}

/** A newer term was adopted before this runs (the statechart's `isNewerTerm`, first). */
export function handleRequestVoteRequest(s: RaftState, m: RequestVoteRequest, out: Effect[],
  rules: RaftRules, role: Role): RaftState {
  const granted = voteGranted(s, m, rules);
  const next = granted ? resetElectionTimer({ ...s, votedFor: m.src }, role) : s;
  send(next, out, m.src, {
    type: 'RequestVoteResponse', term: asTerm(next.currentTerm), voteGranted: granted,
  });
  return next;
}

/**
 * [§5.2 §8] Won the election: take office, append a no-op of the new term (so entries of earlier
 * terms can commit, and reads see everything committed), and replicate at once.
 */
function becomeLeader(s: RaftState, out: Effect[], rules: RaftRules): RaftState {
  const leader = {
    ...s,
    leaderId: s.config.id,
    progress: freshProgressOf(s.config, lastLogIndex(s.log) + 1),
    reads: [],
    readRound: 0,
    log: rules.openTerm(s.log, s.currentTerm),
    electionElapsed: 0,
  };
  return replicate(releaseHeld(leader, out, s.config.id), out, replicaPeers(leader));
}

/**
 * A candidate counts a vote granted in its term. A newer term is the statechart's to handle,
 * first (`isNewerTerm`); so is a quorum (`hasVoteQuorum`, then `winElection`).
 */
export function handleRequestVoteResponse(s: RaftState, m: RequestVoteResponse, role: Role):
  RaftState {
  if (role !== 'Candidate' || m.term !== s.currentTerm || !m.voteGranted) return s;
  if (!isVoter(membership(s), m.src)) return s; // [D§4] a learner's vote never counts
  return { ...s, votesGranted: new Set(s.votesGranted).add(m.src) };
}

/** [§5.2] The guard `hasVoteQuorum` decided: this vote completes a quorum. */
export function winElection(s: RaftState, m: RequestVoteResponse, out: Effect[],
  rules: RaftRules): RaftState {
  return becomeLeader(handleRequestVoteResponse(s, m, 'Candidate'), out, rules);
}

/** Would this vote complete a quorum (the guard `hasVoteQuorum`)? */
export function completesVoteQuorum(s: RaftState, m: RequestVoteResponse): boolean {
  return m.voteGranted && m.term === s.currentTerm && isVoter(membership(s), m.src)
    && countsQuorum(s, new Set(s.votesGranted).add(m.src));
}
