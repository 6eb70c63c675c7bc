/**
 * [§5.2 §9.6] Leader election with PreVote. Each exported function is one spec action of
 * `spec/raft.qnt`, under the same name.
 */
import {
  BROADCAST,
  type PreVoteRequest,
  type PreVoteResponse,
  type RequestVoteRequest,
  type RequestVoteResponse,
} from '../../wire/messages.js';
import { appendEntry, lastLogIndex, lastLogTerm, logUpToDate } from '../log.js';
import { hasBug, quorum, resetElectionTimer, type Effect, type RaftState } from '../state.js';
import { asIndex, asTerm, releaseHeld, send, stepDown } from './common.js';
import { replicate } from './replication.js';

const noop = { kind: 'noop' } as const;

function requestVotes(s: RaftState, out: Effect[], type: 'PreVoteRequest' | 'RequestVoteRequest',
  term: number): void {
  const lastIndex = asIndex(lastLogIndex(s.log));
  const lastTerm = asTerm(lastLogTerm(s.log));
  for (const peer of s.config.peers) {
    send(s, out, peer,
      { type, term: asTerm(term), lastLogIndex: lastIndex, lastLogTerm: lastTerm });
  }
}

/**
 * [§9.6] The election timer fired: start a pre-vote round for `currentTerm + 1` without changing
 * the term, so a server cut off from the others cannot inflate terms and depose a healthy leader.
 */
export function electionTimeout(s: RaftState, out: Effect[]): RaftState {
  // A request held through a whole failed round goes back to its client (leader unknown), so a
  // replica in a minority does not keep it forever.
  const failedRound = s.role === 'PreCandidate' || s.role === 'Candidate';
  const released = failedRound ? releaseHeld(s, out, BROADCAST) : s;
  const next = resetElectionTimer({
    ...released,
    role: 'PreCandidate',
    leaderId: null,
    leaderFresh: false,
    votesGranted: new Set([s.config.id]),
  });
  requestVotes(next, out, 'PreVoteRequest', next.currentTerm + 1);
  return next;
}

/** [§5.4.1] The election restriction, in pre-votes and votes alike. */
function upToDate(s: RaftState, lastIndex: number, lastTerm: number): boolean {
  return logUpToDate(s.log, lastIndex, lastTerm) || hasBug(s, 'voteWithoutUpToDateCheck');
}

/** Would this server grant a pre-vote? It records nothing and keeps its term. */
export function preVoteGranted(s: RaftState, m: PreVoteRequest): boolean {
  return m.term > s.currentTerm && s.leaderId === null && s.role !== 'Leader'
    && upToDate(s, m.lastLogIndex, m.lastLogTerm);
}

export function handlePreVoteRequest(s: RaftState, m: PreVoteRequest, out: Effect[]): RaftState {
  const voteGranted = preVoteGranted(s, m);
  const term = asTerm(voteGranted ? m.term : s.currentTerm);
  send(s, out, m.src, { type: 'PreVoteResponse', term, voteGranted });
  return s;
}

function becomeCandidate(s: RaftState, out: Effect[]): RaftState {
  const next = resetElectionTimer({
    ...s,
    role: 'Candidate',
    currentTerm: s.currentTerm + 1,
    votedFor: s.config.id,
    votesGranted: new Set([s.config.id]),
    leaderId: null,
  });
  requestVotes(next, out, 'RequestVoteRequest', next.currentTerm);
  return next;
}

export function handlePreVoteResponse(s: RaftState, m: PreVoteResponse, out: Effect[]): RaftState {
  if (!m.voteGranted && m.term > s.currentTerm) return stepDown(s, m.term, out);
  if (s.role !== 'PreCandidate' || !m.voteGranted || m.term !== s.currentTerm + 1) return s;
  const votesGranted = new Set(s.votesGranted).add(m.src);
  const next = { ...s, votesGranted };
  return votesGranted.size >= quorum(s.config) ? becomeCandidate(next, out) : next;
}

/** [Fig2:RV#2 §5.4.1] Grant at most one vote per term, and only to an up-to-date log. */
export function voteGranted(s: RaftState, m: RequestVoteRequest): boolean {
  return m.term === s.currentTerm
    && (s.votedFor === null || s.votedFor === m.src || hasBug(s, 'voteTwiceInTerm'))
    && upToDate(s, m.lastLogIndex, m.lastLogTerm);
}

export function handleRequestVoteRequest(s: RaftState, m: RequestVoteRequest, out: Effect[]):
  RaftState {
  const current = m.term > s.currentTerm ? stepDown(s, m.term, out) : s;
  const granted = voteGranted(current, m);
  const next = granted ? resetElectionTimer({ ...current, votedFor: m.src }) : current;
  send(next, out, m.src, {
    type: 'RequestVoteResponse', term: asTerm(next.currentTerm), voteGranted: granted,
  });
  return next;
}

/**
 * [§5.2 §8] Won the election: take office, append a no-op of the new term (so entries of earlier
 * terms can commit, and reads see everything committed), and replicate at once.
 */
function becomeLeader(s: RaftState, out: Effect[]): RaftState {
  const nextIndex = new Map(s.config.peers.map((p) => [p, lastLogIndex(s.log) + 1]));
  const matchIndex = new Map(s.config.peers.map((p) => [p, 0]));
  const leader = {
    ...s,
    role: 'Leader' as const,
    leaderId: s.config.id,
    nextIndex,
    matchIndex,
    recentActive: new Set<never>(),
    reads: [],
    readRound: 0,
    ackedRound: new Map(s.config.peers.map((p) => [p, 0])),
    log: hasBug(s, 'noNoopOnElection') ? s.log
      : appendEntry(s.log, { term: asTerm(s.currentTerm), cmd: noop }),
    electionElapsed: 0,
    progress: new Map(),
  };
  return replicate(releaseHeld(leader, out, s.config.id), out, s.config.peers);
}

export function handleRequestVoteResponse(s: RaftState, m: RequestVoteResponse, out: Effect[]):
  RaftState {
  if (m.term > s.currentTerm) return stepDown(s, m.term, out);
  if (s.role !== 'Candidate' || m.term !== s.currentTerm || !m.voteGranted) return s;
  const votesGranted = new Set(s.votesGranted).add(m.src);
  const next = { ...s, votesGranted };
  return votesGranted.size >= quorum(s.config) ? becomeLeader(next, out) : next;
}
