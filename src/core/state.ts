/**
 * The replica's state (the statechart's context) and the helpers every rule shares.
 * Field names are the spec's (`spec/raft.qnt`, Server record) and Raft Figure 2's, except the
 * spec's `role`: that is the statechart's state (`roleOf` in raft.ts), held nowhere else.
 */
import type {
  ClientResponse, Cmd, Configuration, LogCmd, NodeId, PeerMessage,
} from '../wire/messages.js';
import { emptyChain, type Chain } from './chain.js';
import { kvFromSnapshot, type KvState } from './kv.js';
import { emptyLog, type RaftLog, type LogChange } from './log.js';

export type Role = 'Follower' | 'PreCandidate' | 'Candidate' | 'Leader';

export interface Config {
  readonly id: NodeId;
  /** The other servers, sorted: peers are always iterated in id order. */
  readonly peers: readonly NodeId[];
  readonly electionTimeoutTicksMin: number;
  /** Exclusive upper bound of the randomized election timeout. */
  readonly electionTimeoutTicksMax: number;
  /**
   * The timeout of a pre-candidate or candidate whose round has no quorum yet: it starts another
   * round sooner than a follower's election timeout, since its requests or their answers may just
   * have been lost. Exclusive upper bound as above.
   */
  readonly campaignRetryTicksMin: number;
  readonly campaignRetryTicksMax: number;
  /** A peer the leader has not sent to for this long gets a heartbeat. */
  readonly heartbeatTicks: number;
  /**
   * A follower redirects a client at once only if it heard from its leader this recently; else it
   * holds the request until it does (a leader that just died would bounce the client back and forth).
   */
  readonly redirectFreshTicks: number;
  /** Most entries in one AppendEntriesRequest (the spec's MaxBatch). */
  readonly maxBatch: number;
  /**
   * [§7] Take a snapshot, and compact the log behind it, once this many applied entries follow
   * the last one (checked on each tick); 0: only on a `TakeSnapshot` event (conformance tests).
   */
  readonly snapshotEntries: number;
  /**
   * [§7] Also take one once the commands applied since the last hold this many UTF-16 units of
   * keys and values (`snapshotDue`), whatever their number: large values.
   */
  readonly snapshotBytes: number;
  /**
   * Answer a rejection, or the acknowledgement of a partial batch, with more entries at once
   * (`pacing.ts`). Spec-to-code replay turns it off: there every `replicate` is a step of its own.
   */
  readonly catchUp: boolean;
  /** Emit a `trace` effect naming every spec action taken (conformance tests). */
  readonly trace: boolean;
  /**
   * Overload bounds (`rules/client.ts`): client requests a server keeps waiting (a leader's pending
   * puts and reads, a follower's held requests), in all and per client, and a leader's entries
   * appended but not yet committed. A request beyond them is answered `fail` at once.
   */
  readonly maxWaitingRequests: number;
  readonly maxWaitingPerClient: number;
  readonly maxUncommittedEntries: number;
  /**
   * A request larger than `SMALL_REQUEST` (a large value) is refused while the requests a server
   * keeps waiting and, on a leader, its uncommitted entries hold this many UTF-16 units of keys
   * and values: the counts above alone would let large values fill the memory.
   */
  readonly maxWaitingBytes: number;
  /**
   * How an `ok` says a key is absent: with `value: ""` (the simulator-routed protocol, where a key
   * never written reads as the empty string), or with no `value` at all (direct mode, which tells
   * an absent key from an empty value).
   */
  readonly absentAsEmpty: boolean;
  /**
   * [§6.3] The most client sessions the state machine keeps: a leader stamps it in each
   * `register` entry it appends (so every server expires the same sessions); past it, the least
   * recently used expire.
   */
  readonly maxSessions: number;
}

/**
 * One page of a listing (direct mode): a read like a get, of the keys that start with `prefix`
 * and sort after `after` (null: from the first), at most `limit` of them. Never in the log.
 */
export interface ListCmd {
  readonly kind: 'list';
  readonly client: NodeId;
  readonly seq: number;
  readonly prefix: string;
  readonly after: string | null;
  readonly limit: number;
}

/** A get or a page of a listing: a command answered by a read [§6.4], never logged. */
export type ReadCmd = Extract<Cmd, { kind: 'get' }> | ListCmd;

/** A register, put, get, del, cas or list: a client request's command (no no-op, no change). */
export type ClientCmd = Exclude<Cmd, { kind: 'noop' | 'config' }> | ListCmd;

