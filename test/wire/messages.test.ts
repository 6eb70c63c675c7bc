import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import {
  BROADCAST,
  ClientRequest,
  ClientResponse,
  Cmd,
  decodeDatagram,
  encodeMessage,
  Hello,
  isNodeId,
  Message,
  MESSAGE_TYPES,
  PeerMessage,
  type MessageType,
} from '../../src/wire/index.js';
import {
  InstallSnapshotRequest, Snapshot, TERM_RUNS_KEPT,
} from '../../src/wire/messages.js';
import { example, exampleMessage, examples } from './examples.js';

const types = Object.keys(examples) as MessageType[];

describe('[replica-udp: Datagrams] every message type decodes', () => {
  it('knows exactly the protocol and peer message types', () => {
    expect([...MESSAGE_TYPES].sort()).toEqual([
      'AppendEntriesRequest', 'AppendEntriesResponse', 'Fragment', 'InstallSnapshotChunk',
      'InstallSnapshotRequest', 'PreVoteRequest', 'PreVoteResponse',
      'RequestVoteRequest', 'RequestVoteResponse',
      'cas', 'del', 'expired', 'fail', 'get', 'hello', 'list', 'ok', 'put', 'redirect', 'register',
    ]);
  });

  it.each(types)('a valid %s decodes to itself, from text and from UTF-8 bytes', (type) => {
    const text = JSON.stringify(examples[type]);
    expect(decodeDatagram(text)).toEqual(E.right(examples[type]));
    expect(decodeDatagram(new TextEncoder().encode(text))).toEqual(E.right(examples[type]));
  });

  it.each(types)('a %s survives encodeMessage then decodeDatagram unchanged', (type) => {
    const m = exampleMessage(type);
    const text = encodeMessage(m);
    expect(decodeDatagram(text)).toEqual(E.right(m));
    expect(JSON.parse(text)).toEqual(examples[type]);
  });

  it('optional fields may be absent: get and put without seq, a put\'s ok without value', () => {
    for (const type of ['get', 'put', 'ok'] as const) {
      const datagram = example(type);
      delete datagram['seq'];
      delete datagram['value'];
      if (type === 'put') datagram['value'] = 'v';
      const decoded = decodeDatagram(JSON.stringify(datagram));
      expect(decoded).toEqual(E.right(datagram));
      if (E.isRight(decoded)) expect(Object.keys(decoded.right)).not.toContain('seq');
    }
  });

  it('get and put carry an optional seq for at-most-once sessions', () => {
    const get = { ...example('get'), seq: 9 };
    const put = { ...example('put'), seq: 10 };
    expect(decodeDatagram(JSON.stringify(get))).toEqual(E.right(get));
    expect(decodeDatagram(JSON.stringify(put))).toEqual(E.right(put));
  });
});

describe('[replica-udp: Datagrams] ids are 4 upper-case hex digits, FFFF included', () => {
  it.each(['0000', '0001', '001C', '00A0', '9F3C', 'FFFF'])('%s is a NodeId', (id) => {
    expect(isNodeId(id)).toBe(true);
  });

  it.each(['000', '00000', '00g0', '00a0', '', ' 001', '0001\n', 1, null])(
    '%j is not a NodeId',
    (id) => {
      expect(isNodeId(id)).toBe(false);
    },
  );

  it('BROADCAST is FFFF', () => {
    expect(BROADCAST).toBe('FFFF');
  });
});

describe('[protocol-rules: Commands] log entries carry noop, put and get commands', () => {
  it.each([
    { kind: 'noop' },
    { kind: 'put', client: '001C', session: 0, seq: 0, key: '', value: '' },
    { kind: 'get', client: 'FFFF', seq: Number.MAX_SAFE_INTEGER, key: 'k' },
  ])('%j decodes', (cmd) => {
    expect(Cmd.decode(cmd)).toEqual(E.right(cmd));
  });

  it('a noop carries nothing but its kind: extra fields are stripped', () => {
    expect(Cmd.decode({ kind: 'noop', client: '', seq: 0, key: '', value: 0 }))
      .toEqual(E.right({ kind: 'noop' }));
  });
});

