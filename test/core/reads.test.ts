/**
 * [§6.4 ReadIndex] Gets are answered without log writes once a quorum acknowledged a read round
 * started after they arrived, and the leader has committed an entry of its own term.
 */
import { describe, expect, it } from 'vitest';
import type {
  AppendEntriesRequest, AppendEntriesResponse, ClientRequest, Entry, NodeId,
} from '../../src/wire/messages.js';
import { lastLogIndex, logOf as chainOf } from '../../src/core/log.js';
import { applyUpTo, emptyKv } from '../../src/core/kv.js';
import { clientRequest } from '../../src/core/rules/client.js';
import {
  handleAppendEntriesRequest, handleAppendEntriesResponse, replicate,
} from '../../src/core/rules/replication.js';
import { defaultConfig, initialState, type Effect, type RaftState } from '../../src/core/state.js';
import { raftRules } from '../../src/core/raftRules.js';
import { stepDownThen } from '../../src/core/machine.js';
import { freshProgress } from '../../src/core/state.js';

const ME = '0000' as NodeId;
const A = '0001' as NodeId;
const B = '0002' as NodeId;
const C = '00C0' as NodeId;
const entry = (term: number, value: string): Entry =>
  ({ term, cmd: { kind: 'put', client: C, session: 0, seq: 0, key: 'k', value } }) as Entry;

/** The leader of term 2 whose log (term 1, then its own term 2) is committed and applied. */
function leader(): RaftState {
  const log = chainOf([entry(1, 'old'), entry(2, 'new')]);
  return { ...initialState(defaultConfig, 1), currentTerm: 2, votedFor: ME,
    leaderId: ME, log, commitIndex: 2, kv: applyUpTo(emptyKv(), log, 2),
    progress: new Map([[A, { ...freshProgress(3), match: 2 }], [B, { ...freshProgress(3), match: 2 }]]) };
}

const get = (mid: string): ClientRequest =>
  ({ type: 'get', src: C, dst: ME, leader: ME, MID: mid, key: 'k' }) as ClientRequest;
const ack = (term: number, readRound: number, src = A): AppendEntriesResponse =>
  ({ type: 'AppendEntriesResponse', src, dst: ME, leader: ME, term, success: true,
    matchIndex: 2, rejectHint: 0, readRound }) as AppendEntriesResponse;
const replies = (out: readonly Effect[]): string[] => out.flatMap((e) => (e.type === 'reply'
  ? [`${e.message.type} ${e.message.MID}${'value' in e.message ? `=${e.message.value}` : ''}` +
    ` leader ${e.message.leader}`] : []));

describe('[§6.4] ReadIndex', () => {
  it('answers a get once a quorum acknowledged a round started after it; nothing is logged', () => {
    const out: Effect[] = [];
    let s = clientRequest(leader(), get('g1'), out, raftRules, 'Leader');
    expect([s.reads.length, lastLogIndex(s.log), replies(out)]).toEqual([1, 2, []]);
    s = replicate(s, out, [A]);
    const sent = out.find((e) => e.type === 'send')?.message as unknown as AppendEntriesRequest;
    expect(sent.readRound).toBe(1);
    s = handleAppendEntriesResponse(s, ack(2, 0), out, raftRules, 'Leader'); // an ack of an earlier round: not enough
    expect(replies(out)).toEqual([]);
    s = handleAppendEntriesResponse(s, ack(2, 1), out, raftRules, 'Leader');
    expect(replies(out)).toEqual(['ok g1=new leader 0000']);
    expect(s.reads).toEqual([]);
  });

  it('waits for a commit of its own term: a new leader\'s commit index may be stale', () => {
    const out: Effect[] = [];
    // its entry of term 2 is on no follower yet, so only the term-1 entry is known committed
    const base = leader();
    const stale = { ...base, commitIndex: 1, kv: applyUpTo(emptyKv(), base.log, 1),
      progress: new Map([[A, freshProgress(3)], [B, freshProgress(3)]]) };
    let s = replicate(clientRequest(stale, get('g1'), out, raftRules, 'Leader'), out, [A, B]);
    const partial = { ...ack(2, 1), matchIndex: 1 } as AppendEntriesResponse;
    s = handleAppendEntriesResponse(s, partial, out, raftRules, 'Leader');
    expect([s.commitIndex, replies(out)]).toEqual([1, []]); // round acknowledged, term 2 not
    s = handleAppendEntriesResponse(s, ack(2, 1, B), out, raftRules, 'Leader'); // commits index 2 (term 2)
    expect(s.commitIndex).toBe(2);
    expect(replies(out)).toEqual(['ok g1=new leader 0000']);
  });

  it('a rejection of an older term\'s request acknowledges no round', () => {
    const out: Effect[] = [];
    const follower = { ...initialState(defaultConfig, 1), currentTerm: 5 };
    const request = { type: 'AppendEntriesRequest', src: A, dst: ME, leader: A, term: 4,
      prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, readRound: 3 };
    handleAppendEntriesRequest(follower, request as unknown as AppendEntriesRequest, out, raftRules,
      'Follower');
    const current = { ...request, term: 5 } as unknown as AppendEntriesRequest;
    handleAppendEntriesRequest(follower, current, out, raftRules, 'Follower');
    const rounds = out.flatMap((e) => (e.type === 'send'
      ? [(e.message as AppendEntriesResponse).readRound] : []));
    expect(rounds).toEqual([0, 3]);
  });

  it('a deposed leader holds its reads, then redirects them to the leader it hears from', () => {
    const out: Effect[] = [];
    let s = replicate(clientRequest(leader(), get('g1'), out, raftRules, 'Leader'), out, [A]);
    // a newer term: the statechart steps down first (`isNewerTerm`, `stepDownThen`)
    s = stepDownThen(handleAppendEntriesResponse)(s, ack(3, 1), out, raftRules, 'Leader');
    expect([s.reads, s.held, replies(out)])
      .toEqual([[], [{ cmd: { kind: 'get', client: C, seq: 0, key: 'k' }, mid: 'g1' }], []]);
    const heartbeat = { type: 'AppendEntriesRequest', src: B, dst: ME, leader: B, term: 3,
      prevLogIndex: 2, prevLogTerm: 2, entries: [], leaderCommit: 2, readRound: 0 };
    s = handleAppendEntriesRequest(s, heartbeat as unknown as AppendEntriesRequest, out, raftRules,
      'Follower');
    expect(replies(out)).toEqual(['redirect g1 leader 0002']);
    expect(s.held).toEqual([]);
  });
});
