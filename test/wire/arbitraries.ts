/**
 * fast-check arbitraries for every wire value, shared by the property tests of every suite. Each
 * one generates only values that the codecs accept (and that fit in one datagram at the default
 * size).
 */
import fc from 'fast-check';
import {
  MAX_ENTRIES_PER_MESSAGE,
  MAX_SNAPSHOT_CHUNKS,
  MAX_FRAGMENTS,
  MAX_LIST_LIMIT,
  MAX_SESSIONS_BOUND,
  MAX_MID_LENGTH,
  PROTOCOL_MAX_KEY_LENGTH,
  PROTOCOL_MAX_VALUE_LENGTH,
  type Cmd,
  type Entry,
  type LogIndex,
  type Message,
  type MessageType,
  type NodeId,
  type Term,
} from '../../src/wire/index.js';

const hex4 = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0');

/** Any id, biased towards the small ids the simulator hands out and towards FFFF. */
export const nodeIdArb: fc.Arbitrary<NodeId> = fc
  .oneof(
    { arbitrary: fc.integer({ min: 0, max: 8 }), weight: 2 },
    { arbitrary: fc.constant(0xffff), weight: 1 },
    { arbitrary: fc.integer({ min: 0, max: 0xffff }), weight: 2 },
  )
  .map((n) => hex4(n) as NodeId);

/** Non-negative safe integers, biased towards small ones, up to Number.MAX_SAFE_INTEGER. */
export const safeNatArb: fc.Arbitrary<number> = fc.oneof(
  { arbitrary: fc.nat({ max: 20 }), weight: 3 },
  { arbitrary: fc.constant(Number.MAX_SAFE_INTEGER), weight: 1 },
  { arbitrary: fc.maxSafeNat(), weight: 2 },
);
export const termArb: fc.Arbitrary<Term> = safeNatArb.map((n) => n as Term);
export const logIndexArb: fc.Arbitrary<LogIndex> = safeNatArb.map((n) => n as LogIndex);
export const seqArb: fc.Arbitrary<number> = safeNatArb;

/** One UTF-16 code unit: mostly printable ASCII, sometimes anything (lone surrogates included). */
const codeUnitArb: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.integer({ min: 0x20, max: 0x7e }), weight: 4 },
  { arbitrary: fc.integer({ min: 0, max: 0xffff }), weight: 1 },
).map((c) => String.fromCharCode(c));

/** Strings of `minLength` to `maxLength` UTF-16 code units (a surrogate pair counts two). */
export function textArb(minLength: number, maxLength: number): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ unit: codeUnitArb, minLength, maxLength }),
    fc.string({
      unit: 'binary',
      minLength: Math.ceil(minLength / 2),
      maxLength: Math.floor(maxLength / 2),
    }),
  );
}

// Keys and values within the simulator-routed protocol's limits, so that every message fits one
// datagram; direct mode's longer ones travel as fragments (test/wire/fragments.test.ts).
export const keyArb = textArb(0, PROTOCOL_MAX_KEY_LENGTH);
export const valueArb = textArb(0, PROTOCOL_MAX_VALUE_LENGTH);
export const midArb = textArb(1, MAX_MID_LENGTH);

/** A session id [§6.3]: a log index from 1. */
export const sessionIdArb = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
/** A write's session: 0 (none) or an id. */
const cmdSessionArb = fc.oneof(fc.constant(0), sessionIdArb);

export const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({ kind: fc.constant('noop' as const) }),
  fc.record({ kind: fc.constant('register' as const), client: nodeIdArb, seq: seqArb,
    keep: fc.integer({ min: 1, max: MAX_SESSIONS_BOUND }) }),
  fc.record({
    kind: fc.constant('put' as const),
    client: nodeIdArb,
    session: cmdSessionArb,
    seq: seqArb,
    key: keyArb,
    value: valueArb,
  }),
  fc.record({ kind: fc.constant('get' as const), client: nodeIdArb, seq: seqArb, key: keyArb }),
  fc.record({ kind: fc.constant('del' as const), client: nodeIdArb, session: cmdSessionArb,
    seq: seqArb, key: keyArb }),
  fc.record({ kind: fc.constant('cas' as const), client: nodeIdArb, session: cmdSessionArb,
    seq: seqArb, key: keyArb, expected: fc.option(valueArb, { nil: null }), value: valueArb }),
);

export const entryArb: fc.Arbitrary<Entry> = fc.record({ term: termArb, cmd: cmdArb });

const envelope = { src: nodeIdArb, dst: nodeIdArb, leader: nodeIdArb };

type MessageOf<K extends MessageType> = Extract<Message, { type: K }>;

