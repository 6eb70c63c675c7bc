/** One valid datagram of every message type, as JSON text would carry it. */
import type { Message, MessageType } from '../../src/wire/index.js';

type MessageOf<K extends MessageType> = Extract<Message, { type: K }>;

/**
 * Plain objects typed loosely on purpose: tests mutate copies of them into invalid datagrams. The
 * `satisfies` clause still makes a missing message type a compile error.
 */
export const examples = {
  hello: { src: '0001', dst: 'FFFF', leader: 'FFFF', type: 'hello' },
  get: { src: '001C', dst: '0001', leader: 'FFFF', type: 'get', MID: 'M7Q2', key: 'k1' },
  put: {
    src: '001C', dst: '0001', leader: '0002', type: 'put', MID: 'M7Q3', key: 'k1', value: 'v1',
  },
  del: {
    src: '001C', dst: '0001', leader: 'FFFF', type: 'del', MID: 'M7Q6', key: 'k1', session: 12,
    seq: 9,
  },
  cas: {
    src: '001C', dst: '0001', leader: '0001', type: 'cas', MID: 'M7Q7', key: 'k1', expected: null,
    value: 'v2', seq: 10,
  },
  list: {
    src: '001C', dst: '0001', leader: '0001', type: 'list', MID: 'M7Q8', prefix: 'user/',
    after: 'user/ann', limit: 2,
  },
  ok: { src: '0001', dst: '001C', leader: '0001', type: 'ok', MID: 'M7Q2', value: 'v1' },
  fail: { src: '0001', dst: '001C', leader: 'FFFF', type: 'fail', MID: 'M7Q4' },
  expired: { src: '0001', dst: '001C', leader: '0001', type: 'expired', MID: 'M7Q9' },
  register: { src: '001C', dst: '0001', leader: 'FFFF', type: 'register', MID: 'M7QA', seq: 8 },
  redirect: { src: '0003', dst: '001C', leader: '0001', type: 'redirect', MID: 'M7Q5' },
  PreVoteRequest: {
    src: '0001', dst: 'FFFF', leader: 'FFFF', type: 'PreVoteRequest',
    term: 3, lastLogIndex: 7, lastLogTerm: 2,
  },
  PreVoteResponse: {
    src: '0002', dst: '0001', leader: 'FFFF', type: 'PreVoteResponse', term: 3, voteGranted: true,
  },
  RequestVoteRequest: {
    src: '0001', dst: '0002', leader: 'FFFF', type: 'RequestVoteRequest',
    term: 3, lastLogIndex: 7, lastLogTerm: 2,
  },
  RequestVoteResponse: {
    src: '0002', dst: '0001', leader: 'FFFF', type: 'RequestVoteResponse',
    term: 3, voteGranted: false,
  },
  AppendEntriesRequest: {
    src: '0001', dst: '0002', leader: '0001', type: 'AppendEntriesRequest',
    term: 3, prevLogIndex: 7, prevLogTerm: 2, leaderCommit: 6,
    entries: [
      { term: 3, cmd: { kind: 'noop' } },
      { term: 3, cmd: { kind: 'put', client: '001C', session: 0, seq: 4, key: 'k1', value: 'v1' } },
      { term: 3, cmd: { kind: 'get', client: '001D', seq: 0, key: 'k1' } },
      { term: 3, cmd: { kind: 'del', client: '001D', session: 0, seq: 1, key: 'k1' } },
      { term: 3, cmd: { kind: 'cas', client: '001D', session: 0, seq: 2, key: 'k1', expected: 'v1',
        value: 'v2' } },
    ],
    readRound: 2,
  },
  AppendEntriesResponse: {
    src: '0002', dst: '0001', leader: '0001', type: 'AppendEntriesResponse',
    term: 3, success: true, matchIndex: 10, rejectHint: 0, readRound: 2,
  },
  InstallSnapshotRequest: {
    src: '0001', dst: '0002', leader: '0001', type: 'InstallSnapshotRequest',
    term: 3, lastIncludedIndex: 2000, lastIncludedTerm: 2,
    kv: [['k1', 'v1'], ['k2', '']], sessions: [[12, { seq: 4, value: 'v1', last: 1900 }],
      [1400, { seq: 2, value: null, last: 1999 }]],
    terms: [{ index: 1, term: 1 }, { index: 1500, term: 2 }], readRound: 2,
  },
  InstallSnapshotChunk: {
    src: '0001', dst: '0002', leader: '0001', type: 'InstallSnapshotChunk',
    term: 3, lastIncludedIndex: 2000, lastIncludedTerm: 2, readRound: 2, chunk: 0, chunks: 2,
    data: 'eyJrdiI6W10=',
  },
  Fragment: {
    src: '001C', dst: '0001', leader: 'FFFF', type: 'Fragment', id: 7,
    digest: 'q83vEjRWeJCrze8SNFZ4kA', part: 1, parts: 3, data: 'eyJrdiI6W10=',
  },
} satisfies { readonly [K in MessageType]: Record<string, unknown> & { type: K } };

/** A deep copy of the example of `type`, free to mutate. */
export function example(type: MessageType): Record<string, unknown> {
  return JSON.parse(JSON.stringify(examples[type])) as Record<string, unknown>;
}

/** The example of `type` as the message type it decodes to. */
export function exampleMessage<K extends MessageType>(type: K): MessageOf<K> {
  return example(type) as MessageOf<K>;
}