/**
 * A get or page waiting for its round and its index (the spec's `Read`, with the client's MID; the
 * spec has gets only, and a page waits and is answered as a get is).
 */
export interface Read {
  readonly cmd: ReadCmd;
  readonly mid: string;
  readonly readIndex: number;
  readonly round: number;
}

/**
 * A client request the leader appended and must answer once it is applied (the spec's `Pending`;
 * `cmd` is the entry's own command object, so it costs a reference).
 */
export interface Pending {
  readonly index: number;
  readonly term: number;
  readonly cmd: LogCmd;
  readonly mid: string;
}

/**
 * Everything a leader keeps about one peer, in one record (etcd's Progress): the spec's
 * `nextIndex`, `matchIndex`, `recentActive` and `ackedRound`, and the pacing of its sends
 * (`pacing.ts`, in ticks of `now`; code-only: the spec lets a leader replicate to any peers at any
 * time, this decides which and when). `nextIndex` moves back by one rule (`pacing.backOff`).
 */
export interface Progress {
  /** [Fig2] nextIndex: the next entry to send it. */
  readonly next: number;
  /** [Fig2] matchIndex: the highest entry known to be stored there. */
  readonly match: number;
  /** [§6.2] It answered since the last CheckQuorum (the spec's `recentActive`). */
  readonly active: boolean;
  /** [§6.4] The highest read round it acknowledged. */
  readonly ackedRound: number;
  /** When the leader last sent the peer an AppendEntriesRequest (-Infinity: never). */
  readonly sentAt: number;
  /** Orders sends: unlike `sentAt`, never equal for two peers. */
  readonly sentOrder: number;
  /** The last index that request carried: acknowledged once `matchIndex` reaches it. */
  readonly sentUpTo: number;
  /** That request had to leave entries behind (batch limits): send more once it is acknowledged. */
  readonly leftBehind: boolean;
}

/** A client request held until a leader is heard from (the spec's `held`). */
export interface Held {
  readonly cmd: ClientCmd;
  readonly mid: string;
}

export interface RaftState {
  readonly config: Config;
  // Persistent state [Fig2:State]
  readonly currentTerm: number;
  readonly votedFor: NodeId | null;
  readonly log: RaftLog;
  // Volatile state. The role is not here: it is the statechart's state (`follower`, ...), and the
  // machine passes it to each rule that needs it.
  readonly commitIndex: number;
  readonly leaderId: NodeId | null;
  readonly votesGranted: ReadonlySet<NodeId>;
  /** One record per peer (`Progress`): replication, CheckQuorum, reads and pacing. */
  readonly progress: ReadonlyMap<NodeId, Progress>;
  readonly kv: KvState;
  readonly pending: Chain<Pending>;
  readonly held: readonly Held[];
  /**
   * A follower heard from its leader lately: set by the leader's AppendEntries or snapshot,
   * cleared by the `leaderStale` timer (`redirectFreshTicks`) and whenever the leader is forgotten.
   * Only then does it redirect a client at once (the spec's `leaderFresh`).
   */
  readonly leaderFresh: boolean;
  /** [§6.4] Gets waiting for their read round (`rules/reads.ts`); leader only. */
  readonly reads: readonly Read[];
  /** The last read round this leader started (each peer's `ackedRound`: the highest it answered). */
  readonly readRound: number;
  // Time and randomness: ticks come in as events; the PRNG state lives here.
  readonly electionElapsed: number;
  readonly electionTimeoutTicks: number;
  /** Ticks since start: the clock of `progress`. */
  readonly now: number;
  readonly rng: number;
}

export interface Persisted {
  readonly currentTerm: number;
  readonly votedFor: NodeId | null;
  readonly log: RaftLog;
}

export type Effect =
  | {
      readonly type: 'persist';
      readonly currentTerm: number;
      readonly votedFor: NodeId | null;
      readonly log: LogChange | undefined;
    }
  | { readonly type: 'send'; readonly message: PeerMessage }
  | { readonly type: 'reply'; readonly message: ClientResponse }
  /** The spec action a step took; `to` is the peer set of a `replicate`. */
  | { readonly type: 'trace'; readonly action: string; readonly to?: readonly NodeId[] };

/** What a rule returns: the next state and the messages and answers it produces, in order. */
export interface Step {
  readonly state: RaftState;
  readonly out: Effect[];
}

