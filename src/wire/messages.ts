/**
 * The io-ts codecs of every datagram of `shared/protocol/replica-udp.md` and of the peer messages
 * of `docs/protocol-rules.md`. Every type is derived from its codec and never written twice.
 *
 * Every datagram object codec is exact (`t.strict`/`t.exact`): extra fields are allowed on input
 * ("Extra fields ... are allowed") and stripped from the decoded value, at every depth.
 * Unions dispatch on their tag (`type`, or `kind` for commands) instead of using `t.union`, so
 * that a known tag reports only its own codec's errors and an unknown tag is one error.
 */
import * as t from 'io-ts/lib/index.js';

// -------------------------------------------------------------------------------------------------
// Scalars
// -------------------------------------------------------------------------------------------------

/** The most entries one AppendEntriesRequest may carry; a longer `entries` fails to decode. */
export const MAX_ENTRIES_PER_MESSAGE = 64;
/**
 * The longest key and value, in UTF-16 code units (JavaScript's string length), in direct mode: a
 * message that carries one outgrows a datagram, and travels as `Fragment`s (`fragments.ts`).
 */
export const MAX_KEY_LENGTH = 4096;
export const MAX_VALUE_LENGTH = 1_048_576;
/**
 * The simulator-routed protocol's limits, as before: its clients never send more, and a replica
 * there drops a longer request, counted as `too-large` (`replica/loop.ts`).
 */
export const PROTOCOL_MAX_KEY_LENGTH = 256;
export const PROTOCOL_MAX_VALUE_LENGTH = 1024;
export const MAX_MID_LENGTH = 128;
/** The most pairs one page of a `list` answer holds (also its default `limit`). */
export const MAX_LIST_LIMIT = 1000;
/**
 * The most bytes (UTF-8) a page's pairs take as JSON, unless its first pair alone does: a page of
 * pairs within the simulator-routed protocol's sizes stays inside one datagram; one that holds a
 * large pair travels as fragments, as any large message does.
 */
export const MAX_PAGE_BYTES = 40_000;

const NODE_ID_PATTERN = /^[0-9A-F]{4}$/;

/** A codec whose value is its input once `guard` accepts it; `expected` is its error message. */
export function refined<A>(name: string, guard: (u: unknown) => u is A, expected: string):
  t.Type<A, A, unknown> {
  return new t.Type<A, A, unknown>(
    name,
    guard,
    (u, c) => (guard(u) ? t.success(u) : t.failure(u, c, expected)),
    t.identity,
  );
}

const isSafeNat = (u: unknown): u is number =>
  typeof u === 'number' && Number.isSafeInteger(u) && u >= 0;

/** A non-negative integer that a JS number holds exactly (at most Number.MAX_SAFE_INTEGER). */
const SafeNat = refined('SafeNat', isSafeNat, 'expected a non-negative safe integer');

function boundedString(name: string, minLength: number, maxLength: number): t.Type<string> {
  const guard = (u: unknown): u is string =>
    typeof u === 'string' && u.length >= minLength && u.length <= maxLength;
  const size = minLength > 0 ? `${minLength} to ${maxLength}` : `at most ${maxLength}`;
  return refined(name, guard, `expected a string of ${size} UTF-16 code units`);
}

const NodeIdText = refined(
  'NodeIdText',
  (u: unknown): u is string => typeof u === 'string' && NODE_ID_PATTERN.test(u),
  'expected a node id of 4 upper-case hex digits',
);

export interface NodeIdBrand {
  readonly NodeId: unique symbol;
}
// The brand predicates below accept everything: the base codec has already checked the value, and
// its failure carries the readable message that the wire errors report.
/** A replica or client id: 4 upper-case hex digits. `FFFF`: broadcast (dst), unknown (leader). */
export const NodeId = t.brand(
  NodeIdText,
  (_): _ is t.Branded<string, NodeIdBrand> => true,
  'NodeId',
);
export type NodeId = t.TypeOf<typeof NodeId>;

export const BROADCAST = 'FFFF' as NodeId;

export const isNodeId = (u: unknown): u is NodeId => NodeId.is(u);

export interface TermBrand {
  readonly Term: unique symbol;
}
export const Term = t.brand(SafeNat, (_): _ is t.Branded<number, TermBrand> => true, 'Term');
export type Term = t.TypeOf<typeof Term>;

