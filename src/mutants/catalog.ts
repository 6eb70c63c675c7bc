/**
 * The bug catalog: deliberately wrong rules, each a variant of one decision of the rules record
 * (`RaftRules` in core/ruleSet.ts), so that every checker can be shown to catch a broken
 * replica. Only test and tool code builds them: the simulation, the explorer, the crash harness's
 * own replica entry (`crash/replica.ts`), the conformance suites. Nothing in `src/core` branches on
 * a bug, and `raftkv replica` and `raftkv cluster up` refuse `--bug`.
 */
import { reply } from '../core/rules/common.js';
import { applyAndAnswer } from '../core/rules/client.js';
import { quorumMatchIndex } from '../core/rules/replication.js';
import { readCmdOf, readResult } from '../core/rules/reads.js';
import { emptyChain, size, toArray } from '../core/chain.js';
import { lastLogIndex, replaceFrom, snapshotIndex, type RaftLog } from '../core/log.js';
import { raftRules } from '../core/raftRules.js';
import type { RaftRules } from '../core/ruleSet.js';
import { makeRaftMachine, type RaftMachine } from '../core/raft.js';
import type { Entry } from '../wire/messages.js';

/** Each bug: what it breaks, and the decision it replaces. */
const MUTANTS = {
  /** [§5.4.1] grant a vote (and a pre-vote) without the up-to-date check */
  voteWithoutUpToDateCheck: (r: RaftRules): RaftRules => ({ ...r, logUpToDate: () => true }),
  /** [§5.4.2 Figure 8] commit an entry of an earlier term by counting replicas */
  commitEarlierTermByCount: (r: RaftRules): RaftRules => ({ ...r, quorumCommitIndex: (s) => {
    const n = quorumMatchIndex(s);
    return n > s.commitIndex ? n : s.commitIndex;
  } }),
  /**
   * [Fig2:AE#2] `logOk` checks only that `prevLogIndex` exists, not its term: a follower appends
   * after an entry that differs from the leader's, and Log Matching no longer holds.
   */
  skipPrevLogTermCheck: (r: RaftRules): RaftRules => ({ ...r, logOk: (s, m) =>
    m.prevLogIndex <= snapshotIndex(s.log) || m.prevLogIndex <= lastLogIndex(s.log) }),
  /**
   * [Fig2:RV#2] grant a vote ignoring `votedFor` (term and up-to-date checks still apply): two
   * candidates can both win one term.
   */
  voteTwiceInTerm: (r: RaftRules): RaftRules => ({ ...r, voteFree: () => true }),
  /**
   * [Fig2:AE#1] a follower accepts an AppendEntriesRequest from a term below its own as if it were
   * current (keeping its term and role): a deposed leader's entries overwrite entries the newer
   * leader may have committed.
   */
  acceptStaleTermAppend: (r: RaftRules): RaftRules => ({ ...r, staleAppend: (s, m, role) =>
    r.staleAppend(s, m, role) && role !== 'Follower' }),
  /**
   * [Fig2:AE#5] a follower commits up to `min(leaderCommit, lastLogIndex)` of its whole log, not of
   * the last new entry: it commits stale entries beyond what the request checked.
   */
  commitBeyondNewEntries: (r: RaftRules): RaftRules => ({ ...r,
    lastNewEntry: (log) => lastLogIndex(log) }),
  /**
   * [Fig2:AE#3] a request that passes the check always truncates after `prevLogIndex`, even where
   * the entries match: a stale, reordered request deletes entries already acknowledged.
   */
  truncateOnEveryAppend: (r: RaftRules): RaftRules => ({ ...r, mergeEntries: truncateAndAppend }),
  /**
   * [§8] a new leader does not append its no-op: entries of earlier terms cannot commit (nor their
   * pending requests be answered) until a client writes.
   */
  noNoopOnElection: (r: RaftRules): RaftRules => ({ ...r, openTerm: (log) => log }),
  /**
   * [§6.4 §8] a leader answers a get at once from its own applied state, without confirming its
   * leadership with a read round: a deposed leader that does not know it yet serves a stale read.
   */
  localReadWithoutQuorum: (r: RaftRules): RaftRules => ({ ...r, leaderRead: (s, m, out) => {
    reply(s, out, m.src, 'ok', m.MID, readResult(s, readCmdOf(m)));
    return s;
  } }),
  /**
   * [§5.3 §8] a leader answers a write `ok` as soon as it appends it: one that never commits was
   * acknowledged, and is lost. Answered now, so not pending: one answer per MID, an early one.
   */
  ackBeforeCommit: (r: RaftRules): RaftRules => ({ ...r, leaderWrite: (s, m, out, rules) => {
    const appended = r.leaderWrite(s, m, out, rules);
    reply(s, out, m.src, 'ok', m.MID);
    return { ...appended, pending: s.pending };
  } }),
  /**
   * [Fig2:AllServers#1] a leader applies its log up to its last index as soon as it appends a
   * client entry, and answers from it: entries that never commit are applied and acknowledged.
   * commitIndex stays right, and applying later finds nothing left to apply or answer up to it.
   */
  applyBeforeCommit: (r: RaftRules): RaftRules => ({ ...r, leaderWrite: (s, m, out, rules) => {
    const appended = r.leaderWrite(s, m, out, rules);
    return { ...appended, ...applyAndAnswer(appended, lastLogIndex(appended.log), out, rules) };
  } }),
  /**
   * [§8] a deposed leader redirects its pending requests at once: a request that still commits
   * under the next leader is retried by its client and applied twice.
   */
  redirectPendingOnStepDown: (r: RaftRules): RaftRules => ({ ...r,
    stepDown: (s, term, out, from) => {
    const follower = r.stepDown(s, term, out, from);
    if (from !== 'Leader' || size(s.pending) === 0) return follower;
    for (const p of toArray(s.pending)) reply(follower, out, p.cmd.client, 'redirect', p.mid);
    return { ...follower, pending: emptyChain() };
  } }),
  /** [§8] every `ok` for a pending request is sent twice: one MID gets two answers. */
  answerTwice: (r: RaftRules): RaftRules => ({ ...r, answerApplied: (s, out, p, value) => {
    r.answerApplied(s, out, p, value);
    r.answerApplied(s, out, p, value);
  } }),
  /**
   * [Fig2:State] `votedFor` is not restored on restart: a server that voted, crashed and restarted
   * in the same term votes again, so two leaders can win one term.
   */
  forgetVotedForOnRestart: (r: RaftRules): RaftRules => ({ ...r, recover: (config, seed, p) =>
    r.recover(config, seed, p === undefined ? undefined : { ...p, votedFor: null }) }),
  /**
   * [Fig2 "respond after persisting"; etcd Ready: save HardState BEFORE sending] a step emits its
   * sends and replies before its persist effect: a crash between them loses a vote or an
   * acknowledged entry that a peer already counted.
   */
  persistAfterSend: (r: RaftRules): RaftRules => ({ ...r, orderEffects: (persist, out) =>
    (persist === undefined ? out : [...out, persist]) }),
  /**
   * [§7 Figure 13 #8] a follower that installs a snapshot moves its applied index to the
   * snapshot's but keeps its old state machine: the snapshot's writes are missing from it.
   */
  installSnapshotKeepsStateMachine: (r: RaftRules): RaftRules => ({ ...r,
    installedKv: (s, snap) => ({ ...s.kv, appliedIndex: snap.index }) }),
} as const;

