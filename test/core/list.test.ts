/**
 * Prefix listing (direct mode): a page is a read like a get [§6.4], answered from the state
 * machine once its round and index are reached, holding the first keys after `after` with the
 * prefix, bounded in count and in bytes; `next` says where the next page starts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type {
  AppendEntriesResponse, ClientRequest, Entry, NodeId,
} from '../../src/wire/messages.js';
import { MAX_DATAGRAM_BYTES, encodeMessage } from '../../src/wire/codec.js';
import {
  MAX_KEY_LENGTH, MAX_PAGE_BYTES, MAX_VALUE_LENGTH, PROTOCOL_MAX_KEY_LENGTH,
  PROTOCOL_MAX_VALUE_LENGTH,
} from '../../src/wire/messages.js';
import { MAX_MESSAGE_BYTES } from '../../src/wire/fragments.js';
import { logOf as chainOf } from '../../src/core/log.js';
import { applyUpTo, emptyKv, kvList } from '../../src/core/kv.js';
import { clientRequest } from '../../src/core/rules/client.js';
import { handleAppendEntriesResponse, replicate } from '../../src/core/rules/replication.js';
import { defaultConfig, freshProgress, initialState, type Effect, type RaftState }
  from '../../src/core/state.js';
import { raftRules } from '../../src/core/raftRules.js';
import { modelPage } from '../support/kvModel.js';

const ME = '0000' as NodeId;
const A = '0001' as NodeId;
const B = '0002' as NodeId;
const C = '00C0' as NodeId;

const put = (key: string, value: string): Entry['cmd'] =>
  ({ kind: 'put', client: C, session: 0, seq: 0, key, value }) as Entry['cmd'];
const del = (key: string): Entry['cmd'] => ({ kind: 'del', client: C, session: 0, seq: 0, key }) as Entry['cmd'];

/** The state machine after applying `cmds` in order, with the log that holds them. */
function applied(cmds: readonly Entry['cmd'][]) {
  const log = chainOf(cmds.map((cmd) => ({ term: 1, cmd }) as Entry));
  return { kv: applyUpTo(emptyKv(), log, cmds.length), log };
}

describe('kvList: one page of a prefix listing', () => {
  it('lists the keys with the prefix after `after`, in order, deleted keys gone', () => {
    const { kv, log } = applied([put('b', '2'), put('a/2', 'x'), put('a/1', 'y'), put('a', 'z'),
      put('a/3', 'w'), del('a/2'), put('ab', 'v')]);
    const q = { prefix: 'a/', after: null, limit: 10, maxBytes: MAX_PAGE_BYTES };
    expect(kvList(kv, log, q)).toEqual({ pairs: [['a/1', 'y'], ['a/3', 'w']], next: null });
    expect(kvList(kv, log, { ...q, limit: 1 })).toEqual({ pairs: [['a/1', 'y']], next: 'a/1' });
    expect(kvList(kv, log, { ...q, after: 'a/1' })).toEqual({ pairs: [['a/3', 'w']], next: null });
    expect(kvList(kv, log, { ...q, prefix: '' }).pairs.map(([k]) => k))
      .toEqual(['a', 'a/1', 'a/3', 'ab', 'b']);
    expect(kvList(kv, log, { ...q, prefix: 'nothing' })).toEqual({ pairs: [], next: null });
  });

  it('matches the definition for any keys, prefix, after, limit and byte bound', () => {
    const key = fc.string({ unit: fc.constantFrom('a', 'b', '/', 'é', '\u{1F600}', '\n'),
      maxLength: 5 });
    fc.assert(fc.property(
      fc.array(fc.tuple(key, fc.string({ maxLength: 30 }), fc.boolean()), { maxLength: 60 }),
      key, fc.option(key, { nil: null }), fc.integer({ min: 1, max: 20 }),
      fc.integer({ min: 1, max: 400 }),
      (ops, prefix, after, limit, maxBytes) => {
        // listed halfway and at the end: the second page sees the keys added and removed since
        const data = new Map<string, string>();
        const cmds = ops.map(([k, v, isDel]) => (isDel ? del(k) : put(k, v)));
        const log = chainOf(cmds.map((cmd) => ({ term: 1, cmd }) as Entry));
        const q = { prefix, after, limit, maxBytes };
        const half = Math.floor(cmds.length / 2);
        let kv = emptyKv();
        for (const upTo of [half, cmds.length]) {
          for (const [k, v, isDel] of ops.slice(kv.appliedIndex, upTo)) {
            if (isDel) data.delete(k);
            else data.set(k, v);
          }
          kv = applyUpTo(kv, log, upTo);
          expect(kvList(kv, log, q)).toEqual(modelPage(data, q));
        }
      }), { numRuns: 500 });
  });

  it('keeps a page of pairs up to the protocol\'s sizes, escaped, inside one datagram; a pair of ' +
    'the largest key and value goes alone, as fragments', () => {
    // every character escaped as \uXXXX in JSON: the most bytes a pair can take
    const big = (n: number, c: number) => String.fromCharCode(1).repeat(n - 3) + `${c}`.padStart(3, '0');
    const pageOf = (keyLength: number, valueLength: number) => {
      const cmds = Array.from({ length: 40 }, (_, i) => put(big(keyLength, i),
        String.fromCharCode(2).repeat(valueLength)));
      const { kv, log } = applied(cmds);
      const page = kvList(kv, log, { prefix: '', after: null, limit: 1000,
        maxBytes: MAX_PAGE_BYTES });
      const answer = { type: 'ok', src: ME, dst: C, leader: ME, MID: 'x'.repeat(128),
        pairs: page.pairs, next: page.next } as const;
      return { page, bytes: Buffer.byteLength(encodeMessage(answer as never)) };
    };
    const small = pageOf(PROTOCOL_MAX_KEY_LENGTH, PROTOCOL_MAX_VALUE_LENGTH);
    expect(small.page.pairs.length).toBeGreaterThan(1);
    expect(small.page.next).not.toBeNull();
    expect(small.bytes).toBeLessThanOrEqual(MAX_DATAGRAM_BYTES);
    const large = pageOf(MAX_KEY_LENGTH, MAX_VALUE_LENGTH);
    expect(large.page.pairs.length).toBe(1);
    expect(large.bytes).toBeGreaterThan(MAX_DATAGRAM_BYTES);
    expect(large.bytes).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
  });
});