export interface LogIndexBrand {
  readonly LogIndex: unique symbol;
}
/** A 1-based log index; 0 means "before the first entry". */
export const LogIndex = t.brand(
  SafeNat,
  (_): _ is t.Branded<number, LogIndexBrand> => true,
  'LogIndex',
);
export type LogIndex = t.TypeOf<typeof LogIndex>;

/** A client's request number for at-most-once sessions; 0 (or absent) opts out. Not branded. */
export const Seq = refined('Seq', isSafeNat, 'expected a non-negative safe integer');
export type Seq = t.TypeOf<typeof Seq>;

/**
 * [§6.3 RegisterClient] A client session's id: the log index of the `register` entry that opened
 * it, so no two clients ever get the same one (53 bits wide, unlike the 4-hex client id).
 */
export const SessionId = refined('SessionId', (u: unknown): u is number => isSafeNat(u) && u >= 1,
  'expected a session id: a positive safe integer');
export type SessionId = t.TypeOf<typeof SessionId>;
/** The session a write runs in: a `SessionId`, or 0 for none (the simulator-routed protocol). */
const CmdSession = refined('CmdSession', isSafeNat, 'expected a session id, or 0 for none');

/** The largest session-table bound a `register` entry may carry (`Config.maxSessions`). */
export const MAX_SESSIONS_BOUND = 1_000_000;
const SessionBound = refined('SessionBound', (u: unknown): u is number => isSafeNat(u) && u >= 1
  && u <= MAX_SESSIONS_BOUND, `expected 1 to ${MAX_SESSIONS_BOUND}`);

/** [§6.4] A leader's read round: AppendEntries carry it, their responses echo it. */
export const ReadRound = refined('ReadRound', isSafeNat, 'expected a non-negative safe integer');
export type ReadRound = t.TypeOf<typeof ReadRound>;

export const Key = boundedString('Key', 0, MAX_KEY_LENGTH);
export type Key = t.TypeOf<typeof Key>;

export const Value = boundedString('Value', 0, MAX_VALUE_LENGTH);
export type Value = t.TypeOf<typeof Value>;

/** A client request's message id, unique per request. */
export const Mid = boundedString('Mid', 1, MAX_MID_LENGTH);
export type Mid = t.TypeOf<typeof Mid>;

// -------------------------------------------------------------------------------------------------
// Tag dispatch
// -------------------------------------------------------------------------------------------------

type Members<K extends string, R> = {
  readonly [P in keyof R]: t.Mixed & { readonly _A: { readonly [Q in K]: P } };
};

const isObject = (u: unknown): u is Record<string, unknown> =>
  typeof u === 'object' && u !== null && !Array.isArray(u);

/**
 * A union of object codecs told apart by the string field `tag`: decoding looks the tag up and runs
 * only that member. The type checker ensures that each key of `members` is its member's tag.
 */
export class TagDispatchType<K extends string, R extends Members<K, R>> extends t.Type<
  t.TypeOf<R[keyof R]>,
  t.OutputOf<R[keyof R]>,
  unknown
> {
  readonly _tag = 'TagDispatchType' as const;
  /** The member codecs in declaration order. */
  readonly tags: readonly (keyof R & string)[];
  private readonly byTag: ReadonlyMap<string, t.Mixed>;

  constructor(name: string, readonly tag: K, readonly members: R) {
    // A Map, not `members[x]`: a tag such as "__proto__" or "toString" must find nothing.
    const byTag = new Map<string, t.Mixed>(Object.entries(members));
    const tagCodec = t.keyof(Object.fromEntries([...byTag.keys()].map((k) => [k, null])), tag);
    const tagOf = (u: Record<string, unknown>): unknown =>
      (Object.hasOwn(u, tag) ? u[tag] : undefined);
    super(
      name,
      (u): u is t.TypeOf<R[keyof R]> => {
        if (!isObject(u)) return false;
        const v = tagOf(u);
        const member = typeof v === 'string' ? byTag.get(v) : undefined;
        return member !== undefined && member.is(u);
      },
      (u, c) => {
        if (!isObject(u)) return t.failure(u, c, 'expected an object');
        const v = tagOf(u);
        const member = typeof v === 'string' ? byTag.get(v) : undefined;
        if (member !== undefined) return member.validate(u, c);
        const message = typeof v === 'string' ? `unknown ${tag}` : undefined;
        return t.failure(v, t.appendContext(c, tag, tagCodec, v), message);
      },
      (a) => {
        const v: unknown = (a as Record<string, unknown>)[tag];
        const member = typeof v === 'string' ? byTag.get(v) : undefined;
        return member === undefined ? a : member.encode(a);
      },
    );
    this.byTag = byTag;
    this.tags = [...byTag.keys()] as (keyof R & string)[];
  }

  /** The member codec for a tag value, or undefined when the value names no member. */
  member(tagValue: unknown): t.Type<t.TypeOf<R[keyof R]>, t.OutputOf<R[keyof R]>, unknown> |
    undefined {
    return typeof tagValue === 'string' ? this.byTag.get(tagValue) : undefined;
  }
}