/** One arbitrary per message type: adding a type to `Message` without one fails to compile. */
export const messageArbs: { readonly [K in MessageType]: fc.Arbitrary<MessageOf<K>> } = {
  hello: fc.record({ ...envelope, type: fc.constant('hello' as const) }),
  get: fc.record(
    { ...envelope, type: fc.constant('get' as const), MID: midArb, key: keyArb, seq: seqArb },
    { requiredKeys: ['src', 'dst', 'leader', 'type', 'MID', 'key'] },
  ),
  put: fc.record(
    {
      ...envelope,
      type: fc.constant('put' as const),
      MID: midArb,
      key: keyArb,
      value: valueArb,
      session: sessionIdArb,
      seq: seqArb,
    },
    { requiredKeys: ['src', 'dst', 'leader', 'type', 'MID', 'key', 'value'] },
  ),
  del: fc.record(
    { ...envelope, type: fc.constant('del' as const), MID: midArb, key: keyArb,
      session: sessionIdArb, seq: seqArb },
    { requiredKeys: ['src', 'dst', 'leader', 'type', 'MID', 'key'] },
  ),
  register: fc.record(
    { ...envelope, type: fc.constant('register' as const), MID: midArb, seq: seqArb },
    { requiredKeys: ['src', 'dst', 'leader', 'type', 'MID'] },
  ),
  cas: fc.record(
    {
      ...envelope,
      type: fc.constant('cas' as const),
      MID: midArb,
      key: keyArb,
      expected: fc.option(valueArb, { nil: null }),
      value: valueArb,
      session: sessionIdArb,
      seq: seqArb,
    },
    { requiredKeys: ['src', 'dst', 'leader', 'type', 'MID', 'key', 'expected', 'value'] },
  ),
  list: fc.record(
    { ...envelope, type: fc.constant('list' as const), MID: midArb, prefix: keyArb,
      after: keyArb, limit: fc.integer({ min: 1, max: MAX_LIST_LIMIT }), seq: seqArb },
    { requiredKeys: ['src', 'dst', 'leader', 'type', 'MID', 'prefix'] },
  ),
  ok: fc.record(
    { ...envelope, type: fc.constant('ok' as const), MID: midArb, value: valueArb,
      pairs: fc.array(fc.tuple(keyArb, valueArb), { maxLength: 4 }), next: keyArb,
      session: sessionIdArb },
    { requiredKeys: ['src', 'dst', 'leader', 'type', 'MID'] },
  ),
  fail: fc.record({ ...envelope, type: fc.constant('fail' as const), MID: midArb }),
  expired: fc.record({ ...envelope, type: fc.constant('expired' as const), MID: midArb }),
  redirect: fc.record({ ...envelope, type: fc.constant('redirect' as const), MID: midArb }),
  PreVoteRequest: fc.record({
    ...envelope,
    type: fc.constant('PreVoteRequest' as const),
    term: termArb,
    lastLogIndex: logIndexArb,
    lastLogTerm: termArb,
  }),
  PreVoteResponse: fc.record({
    ...envelope,
    type: fc.constant('PreVoteResponse' as const),
    term: termArb,
    voteGranted: fc.boolean(),
  }),
  RequestVoteRequest: fc.record({
    ...envelope,
    type: fc.constant('RequestVoteRequest' as const),
    term: termArb,
    lastLogIndex: logIndexArb,
    lastLogTerm: termArb,
  }),
  RequestVoteResponse: fc.record({
    ...envelope,
    type: fc.constant('RequestVoteResponse' as const),
    term: termArb,
    voteGranted: fc.boolean(),
  }),
  AppendEntriesRequest: fc.record({
    ...envelope,
    type: fc.constant('AppendEntriesRequest' as const),
    term: termArb,
    prevLogIndex: logIndexArb,
    prevLogTerm: termArb,
    entries: fc.array(entryArb, { maxLength: MAX_ENTRIES_PER_MESSAGE }),
    leaderCommit: logIndexArb,
    readRound: logIndexArb,
  }),
  AppendEntriesResponse: fc.record({
    ...envelope,
    type: fc.constant('AppendEntriesResponse' as const),
    term: termArb,
    success: fc.boolean(),
    matchIndex: logIndexArb,
    rejectHint: logIndexArb,
    readRound: logIndexArb,
  }),
  InstallSnapshotRequest: fc.record({
    ...envelope,
    type: fc.constant('InstallSnapshotRequest' as const),
    term: termArb,
    lastIncludedIndex: logIndexArb,
    lastIncludedTerm: termArb,
    kv: fc.array(fc.tuple(keyArb, valueArb), { maxLength: 8 }),
    sessions: fc.array(fc.tuple(sessionIdArb, fc.record({ seq: seqArb,
      value: fc.option(valueArb, { nil: null }), last: logIndexArb })),
      { maxLength: 4 }),
    // strictly increasing indexes and terms from 1 (the codec refuses anything else)
    terms: fc.array(fc.tuple(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 9 })),
      { maxLength: 4 }).map((steps) => steps.reduce<{ index: number; term: number }[]>(
      (runs, [di, dt]) => [...runs, { index: (runs.at(-1)?.index ?? 0) + di,
        term: (runs.at(-1)?.term ?? 0) + dt }], [])) as unknown as fc.Arbitrary<import('../../src/wire/messages.js').TermRun[]>,
    readRound: logIndexArb,
  }),
  InstallSnapshotChunk: fc.record({
    ...envelope,
    type: fc.constant('InstallSnapshotChunk' as const),
    term: termArb,
    lastIncludedIndex: logIndexArb,
    lastIncludedTerm: termArb,
    readRound: logIndexArb,
    chunk: fc.integer({ min: 0, max: 100 }),
    chunks: fc.integer({ min: 1, max: MAX_SNAPSHOT_CHUNKS }),
    data: fc.uint8Array({ maxLength: 3000 }).map((b) => Buffer.from(b).toString('base64')),
  }),
  Fragment: fc.record({
    ...envelope,
    type: fc.constant('Fragment' as const),
    id: logIndexArb,
    digest: fc.uint8Array({ minLength: 16, maxLength: 16 })
      .map((b) => Buffer.from(b).toString('base64').slice(0, 22)),
    part: fc.integer({ min: 0, max: 100 }),
    parts: fc.integer({ min: 1, max: MAX_FRAGMENTS }),
    data: fc.uint8Array({ maxLength: 3000 }).map((b) => Buffer.from(b).toString('base64')),
  }),
};

/** Any message, every type equally likely. */
export const messageArb: fc.Arbitrary<Message> = fc.oneof(
  ...(Object.values(messageArbs) as fc.Arbitrary<Message>[]),
);