/**
 * The overload bounds a replica runs with. A waiting request or uncommitted entry of at most
 * `SMALL_REQUEST` units costs at most ~3 KB, so the counts hold a server's memory for clients
 * under ~75 MB however fast valid requests arrive; larger ones are bounded by their size too
 * (`maxWaitingBytes`, 64 Mi units). 64 busy clients use a small part of them.
 */
export const OVERLOAD_LIMITS = { maxWaitingRequests: 8192, maxWaitingPerClient: 1024,
  maxUncommittedEntries: 16_384, maxWaitingBytes: 64 << 20 } as const;

/**
 * [§6.3] The default session-table bound. Each session keeps its last answer: at most a value
 * (1 MiB) for a del or cas, none for a put, so the table holds at most about 1 GiB even if every
 * session's last write found a largest value, and a few hundred KB for small ones.
 */
export const DEFAULT_MAX_SESSIONS = 1024;

export const defaultConfig: Config = {
  id: '0000' as NodeId,
  peers: ['0001', '0002'] as NodeId[],
  electionTimeoutTicksMin: 10,
  electionTimeoutTicksMax: 20,
  campaignRetryTicksMin: 10,
  campaignRetryTicksMax: 20,
  heartbeatTicks: 3,
  redirectFreshTicks: 1,
  maxBatch: 16,
  snapshotEntries: 0,
  snapshotBytes: 64 << 20,
  catchUp: true,
  trace: false,
  ...OVERLOAD_LIMITS,
  absentAsEmpty: true,
  maxSessions: DEFAULT_MAX_SESSIONS,
};

/** The quorum of a fixed membership: this server and its peers, all voters (the checkers'). */
export function quorum(config: Config): number {
  return Math.floor((config.peers.length + 1) / 2) + 1;
}

const bootstraps = new WeakMap<Config, Configuration>();

/**
 * [D§4.1] The first configuration: this server and its peers (`--peer`), all voters. A log and a
 * snapshot that name none have this one: every log before its first change, and every data
 * directory written before configurations were logged.
 */
export function bootstrapOf(config: Config): Configuration {
  let b = bootstraps.get(config);
  if (b === undefined) {
    b = { voters: [config.id, ...config.peers].sort(), learners: [] };
    bootstraps.set(config, b);
  }
  return b;
}

/** [D§4.1] This server's configuration: its log's last change (appended, maybe uncommitted). */
export function membership(s: RaftState): Configuration {
  return s.log.config ?? bootstrapOf(s.config);
}

/** [D§4.1] A majority of the configuration's voters. */
export function quorumOf(c: Configuration): number {
  return Math.floor(c.voters.length / 2) + 1;
}

export function isVoter(c: Configuration, id: NodeId): boolean {
  return c.voters.includes(id);
}

const others = new WeakMap<Configuration, Map<NodeId, { members: NodeId[]; voters: NodeId[] }>>();

function othersOf(c: Configuration, id: NodeId): { members: NodeId[]; voters: NodeId[] } {
  let byId = others.get(c);
  if (byId === undefined) others.set(c, byId = new Map());
  let o = byId.get(id);
  if (o === undefined) {
    o = { members: [...c.voters, ...c.learners].filter((p) => p !== id).sort(),
      voters: c.voters.filter((p) => p !== id) };
    byId.set(id, o);
  }
  return o;
}

/** [D§4] The servers a leader replicates to: its configuration's voters and learners, not it. */
export function replicaPeers(s: RaftState): readonly NodeId[] {
  return othersOf(membership(s), s.config.id).members;
}

/** [D§4] The servers whose votes count, but this one: a campaign asks them. */
export function votingPeers(s: RaftState): readonly NodeId[] {
  return othersOf(membership(s), s.config.id).voters;
}

/**
 * [D§4] Whether this server and the servers `ids` are a quorum of its configuration: only voters
 * count, this server too only if it is one [D§4.2.2].
 */
export function countsQuorum(s: RaftState, ids: Iterable<NodeId>): boolean {
  const c = membership(s);
  let n = isVoter(c, s.config.id) ? 1 : 0;
  for (const id of ids) if (id !== s.config.id && isVoter(c, id)) n++;
  return n >= quorumOf(c);
}

/** mulberry32: a small, fast, seedable PRNG; the state is a uint32. */
export function nextRandom(rng: number): [value: number, rng: number] {
  const next = (rng + 0x6d2b79f5) >>> 0;
  let t = next;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return [((t ^ (t >>> 14)) >>> 0) / 4294967296, next];
}

type Timer = Pick<RaftState, 'electionElapsed' | 'electionTimeoutTicks' | 'rng'>;