// -------------------------------------------------------------------------------------------------
// Commands and log entries
// -------------------------------------------------------------------------------------------------

export const NoopCmd = t.strict({ kind: t.literal('noop') }, 'NoopCmd');
/**
 * [§6.3 RegisterClient] Opens a session whose id is this entry's index. `keep`: the most sessions
 * the table keeps, stamped by the leader that appended it (its `Config.maxSessions`), so that
 * every server expires the same sessions: past it, the least recently used go. `seq` only names
 * the request (the client's number for it).
 */
export const RegisterCmd = t.strict(
  { kind: t.literal('register'), client: NodeId, seq: Seq, keep: SessionBound },
  'RegisterCmd',
);
/**
 * The writes: `session` is the session they run in (0: none), where each `seq` is applied once.
 */
export const PutCmd = t.strict(
  { kind: t.literal('put'), client: NodeId, session: CmdSession, seq: Seq, key: Key, value: Value },
  'PutCmd',
);
export const GetCmd = t.strict(
  { kind: t.literal('get'), client: NodeId, seq: Seq, key: Key },
  'GetCmd',
);
/** Removes the key. Direct mode only, as `cas`: the simulator-routed protocol has neither. */
export const DelCmd = t.strict(
  { kind: t.literal('del'), client: NodeId, session: CmdSession, seq: Seq, key: Key },
  'DelCmd',
);
/** A value, or `null`: no value (the key is absent). */
export const MaybeValue = t.union([Value, t.null], 'MaybeValue');
export type MaybeValue = t.TypeOf<typeof MaybeValue>;
/** Writes `value` if the key holds `expected` (`null`: if the key is absent). */
export const CasCmd = t.strict(
  { kind: t.literal('cas'), client: NodeId, session: CmdSession, seq: Seq, key: Key,
    expected: MaybeValue, value: Value },
  'CasCmd',
);
/** Most servers a configuration names, voters and learners together. */
export const MAX_MEMBERS = 64;
const isSortedUnique = (ids: readonly string[]): boolean =>
  ids.every((id, k) => k === 0 || (ids[k - 1] as string) < id);
const MemberIds = boundedArray(NodeId, MAX_MEMBERS, 'MemberIds');
/**
 * [D§4] A configuration: the servers whose votes and acknowledgements count (`voters`, at least
 * one), and those that receive the log but are never counted (`learners`). Each sorted, without
 * repeats, the two disjoint, at most `MAX_MEMBERS` together.
 */
const validConfiguration = (c: { readonly voters: readonly string[];
  readonly learners: readonly string[] }): boolean =>
  c.voters.length > 0 && isSortedUnique(c.voters) && isSortedUnique(c.learners)
    && c.voters.length + c.learners.length <= MAX_MEMBERS
    && !c.learners.some((id) => c.voters.includes(id));
export const Configuration = t.refinement(t.strict({ voters: MemberIds, learners: MemberIds }),
  validConfiguration, 'Configuration');
export type Configuration = t.TypeOf<typeof Configuration>;
/**
 * [D§4.1] A single-server configuration change: `id` added as a learner, promoted to voter, or
 * removed. It carries the configuration it leads to (`voters`, `learners`), computed by the leader
 * that appended it, so that a server knows its configuration from its last change alone (etcd's
 * ConfChange with its ConfState). It takes effect when appended, not when committed.
 */
