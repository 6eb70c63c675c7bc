/**
 * The decisions Raft's safety rests on, named, as one record the statechart is built from
 * (`makeRaftMachine` in raft.ts). A replica runs `raftRules`, the only such record in `src/core`;
 * nothing in the core branches on a bug. The bug catalog (`src/mutants/`, test and tool code only)
 * builds variants that replace one decision each, so that every checker can be shown to catch a
 * deliberately broken replica. Each rule receives the record and consults it wherever it decides.
 */
import type {
  AppendEntriesRequest, ClientRequest, Entry, NodeId,
} from '../wire/messages.js';
import { kvFromSnapshot, type KvState } from './kv.js';
import { appendEntry, logUpToDate, mergeEntries, type RaftLog, type Snapshot } from './log.js';
import type { Config, Effect, Pending, Persisted, RaftState, Role } from './state.js';
import { initialState } from './state.js';
import { answerApplied, leaderGet, leaderPut } from './rules/client.js';
import { stepDown } from './rules/common.js';
import { voteFree } from './rules/election.js';
import { lastNewEntry, logOk, quorumCommitIndex, staleAppend } from './rules/replication.js';

export interface RaftRules {
  /** [§5.4.1] The election restriction: the candidate's log is at least as up to date. */
  readonly logUpToDate: (s: RaftState, lastIndex: number, lastTerm: number) => boolean;
  /** [Fig2:RV#2] This term's vote is still free for `candidate` (not given to another). */
  readonly voteFree: (s: RaftState, candidate: NodeId) => boolean;
  /** [Fig2:AE#1] The request is from a term older than this server's: refuse it. */
  readonly staleAppend: (s: RaftState, m: AppendEntriesRequest, role: Role) => boolean;
  /** [Fig2:AE#2] The consistency check. */
  readonly logOk: (s: RaftState, m: AppendEntriesRequest) => boolean;
  /** [Fig2:AE#3 #4] The log after a request that passed the check. */
  readonly mergeEntries: (log: RaftLog, prevLogIndex: number, entries: readonly Entry[]) =>
    RaftLog;
  /** [Fig2:AE#5] The last index the request proved matches: commit no further. */
  readonly lastNewEntry: (log: RaftLog, m: AppendEntriesRequest) => number;
  /** [Fig2:Leader#4 §5.4.2] The index a leader may commit. */
  readonly quorumCommitIndex: (s: RaftState) => number;
  /** [§8] A new leader's log: its own no-op appended. */
  readonly openTerm: (log: RaftLog, term: number) => RaftLog;
  /** [§6.4] A leader takes a get. */
  readonly leaderGet: (s: RaftState, m: ClientRequest & { type: 'get' }, out: Effect[],
    rules: RaftRules) => RaftState;
  /** [§8] A leader takes a put. */
  readonly leaderPut: (s: RaftState, m: ClientRequest & { type: 'put' }, out: Effect[],
    rules: RaftRules) => RaftState;
  /** [§8] Answer a pending request whose own entry was applied. */
  readonly answerApplied: (s: RaftState, out: Effect[], p: Pending, value: string | undefined) =>
    void;
  /** [Fig2:AllServers#2] Step down from `from` to follower, adopting `term` if newer. */
  readonly stepDown: (s: RaftState, term: number, out: Effect[], from: Role) => RaftState;
  /** [Fig2:State §5.1] A server (re)starting from what it persisted. */
  readonly recover: (config: Config, seed: number, persisted?: Persisted) => RaftState;
  /** [Fig2 "respond after persisting"; etcd Ready] The order a step's effects leave in. */
  readonly orderEffects: (persist: Effect | undefined, out: readonly Effect[]) =>
    readonly Effect[];
  /** [§7 Figure 13 #8] The state machine after installing `snap`. */
  readonly installedKv: (s: RaftState, snap: Snapshot) => KvState;
}

const noop = { kind: 'noop' } as const;

/** The rules a replica runs. */
export const raftRules: RaftRules = {
  logUpToDate: (s, lastIndex, lastTerm) => logUpToDate(s.log, lastIndex, lastTerm),
  voteFree,
  staleAppend,
  logOk,
  mergeEntries,
  lastNewEntry,
  quorumCommitIndex,
  openTerm: (log, term) => appendEntry(log, { term: term as Entry['term'], cmd: noop }),
  leaderGet,
  leaderPut,
  answerApplied,
  stepDown,
  recover: initialState,
  // persist first: nothing leaves before the write it may depend on is issued
  orderEffects: (persist, out) => (persist === undefined ? out : [persist, ...out]),
  installedKv: (_s, snap) => kvFromSnapshot(snap),
};
