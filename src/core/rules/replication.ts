/**
 * [§5.3 §5.4] Log replication and commitment, and [§6.2] CheckQuorum. Each exported function with a
 * spec name is one spec action of `spec/raft.qnt`.
 */
import type {
  AppendEntriesRequest, AppendEntriesResponse, Entry, NodeId, ReadRound,
} from '../../wire/messages.js';
import { entriesBetween, lastLogIndex, snapshotIndex, termAt, type RaftLog } from '../log.js';
import { backOff, sent } from '../pacing.js';
import type { RaftRules } from '../ruleSet.js';
import {
  countsQuorum, electionTimer, membership, progressOf, quorumOf, replicaPeers, resetActive,
  withProgress, type Effect, type RaftState, type Role,
} from '../state.js';
import { applyCommitted } from './client.js';
import { asIndex, asTerm, releaseHeld, send } from './common.js';
import { answerReads, roundWanted } from './reads.js';
import { sendSnapshot } from './snapshot.js';

/** Bytes one entry may take in a datagram: every character JSON-escaped, plus the fields. */
function entryBytesMax(e: Entry): number {
  const cmd = e.cmd;
  if (cmd.kind === 'noop' || cmd.kind === 'register') return 160;
  if (cmd.kind === 'config') return 160 + 40 * (cmd.voters.length + cmd.learners.length);
  const values = cmd.kind === 'put' ? cmd.value.length
    : cmd.kind === 'cas' ? cmd.value.length + (cmd.expected?.length ?? 0) : 0;
  return 160 + 6 * (cmd.key.length + values);
}

/**
 * Deviation from the spec's count-only MaxBatch: a batch also stops before it could outgrow a
 * datagram (the wire limit is 60,000 bytes). It never binds for the small values of the spec's
 * instance, and at least one entry always goes, so replication never stalls.
 */
export const BATCH_BYTES_MAX = 40_000;

function withinBudget(entries: Entry[]): Entry[] {
  let bytes = 0;
  for (let k = 0; k < entries.length; k++) {
    bytes += entryBytesMax(entries[k] as Entry);
    if (bytes > BATCH_BYTES_MAX && k > 0) return entries.slice(0, k);
  }
  return entries;
}

/**
 * [Fig2:Leader#1 #3] Heartbeat or new entries: send each peer in `to` the entries from its
 * `nextIndex` (at most `maxBatch`), or [§7] the snapshot if they are compacted away. `nextIndex` moves only on responses [Fig2], so a request
 * carries everything its peer has not acknowledged and a lost one is repaired by the next. Which
 * peers, and when, is `pacing.ts`'s choice.
 */
export function replicate(before: RaftState, out: Effect[], to: readonly NodeId[]): RaftState {
  // [§6.4] a read waiting for a round starts the next one: these requests carry its number
  const s = roundWanted(before) ? { ...before, readRound: before.readRound + 1 } : before;
  const progress = new Map(s.progress);
  const last = lastLogIndex(s.log);
  for (const peer of replicaPeers(s)) { // [D§4] the members of its configuration only
    if (!to.includes(peer)) continue;
    const next = progressOf(s, peer).next;
    if (next <= snapshotIndex(s.log)) { // [§7] the entries it needs are compacted away
      sendSnapshot(s, out, peer);
      sent(s, progress, peer, snapshotIndex(s.log));
      continue;
    }
    const entries = withinBudget(entriesBetween(s.log, next,
      Math.min(last, next + s.config.maxBatch - 1)));
    send(s, out, peer, {
      type: 'AppendEntriesRequest',
      term: asTerm(s.currentTerm),
      prevLogIndex: asIndex(next - 1),
      prevLogTerm: asTerm(termAt(s.log, next - 1)),
      entries,
      leaderCommit: asIndex(s.commitIndex),
      readRound: s.readRound as ReadRound,
    });
    sent(s, progress, peer, next - 1 + entries.length);
  }
  return { ...s, progress };
}

/**
 * [Fig2:AE#2] The consistency check. [§7] An index the snapshot covers is committed, so it
 * matches the current leader's log [§5.4 Leader Completeness].
 */
export function logOk(s: RaftState, m: AppendEntriesRequest): boolean {
  return m.prevLogIndex <= snapshotIndex(s.log) || (m.prevLogIndex <= lastLogIndex(s.log)
    && termAt(s.log, m.prevLogIndex) === m.prevLogTerm);
}

/** [Fig2:AE#1] A request from a term older than this server's is refused. */
export function staleAppend(s: RaftState, m: AppendEntriesRequest): boolean {
  return m.term < s.currentTerm;
}

/** [Fig2:AE#5] The last entry the request carried: the log is known to match up to it. */
export function lastNewEntry(_log: RaftLog, m: AppendEntriesRequest): number {
  return m.prevLogIndex + m.entries.length;
}