export const ConfigCmd = t.refinement(t.strict({
  kind: t.literal('config'),
  change: t.keyof({ addLearner: null, promote: null, remove: null }),
  id: NodeId,
  voters: MemberIds,
  learners: MemberIds,
}), validConfiguration, 'ConfigCmd');
export type ConfigCmd = t.TypeOf<typeof ConfigCmd>;
export const Cmd = new TagDispatchType('Cmd', 'kind',
  { noop: NoopCmd, register: RegisterCmd, put: PutCmd, get: GetCmd, del: DelCmd, cas: CasCmd,
    config: ConfigCmd });
export type Cmd = t.TypeOf<typeof Cmd>;
/** A put, del or cas: a command that changes the key-value map. */
export type WriteCmd = Extract<Cmd, { kind: 'put' | 'del' | 'cas' }>;
/** A client's command that goes through the log: a write, or a register. */
export type LogCmd = WriteCmd | RegisterCmd;
export type RegisterCmd = t.TypeOf<typeof RegisterCmd>;

export const Entry = t.strict({ term: Term, cmd: Cmd }, 'Entry');
export type Entry = t.TypeOf<typeof Entry>;

/** An array of `item` that fails, before looking at any item, when longer than `maxLength`. */
function boundedArray<C extends t.Mixed>(item: C, maxLength: number, name: string):
  t.Type<t.TypeOf<C>[], t.OutputOf<C>[], unknown> {
  const array = t.array(item);
  return new t.Type<t.TypeOf<C>[], t.OutputOf<C>[], unknown>(
    name,
    (u): u is t.TypeOf<C>[] => array.is(u) && u.length <= maxLength,
    (u, c) => (Array.isArray(u) && u.length > maxLength
      ? t.failure(u, c, `expected at most ${maxLength} entries, got ${u.length}`)
      : array.validate(u, c)),
    array.encode,
  );
}

export const Entries = boundedArray(Entry, MAX_ENTRIES_PER_MESSAGE, 'Entries');

// -------------------------------------------------------------------------------------------------
// Datagrams
// -------------------------------------------------------------------------------------------------

/** Carried by every datagram ("Every datagram ... carries src, dst, leader and type"). */
const envelope = { src: NodeId, dst: NodeId, leader: NodeId };

function datagram<T extends string, P extends t.Props>(type: T, props: P) {
  return t.strict({ ...envelope, type: t.literal(type), ...props }, type);
}

function datagramWithOptional<T extends string, P extends t.Props, O extends t.Props>(
  type: T,
  props: P,
  optional: O,
) {
  const required = t.type({ ...envelope, type: t.literal(type), ...props });
  return t.exact(t.intersection([required, t.partial(optional)]), type);
}

/** The first datagram a replica sends: `{src, dst: FFFF, leader: FFFF, type: "hello"}`. */
export const Hello = datagram('hello', {});
export type Hello = t.TypeOf<typeof Hello>;

// Client requests. `session` and `seq` are our extension for at-most-once writes [§6.3]; the
// simulator never sends them. A write with a `session` is applied once per `seq` in it.
export const ClientGet = datagramWithOptional('get', { MID: Mid, key: Key }, { seq: Seq });
export type ClientGet = t.TypeOf<typeof ClientGet>;
export const ClientPut = datagramWithOptional(
  'put',
  { MID: Mid, key: Key, value: Value },
  { session: SessionId, seq: Seq },
);
export type ClientPut = t.TypeOf<typeof ClientPut>;
/**
 * Direct mode's own requests (`docs/protocol.md`): a delete, and a compare-and-swap whose
 * `expected` is `null` for "only if the key is absent". Their `ok` carries the value the key held
 * before (no `value`: it held none). A simulator-routed replica drops them as unknown.
 */
export const ClientDel = datagramWithOptional('del', { MID: Mid, key: Key },
  { session: SessionId, seq: Seq });
export type ClientDel = t.TypeOf<typeof ClientDel>;
export const ClientCas = datagramWithOptional(
  'cas',
  { MID: Mid, key: Key, expected: MaybeValue, value: Value },
  { session: SessionId, seq: Seq },
);
export type ClientCas = t.TypeOf<typeof ClientCas>;
/**
 * [§6.3 RegisterClient] Direct mode's request for a session: its `ok` carries `session`, the
 * index of the entry that opened it. Each register opens a new one (a retry too: the first is
 * then never used, and expires in its turn).
 */
