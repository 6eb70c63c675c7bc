/**
 * The shape of the decisions Raft's safety rests on: one named field per decision, the record the
 * statechart is built from (`makeRaftMachine` in raft.ts). `raftRules.ts` holds the record a replica
 * runs; the bug catalog (`src/mutants/`, test and tool code only) builds variants that replace one
 * field each. Types only, so that the rules (`rules/*.ts`) can name the record they consult without
 * importing the record itself.
 */
import type {
  AppendEntriesRequest, ClientRequest, Entry, NodeId, Snapshot,
} from '../wire/messages.js';
import type { KvState } from './kv.js';
import type { RaftLog } from './log.js';
import type { Config, Effect, Pending, Persisted, RaftState, Read, Role } from './state.js';
import type { EXPIRED } from './kv.js';

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
  /** [§6.4] A leader takes a read: a get, or a page of a listing. */
  readonly leaderRead: (s: RaftState, m: ClientRequest & { type: 'get' | 'list' },
    out: Effect[], rules: RaftRules) => RaftState;
  /** [§6.4] Answer a read that is ready (its round acknowledged, its index applied). */
  readonly answerRead: (s: RaftState, out: Effect[], r: Read) => void;
  /** [§8] A leader takes a write (a put, del or cas) or a register [§6.3]. */
  readonly leaderWrite: (s: RaftState, m: Exclude<ClientRequest, { type: 'get' | 'list' }>,
    out: Effect[], rules: RaftRules) => RaftState;
  /**
   * [§8] Answer a pending request whose own entry was applied (`null`: the key was absent;
   * `EXPIRED`: its session had expired [§6.3]).
   */
  readonly answerApplied: (s: RaftState, out: Effect[], p: Pending,
    value: string | null | undefined | typeof EXPIRED) => void;
  /** [Fig2:AllServers#2] Step down from `from` to follower, adopting `term` if newer. */
  readonly stepDown: (s: RaftState, term: number, out: Effect[], from: Role) => RaftState;
  /** [Fig2:State §5.1] A server (re)starting from what it persisted. */
  readonly recover: (config: Config, seed: number, persisted?: Persisted) => RaftState;
  /** [Fig2 "respond after persisting"; etcd Ready] The order a step's effects leave in. */
  readonly orderEffects: (persist: Effect | undefined, out: readonly Effect[]) =>
    readonly Effect[];
  /**
   * [D§4.1 fix] A leader may append a configuration change now: it has committed an entry of its
   * term, and no change in its log is uncommitted (the change itself must apply too).
   */
  readonly mayChangeConfig: (s: RaftState) => boolean;
  /** [§7 Figure 13 #8] The state machine after installing `snap`. */
  readonly installedKv: (s: RaftState, snap: Snapshot) => KvState;
}