/** The leader of term 2, its log committed and applied, with keys under `p/`. */
function leader(): RaftState {
  const log = chainOf([{ term: 1, cmd: put('p/1', 'one') }, { term: 2, cmd: put('p/2', 'two') },
    { term: 2, cmd: put('q', 'other') }] as Entry[]);
  return { ...initialState({ ...defaultConfig, absentAsEmpty: false }, 1), currentTerm: 2,
    votedFor: ME, leaderId: ME, log, commitIndex: 3, kv: applyUpTo(emptyKv(), log, 3),
    progress: new Map([[A, { ...freshProgress(3), match: 3 }],
      [B, { ...freshProgress(3), match: 3 }]]) };
}

const list = (mid: string, extra: object = {}): ClientRequest =>
  ({ type: 'list', src: C, dst: ME, leader: ME, MID: mid, prefix: 'p/', ...extra }) as ClientRequest;
const ack = (readRound: number): AppendEntriesResponse =>
  ({ type: 'AppendEntriesResponse', src: A, dst: ME, leader: ME, term: 2, success: true,
    matchIndex: 3, rejectHint: 0, readRound }) as AppendEntriesResponse;
const answers = (out: readonly Effect[]) => out.flatMap((e) => (e.type === 'reply'
  ? [e.message] : []));

describe('[§6.4] a page is a read', () => {
  it('waits for a quorum\'s acknowledgement of a later round, then answers from the state machine',
    () => {
      const out: Effect[] = [];
      let s = clientRequest(leader(), list('l1', { limit: 1 }), out, raftRules, 'Leader');
      expect([s.reads.length, answers(out)]).toEqual([1, []]);
      s = replicate(s, out, [A]);
      s = handleAppendEntriesResponse(s, ack(0), out, raftRules, 'Leader');
      expect(answers(out)).toEqual([]);
      s = handleAppendEntriesResponse(s, ack(1), out, raftRules, 'Leader');
      expect(answers(out)).toEqual([{ type: 'ok', src: ME, dst: C, leader: ME, MID: 'l1',
        pairs: [['p/1', 'one']], next: 'p/1' }]);
      expect(s.reads).toEqual([]);
    });

  it('a follower redirects a page as it does a get; a candidate holds it', () => {
    const follower = { ...leader(), leaderId: A, leaderFresh: true };
    const out: Effect[] = [];
    clientRequest(follower, list('l2'), out, raftRules, 'Follower');
    expect(answers(out).map((m) => [m.type, m.leader])).toEqual([['redirect', A]]);
    const held = clientRequest({ ...leader(), leaderId: null }, list('l3'), out, raftRules,
      'Candidate');
    expect(held.held.map((h) => h.cmd.kind)).toEqual(['list']);
  });
});