export const ClientRegister = datagramWithOptional('register', { MID: Mid }, { seq: Seq });
export type ClientRegister = t.TypeOf<typeof ClientRegister>;
const ListLimit = refined('ListLimit', (u: unknown): u is number => isSafeNat(u) && u >= 1
  && u <= MAX_LIST_LIMIT, `expected 1 to ${MAX_LIST_LIMIT}`);
/**
 * Direct mode's prefix listing: one page of the keys that start with `prefix` and sort after
 * `after` (in UTF-16 code unit order, as JavaScript compares strings), at most `limit` of them.
 * Its `ok` carries the page as `pairs` and, when keys remain, `next`: the `after` of the next page.
 * Each page is a linearizable read of its own [§6.4], not one snapshot of the whole listing.
 */
export const ClientList = datagramWithOptional('list', { MID: Mid, prefix: Key },
  { after: Key, limit: ListLimit, seq: Seq });
export type ClientList = t.TypeOf<typeof ClientList>;
/** A page of a listing: key-value pairs, sorted by key. */
export const Page = boundedArray(t.tuple([Key, Value]), MAX_LIST_LIMIT, 'Page');
export type Page = t.TypeOf<typeof Page>;

// Responses to clients. A get's `ok` carries `value`; a put's does not. In direct mode a get's,
// del's or cas's `ok` carries the value found, and none when the key is absent; the
// simulator-routed protocol reads an absent key as "". A list's `ok` carries `pairs` and `next`.
export const ClientOk = datagramWithOptional('ok', { MID: Mid },
  { value: Value, pairs: Page, next: Key, session: SessionId });
export type ClientOk = t.TypeOf<typeof ClientOk>;
/**
 * [§6.3] A write whose session the table no longer held when its entry was applied: that entry
 * did nothing, but an earlier copy of the same request may have, so its outcome is unknown. The
 * client registers again before its next write. Direct mode only.
 */
export const ClientExpired = datagram('expired', { MID: Mid });
export type ClientExpired = t.TypeOf<typeof ClientExpired>;
export const ClientFail = datagram('fail', { MID: Mid });
export type ClientFail = t.TypeOf<typeof ClientFail>;
/** `leader` names the leader to try (FFFF when unknown). */
export const ClientRedirect = datagram('redirect', { MID: Mid });
export type ClientRedirect = t.TypeOf<typeof ClientRedirect>;

// Peer messages [Fig2] [§9.6 PreVote].
export const PreVoteRequest = datagram('PreVoteRequest', {
  term: Term,
  lastLogIndex: LogIndex,
  lastLogTerm: Term,
});
export type PreVoteRequest = t.TypeOf<typeof PreVoteRequest>;
export const PreVoteResponse = datagram('PreVoteResponse', { term: Term, voteGranted: t.boolean });
export type PreVoteResponse = t.TypeOf<typeof PreVoteResponse>;
export const RequestVoteRequest = datagram('RequestVoteRequest', {
  term: Term,
  lastLogIndex: LogIndex,
  lastLogTerm: Term,
});
export type RequestVoteRequest = t.TypeOf<typeof RequestVoteRequest>;
export const RequestVoteResponse = datagram('RequestVoteResponse', {
  term: Term,
  voteGranted: t.boolean,
});
export type RequestVoteResponse = t.TypeOf<typeof RequestVoteResponse>;
export const AppendEntriesRequest = datagram('AppendEntriesRequest', {
  term: Term,
  prevLogIndex: LogIndex,
  prevLogTerm: Term,
  entries: Entries,
  leaderCommit: LogIndex,
  readRound: ReadRound,
});
export type AppendEntriesRequest = t.TypeOf<typeof AppendEntriesRequest>;
export const AppendEntriesResponse = datagram('AppendEntriesResponse', {
  term: Term,
  success: t.boolean,
  matchIndex: LogIndex,
  rejectHint: LogIndex,
  readRound: ReadRound,
});
export type AppendEntriesResponse = t.TypeOf<typeof AppendEntriesResponse>;

/**
 * [§6.3] A client session of the state machine: the last request number applied in it and its
 * answer (the value found, `null`: none, for a del or cas; none for a put, whose answer carries no
 * value), and `last`, the index of the last entry that opened it or applied in it: the least
 * recently used expires first.
 */