export type Bug = keyof typeof MUTANTS;
export const BUGS = Object.keys(MUTANTS) as readonly Bug[];

export function isBug(name: string): name is Bug {
  return Object.hasOwn(MUTANTS, name);
}

/**
 * The `truncateOnEveryAppend` merge, breaking [Fig2:AE#3]: the log after `prevLogIndex` is replaced
 * by `entries` even where they match, so a stale request deletes newer entries.
 */
function truncateAndAppend(log: RaftLog, prevLogIndex: number, entries: readonly Entry[]):
  RaftLog {
  const skip = Math.max(0, log.snapshot.index - prevLogIndex);
  return replaceFrom(log, prevLogIndex + 1 + skip, entries.slice(skip));
}

/** The rules with each of `bugs` switched in (none: a replica's own rules). */
export function rulesWith(bugs: readonly Bug[]): RaftRules {
  return bugs.reduce((r, bug) => MUTANTS[bug](r), raftRules);
}

/**
 * The replica statechart with each of `bugs` switched in, over `base`'s variant of the rules if
 * given. Built on every call (0.4 ms), with none of either too: the same definition as
 * `raftMachine`, as the guards and actions are when the checker starts. A mutation run
 * (`npm run mutate`) switches a mutant on after the modules have loaded, so a machine built at
 * load would never run a mutant of a guard or action.
 */
export function machineWith(bugs: readonly Bug[], base?: (rules: RaftRules) => RaftRules):
  RaftMachine {
  const start = base === undefined ? raftRules : base(raftRules);
  return makeRaftMachine(bugs.reduce((r, bug) => MUTANTS[bug](r), start));
}