/**
 * A restarted election timer with a fresh randomized timeout [§5.2], to spread into a state: the
 * campaign retry timeout for a pre-candidate or candidate, else the election timeout.
 */
export function electionTimer(s: RaftState, role: Role): Timer {
  const [r, rng] = nextRandom(s.rng);
  const campaigning = isCampaigning(role);
  const lo = campaigning ? s.config.campaignRetryTicksMin : s.config.electionTimeoutTicksMin;
  const hi = campaigning ? s.config.campaignRetryTicksMax : s.config.electionTimeoutTicksMax;
  return { electionElapsed: 0, electionTimeoutTicks: lo + Math.floor(r * (hi - lo)), rng };
}

export function resetElectionTimer(s: RaftState, role: Role): RaftState {
  return { ...s, ...electionTimer(s, role) };
}

export function isCampaigning(role: Role): boolean {
  return role === 'PreCandidate' || role === 'Candidate';
}

/** A peer's record before the leader has heard from it or sent it anything. */
export function freshProgress(next: number): Progress {
  return { next, match: 0, active: false, ackedRound: 0, sentAt: -Infinity, sentOrder: 0,
    sentUpTo: 0, leftBehind: false };
}

/** One fresh record per peer, each sending from `next`. */
export function freshProgressOf(config: Config, next: number): ReadonlyMap<NodeId, Progress> {
  return new Map(config.peers.map((p) => [p, freshProgress(next)]));
}

/** `peer`'s record (a fresh one for a peer this server does not know). */
export function progressOf(s: RaftState, peer: NodeId): Progress {
  return s.progress.get(peer) ?? freshProgress(1);
}

/** The records with `peer`'s changed by `patch`. */
export function withProgress(s: RaftState, peer: NodeId, patch: Partial<Progress>):
  ReadonlyMap<NodeId, Progress> {
  return new Map(s.progress).set(peer, { ...progressOf(s, peer), ...patch });
}

/** The records with every peer inactive again [§6.2]. */
function inactive(progress: ReadonlyMap<NodeId, Progress>): ReadonlyMap<NodeId, Progress> {
  let any = false;
  for (const p of progress.values()) any ||= p.active;
  if (!any) return progress;
  return new Map([...progress].map(([id, p]) => [id, p.active ? { ...p, active: false } : p]));
}

/** The records with every peer inactive, for a new CheckQuorum period. */
export function resetActive(s: RaftState): ReadonlyMap<NodeId, Progress> {
  return inactive(s.progress);
}

const noVotes: ReadonlySet<NodeId> = new Set();

/**
 * A server as it starts (or restarts, [§5.1] after a crash) from what it persisted. [§7] Its state
 * machine starts from its snapshot, which holds committed entries only: commitIndex starts there.
 */
export function initialState(config: Config, seed: number, persisted?: Persisted): RaftState {
  const log = persisted?.log ?? emptyLog();
  const state: RaftState = {
    config: { ...config, peers: [...config.peers].sort() },
    currentTerm: persisted?.currentTerm ?? 0,
    votedFor: persisted?.votedFor ?? null, // [Fig2:State] it survives a restart
    log,
    commitIndex: log.snapshot.index,
    leaderId: null,
    votesGranted: noVotes,
    progress: freshProgressOf(config, 1),
    kv: kvFromSnapshot(log.snapshot),
    pending: emptyChain(),
    held: [],
    leaderFresh: false,
    reads: [],
    readRound: 0,
    electionElapsed: 0,
    electionTimeoutTicks: config.electionTimeoutTicksMax,
    now: 0,
    rng: seed >>> 0,
  };
  return resetElectionTimer(state, 'Follower');
}

export function persistedOf(s: RaftState): Persisted {
  return { currentTerm: s.currentTerm, votedFor: s.votedFor, log: s.log };
}

/**
 * [Fig2:AllServers#2] Step down from `from` to follower (the statechart moves to `follower`),
 * adopting `term` if it is newer.
 */
export function becomeFollower(s: RaftState, term: number, from: Role): RaftState {
  const newer = term > s.currentTerm;
  return {
    ...s,
    // a campaign's short retry timeout gives way to a follower's election timeout
    ...(isCampaigning(from) ? electionTimer(s, 'Follower') : {}),
    currentTerm: newer ? term : s.currentTerm,
    votedFor: newer ? null : s.votedFor,
    leaderId: null,
    leaderFresh: false,
    votesGranted: noVotes,
    progress: inactive(s.progress),
    reads: [],
  };
}