function respond(s: RaftState, out: Effect[], m: AppendEntriesRequest, success: boolean): void {
  send(s, out, m.src, {
    type: 'AppendEntriesResponse',
    term: asTerm(s.currentTerm),
    success,
    matchIndex: asIndex(success ? m.prevLogIndex + m.entries.length : 0),
    // The highest index at which this log may still match the leader's (etcd's RejectHint)
    rejectHint: asIndex(success ? 0
      : Math.max(0, Math.min(m.prevLogIndex - 1, lastLogIndex(s.log)))),
    // [§6.4] only an answer in the request's own term acknowledges its round: a rejection of an
    // older term's request must not count for its sender, who may lead again in a later term
    readRound: (m.term === s.currentTerm ? m.readRound : 0) as ReadRound,
  });
}

export function handleAppendEntriesRequest(s: RaftState, m: AppendEntriesRequest, out: Effect[],
  rules: RaftRules, role: Role): RaftState {
  // [Fig2:AE#1] reject a stale leader; it learns the newer term
  if (rules.staleAppend(s, m, role)) {
    respond(s, out, m, false);
    return s;
  }
  // a newer term, or a leader of this one seen by a candidate, was followed before this runs
  const ok = rules.logOk(s, m);
  const log = ok ? rules.mergeEntries(s.log, m.prevLogIndex, m.entries) : s.log;
  const merged = releaseHeld({ ...s, ...electionTimer(s, 'Follower'), leaderId: m.src,
    leaderFresh: true, log }, out, m.src);
  if (!ok) {
    respond(merged, out, m, false);
    return merged;
  }
  // [Fig2:AE#5] commit up to what the leader committed, within what this message proved matches
  const lastNew = rules.lastNewEntry(log, m);
  const commit = Math.max(merged.commitIndex, Math.min(m.leaderCommit, lastNew));
  const next = applyCommitted(merged, commit, out, rules);
  respond(next, out, m, true);
  return next;
}

/**
 * [Fig2:Leader#4 §5.4.2] The highest index stored on a quorum, if it is from the current term.
 * Entries of earlier terms are never committed by counting replicas (Figure 8); they commit
 * indirectly with the first entry of the current term.
 */
export function quorumCommitIndex(s: RaftState): number {
  const n = quorumMatchIndex(s);
  return n > s.commitIndex && termAt(s.log, n) === s.currentTerm ? n : s.commitIndex;
}

/**
 * The highest index stored on a quorum of its configuration's voters: the leader holds its whole
 * log, and counts only if it is a voter [D§4.2.2].
 */
export function quorumMatchIndex(s: RaftState): number {
  const c = membership(s);
  const matches = c.voters.map((p) => (p === s.config.id ? lastLogIndex(s.log)
    : progressOf(s, p).match)).sort((a, b) => b - a);
  return matches[quorumOf(c) - 1] ?? 0;
}

/** A newer term was adopted before this runs (the statechart's `isNewerTerm`, first). */
export function handleAppendEntriesResponse(s: RaftState, m: AppendEntriesResponse, out: Effect[],
  rules: RaftRules, role: Role): RaftState {
  if (role !== 'Leader' || m.term !== s.currentTerm) return s;
  const p = progressOf(s, m.src);
  // [§6.2] it is active; [§6.4] any response of this term, success or not, acknowledges the round
  // its request carried
  const heard = { active: true, ackedRound: Math.max(p.ackedRound, m.readRound) };
  if (!m.success) {
    const progress = withProgress(s, m.src, { ...heard,
      next: backOff(p.match, p.next, m.rejectHint) });
    return answerReads({ ...s, progress }, out, rules);
  }
  const updated = acknowledged(s, m);
  return answerReads(applyCommitted(updated, rules.quorumCommitIndex(updated), out, rules), out,
    rules);
}

/**
 * The leader's state once a success of its term is counted: the peer holds up to `matchIndex`,
 * is active [§6.2], and acknowledged the read round its request carried [§6.4].
 */
export function acknowledged(s: RaftState, m: AppendEntriesResponse): RaftState {
  const p = progressOf(s, m.src);
  return { ...s, progress: withProgress(s, m.src, { active: true,
    ackedRound: Math.max(p.ackedRound, m.readRound), match: Math.max(p.match, m.matchIndex),
    next: Math.max(p.next, m.matchIndex + 1) }) };
}

/** Has the leader heard from a quorum of voters (itself included) since the last check? */
export function hasQuorumContact(s: RaftState): boolean {
  const active: NodeId[] = [];
  for (const [id, p] of s.progress) if (p.active) active.push(id);
  return countsQuorum(s, active);
}

/**
 * [§6.2] CheckQuorum: the leader heard from a quorum since the last check, so it starts counting
 * again. Whether it did is the statechart's guard (`lacksQuorumContact`, then `loseQuorum`).
 */
export function checkQuorum(s: RaftState): RaftState {
  return { ...s, progress: resetActive(s), electionElapsed: 0 };
}

/** [§6.2] A leader that has not heard from a quorum steps down, in its own term. */
export function loseQuorum(s: RaftState, out: Effect[], rules: RaftRules): RaftState {
  return rules.stepDown(s, s.currentTerm, out, 'Leader');
}