export const SessionRecord = t.strict({ seq: Seq, value: MaybeValue, last: LogIndex }, 'Session');
export type Session = t.TypeOf<typeof SessionRecord>;
/** The state machine's pairs, sorted by key: a snapshot's content [§7]. */
export const KvPairs = t.readonlyArray(t.tuple([Key, Value]), 'KvPairs');
/** The sessions, by id. */
export const SessionPairs = t.readonlyArray(t.tuple([SessionId, SessionRecord]), 'SessionPairs');

/** [§7] Runs a snapshot keeps of the terms of the entries it replaced: the newest this many. */
export const TERM_RUNS_KEPT = 64;
/** A run of the compacted log: the entries from `index` on (up to the next run) had `term`. */
export const TermRun = t.strict({ index: LogIndex, term: Term }, 'TermRun');
export type TermRun = t.TypeOf<typeof TermRun>;
const TermRunArray = boundedArray(TermRun, TERM_RUNS_KEPT, 'TermRuns');
const ascending = (runs: readonly TermRun[]): boolean => runs.every((r, k) => r.index >= 1
  && r.term >= 1 && (k === 0 || (r.index > (runs[k - 1] as TermRun).index
    && r.term > (runs[k - 1] as TermRun).term)));
/**
 * The runs: indexes and terms from 1, both strictly increasing (each run starts a newer term), or
 * the datagram is refused. Required in a message.
 */
export const TermRuns = new t.Type<TermRun[], t.OutputOf<typeof TermRunArray>, unknown>(
  'TermRuns',
  (u): u is TermRun[] => TermRunArray.is(u) && ascending(u),
  (u, c) => {
    const v = TermRunArray.validate(u, c);
    if (v._tag === 'Left' || ascending(v.right)) return v;
    return t.failure(u, c, 'expected runs with indexes and terms from 1, strictly increasing');
  }, TermRunArray.encode);
/**
 * The runs in a snapshot on disk, where absent reads as none: a data directory written before
 * snapshots kept runs still opens (its deposed leader only cannot settle pending puts from it).
 */
const StoredTermRuns = new t.Type<readonly TermRun[], readonly TermRun[], unknown>(
  'TermRuns', (u): u is readonly TermRun[] => TermRuns.is(u),
  (u, c) => (u === undefined ? t.success([]) : TermRuns.validate(u, c)), (a) => a.slice());

/**
 * [§7 Figure 13] The state machine after applying every entry up to `index` (whose term is
 * `term`): the key-value pairs and the client sessions, each sorted by key, and the terms of the
 * entries it replaced (`terms`). Immutable once made,
 * so a log, a message and a disk write can share one. The one definition: the log (`core/log.ts`),
 * the state machine (`core/kv.ts`) and the WAL (`wal.ts`) all use this type and codec.
 */
export const Snapshot = t.exact(t.intersection([
  t.type({ index: LogIndex, term: Term, kv: KvPairs, sessions: SessionPairs,
    terms: StoredTermRuns }),
  // [D§4.1] the configuration as of `index`; absent: the bootstrap's (the `--peer` list, all
  // voters), as a data directory written before configurations were logged has
  t.partial({ config: Configuration }),
]), 'Snapshot');
export type Snapshot = t.TypeOf<typeof Snapshot>;

/**
 * [§7 Figure 13] The leader's snapshot, whole: the state machine up to `lastIncludedIndex`. The
 * core sends and handles it as one message, as the spec does; on the wire it always travels as
 * `InstallSnapshotChunk` datagrams (`chunks.ts`), since a snapshot outgrows any datagram. The
 * follower answers with an AppendEntriesResponse (as etcd answers MsgSnap with MsgAppResp).
 */
export const InstallSnapshotRequest = datagramWithOptional('InstallSnapshotRequest', {
  term: Term,
  lastIncludedIndex: LogIndex,
  lastIncludedTerm: Term,
  kv: KvPairs,
  sessions: SessionPairs,
  terms: TermRuns,
  readRound: ReadRound,
}, { config: Configuration });
export type InstallSnapshotRequest = t.TypeOf<typeof InstallSnapshotRequest>;

/**
 * Most chunks of one snapshot (at 30,000 bytes each, about 245 MB of JSON: a state larger than
 * that cannot be sent to a follower that needs it), and bytes of one chunk.
 */