describe('the union codecs dispatch on type', () => {
  const cases: [string, { is(u: unknown): boolean }, MessageType[]][] = [
    ['PeerMessage', PeerMessage, [
      'PreVoteRequest', 'PreVoteResponse', 'RequestVoteRequest', 'RequestVoteResponse',
      'AppendEntriesRequest', 'AppendEntriesResponse', 'InstallSnapshotRequest',
    ]],
    ['ClientRequest', ClientRequest, ['get', 'put', 'del', 'cas', 'list', 'register']],
    ['ClientResponse', ClientResponse, ['ok', 'fail', 'redirect', 'expired']],
    ['Hello', Hello, ['hello']],
    ['Message', Message, types],
  ];

  it.each(cases)('%s accepts exactly its own types', (_name, codec, own) => {
    for (const type of types) expect(codec.is(example(type))).toBe(own.includes(type));
  });

  it('a union reports only the errors of the member its type names', () => {
    const bad = { ...example('PreVoteResponse'), voteGranted: 'yes' };
    const result = PeerMessage.decode(bad);
    expect(E.isLeft(result) && result.left.length).toBe(1);
  });

  it('a union rejects an unknown type with one error', () => {
    const result = Message.decode({ ...example('hello'), type: 'goodbye' });
    expect(E.isLeft(result) && result.left.map((e) => e.message)).toEqual(['unknown type']);
  });
});

describe('[STYLE §4] encodeMessage sends exactly what decodeDatagram gives back', () => {
  it('fields the codec does not know are not sent', () => {
    const withExtra = { ...exampleMessage('PreVoteRequest'), candidateId: '0001' };
    const text = encodeMessage(withExtra);
    expect(JSON.parse(text)).toEqual(examples.PreVoteRequest);
  });

  it('an optional field set to undefined is not sent', () => {
    const ok = { ...exampleMessage('ok'), value: undefined };
    expect(JSON.parse(encodeMessage(ok))).not.toHaveProperty('value');
  });
});

describe('[§7] a snapshot\'s runs of terms', () => {
  const stored = { index: 9, term: 2, kv: [['k', 'v']], sessions: [] };
  it('a snapshot on disk from before runs were kept opens with none; a message must carry them', () => {
    expect(Snapshot.decode(stored)).toEqual(E.right({ ...stored, terms: [] }));
    const { terms: _terms, ...old } = example('InstallSnapshotRequest');
    expect(E.isLeft(InstallSnapshotRequest.decode(old))).toBe(true);
  });

  it(`more than ${TERM_RUNS_KEPT} runs, or a malformed run, is refused`, () => {
    const runs = (n: number): unknown[] =>
      Array.from({ length: n }, (_, i) => ({ index: i + 1, term: i + 1 }));
    expect(E.isRight(Snapshot.decode({ ...stored, terms: runs(TERM_RUNS_KEPT) }))).toBe(true);
    expect(E.isLeft(Snapshot.decode({ ...stored, terms: runs(TERM_RUNS_KEPT + 1) }))).toBe(true);
    expect(E.isLeft(Snapshot.decode({ ...stored, terms: [{ index: -1, term: 1 }] }))).toBe(true);
    expect(E.isLeft(Snapshot.decode({ ...stored, terms: [[1, 1]] }))).toBe(true);
    // runs out of order, a run that does not start a newer term, or term 0: refused
    for (const terms of [[{ index: 5, term: 2 }, { index: 1, term: 1 }],
      [{ index: 1, term: 2 }, { index: 5, term: 2 }], [{ index: 1, term: 0 }],
      [{ index: 0, term: 1 }]]) {
      expect(E.isLeft(Snapshot.decode({ ...stored, terms })), JSON.stringify(terms)).toBe(true);
      expect(E.isLeft(InstallSnapshotRequest.decode({ ...example('InstallSnapshotRequest'),
        terms }))).toBe(true);
    }
  });
});
