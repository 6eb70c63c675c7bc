/**
 * Overload: a flood of valid client requests is refused with `fail`, never stored past the bounds
 * (`Config.maxWaitingRequests`, `maxWaitingPerClient`, `maxUncommittedEntries`).
 */
import { describe, expect, it } from 'vitest';
import type { ClientRequest, Entry, NodeId } from '../../src/wire/messages.js';
import { lastLogIndex, logOf } from '../../src/core/log.js';
import { size } from '../../src/core/chain.js';
import { applyUpTo, emptyKv } from '../../src/core/kv.js';
import { clientRequest } from '../../src/core/rules/client.js';
import { defaultConfig, initialState, type Effect, type RaftState } from '../../src/core/state.js';
import { raftRules } from '../../src/core/raftRules.js';
import { freshProgress } from '../../src/core/state.js';

const ME = '0000' as NodeId;
const A = '0001' as NodeId;
const B = '0002' as NodeId;
const config = { ...defaultConfig, maxWaitingRequests: 6, maxWaitingPerClient: 3,
  maxUncommittedEntries: 5 };

function leader(): RaftState {
  const log = logOf([{ term: 1, cmd: { kind: 'noop' } } as Entry]);
  return { ...initialState(config, 1), currentTerm: 1, votedFor: ME,
    leaderId: ME, log, commitIndex: 1, kv: applyUpTo(emptyKv(), log, 1),
    progress: new Map([[A, { ...freshProgress(2), match: 1 }], [B, { ...freshProgress(2), match: 1 }]]) };
}

const request = (type: 'get' | 'put', client: string, mid: string): ClientRequest =>
  ({ type, src: client as NodeId, dst: ME, leader: ME, MID: mid, key: 'k',
    ...(type === 'put' ? { value: 'v' } : {}) }) as ClientRequest;

function answers(out: readonly Effect[]): string[] {
  return out.flatMap((e) => (e.type === 'reply' ? [`${e.message.type} ${e.message.MID}`] : []));
}

const waiting = (s: RaftState): number => size(s.pending) + s.reads.length + s.held.length;

describe('overload: requests past the bounds are answered fail, not stored', () => {
  it('a client past maxWaitingPerClient gets fail while others are still served', () => {
    const out: Effect[] = [];
    let s = leader();
    for (let k = 0; k < 5; k++) s = clientRequest(s, request('put', '00C1', `a${k}`), out,
      raftRules, 'Leader');
    expect(answers(out)).toEqual(['fail a3', 'fail a4']);
    expect(waiting(s)).toBe(3);
    s = clientRequest(s, request('get', '00C2', 'b0'), out, raftRules, 'Leader');
    expect(s.reads.length).toBe(1);
    expect(answers(out)).toEqual(['fail a3', 'fail a4']);
  });

  it('past maxWaitingRequests every client gets fail, and waiting stays at the bound', () => {
    const out: Effect[] = [];
    let s = leader();
    for (let k = 0; k < 40; k++) s = clientRequest(s, request('get', `0${k + 100}`, `g${k}`), out,
      raftRules, 'Leader');
    expect(waiting(s)).toBe(config.maxWaitingRequests);
    expect(answers(out).length).toBe(40 - config.maxWaitingRequests);
    expect(answers(out).every((a) => a.startsWith('fail'))).toBe(true);
  });

  it('a leader appends no put past maxUncommittedEntries uncommitted entries', () => {
    const out: Effect[] = [];
    let s = { ...leader(),
      config: { ...config, maxWaitingRequests: 100, maxWaitingPerClient: 100 } };
    for (let k = 0; k < 9; k++) s = clientRequest(s, request('put', `0${k + 100}`, `p${k}`), out,
      raftRules, 'Leader');
    expect(lastLogIndex(s.log) - s.commitIndex).toBe(config.maxUncommittedEntries);
    expect(answers(out)).toEqual(['fail p5', 'fail p6', 'fail p7', 'fail p8']);
    // reads need no log entry: they are still taken
    s = clientRequest(s, request('get', '0200', 'g'), out, raftRules, 'Leader');
    expect(s.reads.length).toBe(1);
  });

  it('a follower holds requests only up to the bound while no leader is known', () => {
    const out: Effect[] = [];
    let s = initialState(config, 1);
    for (let k = 0; k < 10; k++) s = clientRequest(s, request('put', `0${k + 100}`, `h${k}`), out,
      raftRules, 'Follower');
    expect(s.held.length).toBe(config.maxWaitingRequests);
    expect(answers(out)).toEqual(['fail h6', 'fail h7', 'fail h8', 'fail h9']);
  });

  it('a large request is refused once what waits would pass maxWaitingBytes with it; small ' +
    'ones are counted only', () => {
    const out: Effect[] = [];
    const big = (mid: string, units: number): ClientRequest => ({ type: 'put', src: '00C3' as NodeId,
      dst: ME, leader: ME, MID: mid, key: 'k', value: 'v'.repeat(units) }) as ClientRequest;
    let s: RaftState = { ...leader(), config: { ...config, maxWaitingPerClient: 100,
      maxWaitingRequests: 100, maxUncommittedEntries: 100, maxWaitingBytes: 10_000 } };
    s = clientRequest(s, big('l1', 6000), out, raftRules, 'Leader');
    s = clientRequest(s, big('l2', 6000), out, raftRules, 'Leader'); // 12,002 units would wait
    s = clientRequest(s, request('put', '00C3', 's1'), out, raftRules, 'Leader');
    expect(answers(out)).toEqual(['fail l2']);
    expect(lastLogIndex(s.log)).toBe(3);
    // a follower holding requests weighs them the same way
    const f = clientRequest({ ...s, leaderId: null, held: [] }, big('h1', 9000), out, raftRules,
      'Follower');
    expect(f.held.length).toBe(1);
    clientRequest(f, big('h2', 2000), out, raftRules, 'Follower');
    expect(answers(out)).toEqual(['fail l2', 'fail h2']);
  });

  it('reads are weighed by what they will answer: a get by the value it reads, a page by its ' +
    'bound', () => {
    const log = logOf([{ term: 1, cmd: { kind: 'noop' } } as Entry,
      { term: 1, cmd: { kind: 'put', client: '00C9', session: 0, seq: 0, key: 'big', value: 'v'.repeat(6000) } } as Entry]);
    const base = leader();
    let s: RaftState = { ...base, log, commitIndex: 2, kv: applyUpTo(emptyKv(), log, 2),
      config: { ...config, maxWaitingPerClient: 100, maxWaitingRequests: 100,
        maxWaitingBytes: 10_000 } };
    const out: Effect[] = [];
    const read = (mid: string, extra: object): ClientRequest => ({ src: '00C4' as NodeId, dst: ME,
      leader: ME, MID: mid, ...extra }) as ClientRequest;
    s = clientRequest(s, read('g1', { type: 'get', key: 'big' }), out, raftRules, 'Leader');
    s = clientRequest(s, read('g2', { type: 'get', key: 'big' }), out, raftRules, 'Leader');
    s = clientRequest(s, read('g3', { type: 'get', key: 'k' }), out, raftRules, 'Leader');
    s = clientRequest(s, read('l1', { type: 'list', prefix: '' }), out, raftRules, 'Leader');
    expect(answers(out)).toEqual(['fail g2', 'fail l1']);
    expect(s.reads.map((r) => r.mid)).toEqual(['g1', 'g3']);
  });
});