export const MAX_SNAPSHOT_CHUNKS = 8192;
export const MAX_CHUNK_DATA_LENGTH = 48_000;
const ChunkData = refined('ChunkData', (u: unknown): u is string => typeof u === 'string'
  && u.length <= MAX_CHUNK_DATA_LENGTH && /^[A-Za-z0-9+/]*={0,2}$/.test(u),
  `expected base64 text of at most ${MAX_CHUNK_DATA_LENGTH} characters`);
const ChunkCount = refined('ChunkCount', (u: unknown): u is number => isSafeNat(u) && u >= 1
  && u <= MAX_SNAPSHOT_CHUNKS, `expected 1 to ${MAX_SNAPSHOT_CHUNKS}`);

/**
 * [§7 Figure 13 offset/data/done] One piece of an InstallSnapshotRequest: `data` is chunk number
 * `chunk` (from 0) of `chunks`, base64, of the UTF-8 JSON of its `{ kv, sessions }`. The other
 * fields are the request's own, in every chunk.
 */
export const InstallSnapshotChunk = datagram('InstallSnapshotChunk', {
  term: Term,
  lastIncludedIndex: LogIndex,
  lastIncludedTerm: Term,
  readRound: ReadRound,
  chunk: SafeNat,
  chunks: ChunkCount,
  data: ChunkData,
});
export type InstallSnapshotChunk = t.TypeOf<typeof InstallSnapshotChunk>;

/**
 * Most fragments of one message: its JSON at most `MAX_MESSAGE_BYTES` (`fragments.ts`), 13.4 MB,
 * room for the largest message a legal request leads to: a cas of a 4,096-unit key and two
 * 1,048,576-unit values, every unit escaped as `\uXXXX` (6 bytes), alone in an AppendEntries.
 */
export const MAX_FRAGMENTS = 448;
const FragmentCount = refined('FragmentCount', (u: unknown): u is number => isSafeNat(u) && u >= 1
  && u <= MAX_FRAGMENTS, `expected 1 to ${MAX_FRAGMENTS}`);
const Digest = refined('Digest', (u: unknown): u is string => typeof u === 'string'
  && /^[A-Za-z0-9+/]{22}$/.test(u), 'expected 22 base64 characters');

/**
 * One piece of a message too large for a datagram (a put of a large value, its get's answer, an
 * AppendEntries that carries it): `data` is part `part` (from 0) of `parts`, base64, of the
 * message's UTF-8 JSON, whose SHA-256 begins with `digest` (16 bytes, base64). The receiver puts
 * the parts of one (`src`, `id`, `digest`) together and handles the message as if it had arrived
 * whole; until then it has not arrived, so a lost part is a lost message. Below the protocol: the
 * spec's messages are the whole ones.
 */
export const Fragment = datagram('Fragment', {
  id: SafeNat,
  digest: Digest,
  part: SafeNat,
  parts: FragmentCount,
  data: ChunkData,
});
export type Fragment = t.TypeOf<typeof Fragment>;

// -------------------------------------------------------------------------------------------------
// Unions
// -------------------------------------------------------------------------------------------------

const clientRequests = { get: ClientGet, put: ClientPut, del: ClientDel, cas: ClientCas,
  list: ClientList, register: ClientRegister };
const clientResponses = { ok: ClientOk, fail: ClientFail, redirect: ClientRedirect,
  expired: ClientExpired };
const peerMessages = {
  PreVoteRequest,
  PreVoteResponse,
  RequestVoteRequest,
  RequestVoteResponse,
  AppendEntriesRequest,
  AppendEntriesResponse,
  InstallSnapshotRequest,
};

export const ClientRequest = new TagDispatchType('ClientRequest', 'type', clientRequests);
export type ClientRequest = t.TypeOf<typeof ClientRequest>;

export const ClientResponse = new TagDispatchType('ClientResponse', 'type', clientResponses);
export type ClientResponse = t.TypeOf<typeof ClientResponse>;

export const PeerMessage = new TagDispatchType('PeerMessage', 'type', peerMessages);
export type PeerMessage = t.TypeOf<typeof PeerMessage>;

/** Every datagram of the protocol. */
export const Message = new TagDispatchType('Message', 'type', {
  hello: Hello,
  ...clientRequests,
  ...clientResponses,
  ...peerMessages,
  InstallSnapshotChunk,
  Fragment,
});
export type Message = t.TypeOf<typeof Message>;
export type MessageType = Message['type'];

/** Every message `type`, in declaration order. */
export const MESSAGE_TYPES: readonly MessageType[] = Message.tags;
