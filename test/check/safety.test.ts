/**
 * The simulation's checkers on crafted states: each property accepts a legal step and rejects the
 * step that breaks it (the negative space: a checker that never fails is worthless).
 */
import { describe, expect, it } from 'vitest';
import type { ClientResponse, Cmd, Entry, NodeId, PeerMessage } from '../../src/wire/messages.js';
import { entriesAfterSnapshot, lastLogIndex, logOf as chainOf } from '../../src/core/log.js';
import { defaultConfig, freshProgress, initialState, type Persisted, type RaftState, type Role }
  from '../../src/core/state.js';
import { Rng } from '../../src/fault/rng.js';
import { applyUpTo, emptyKv } from '../../src/core/kv.js';
import { SafetyChecker, type Violation } from '../../src/check/safety.js';
import {
  checkStepRules, leaderCommit, progressOrder, readAnswer, VoteLedger,
} from '../../src/check/stepRules.js';

const ids = ['0000', '0001', '0002'] as NodeId[];
const put = (value: string): Cmd => ({ kind: 'put', client: '00C0' as NodeId, session: 0, seq: 0, key: 'k',
  value });
const e = (term: number, value: string): Entry => ({ term, cmd: put(value) } as Entry);

/** A server's state, and the role its statechart would be in. */
type Server = RaftState & { readonly role: Role };

function server(id: NodeId, over: { term?: number; role?: Role; log?: Entry[];
  commit?: number; votedFor?: NodeId | null } = {}): Server {
  const s = initialState({ ...defaultConfig, id, peers: ids.filter((p) => p !== id) }, 1);
  return { ...s, currentTerm: over.term ?? 1, role: over.role ?? 'Follower',
    log: chainOf(over.log ?? []), commitIndex: over.commit ?? 0,
    votedFor: over.votedFor ?? null };
}

/** `c.step` on a server and its role. */
const step = (c: SafetyChecker, s: Server, logFrom: number | undefined):
  Violation | undefined => c.step(s, s.role, logFrom);

describe('[safety] Figure 3 properties, incrementally, after every step', () => {
  it('electionSafety: two leaders of one term, even if the first has crashed since', () => {
    const c = new SafetyChecker(2);
    expect(step(c, server(ids[0] as NodeId, { role: 'Leader' }), undefined)).toBeUndefined();
    expect(step(c, server(ids[0] as NodeId, { role: 'Leader', term: 2 }), undefined))
      .toBeUndefined();
    expect(step(c, server(ids[1] as NodeId, { role: 'Leader', term: 2 }), undefined)?.invariant)
      .toBe('electionSafety');
  });

  it('logMatching: another command, or another previous entry, at one index and term', () => {
    const c = new SafetyChecker(2);
    expect(step(c, server(ids[0] as NodeId, { log: [e(1, 'a'), e(1, 'b')] }), 1)).toBeUndefined();
    expect(step(c, server(ids[1] as NodeId, { log: [e(1, 'a'), e(1, 'b')] }), 1)).toBeUndefined();
    expect(step(c, server(ids[2] as NodeId, { log: [e(1, 'a'), e(1, 'x')] }), 1)?.invariant)
      .toBe('logMatching');
    const d = new SafetyChecker(2);
    step(d, server(ids[0] as NodeId, { log: [e(1, 'a'), e(2, 'b')] }), 1);
    expect(step(d, server(ids[1] as NodeId, { log: [e(2, 'z'), e(2, 'b')] }), 1)?.invariant)
      .toBe('logMatching');
  });

  it('committedGuarded: a log without the newest committed entry must not be electable', () => {
    const c = new SafetyChecker(2);
    const a = ids[0] as NodeId;
    // Figure 8: a leader of term 3 committed index 1 of term 1, on itself and on B
    step(c, server(a, { term: 3, role: 'Leader', log: [e(1, 'a'), e(3, 'c')], commit: 1 }), 1);
    const leader = chainOf([e(1, 'a'), e(3, 'c')]);
    const holders = [leader, chainOf([e(1, 'a')])];
    expect(c.guarded(ids, [...holders, chainOf([])])).toBeUndefined(); // C's empty log loses
    // C holds index 1 of term 2 (a leader of term 2 that never reached A or B): B would vote for it
    expect(c.guarded(ids, [...holders, chainOf([e(2, 'b')])])).toMatchObject({
      invariant: 'committedGuarded',
      detail: expect.stringMatching(/^0002 lacks committed index 1 but .* as up to date as 2 logs/),
    });
    // once B holds an entry of term 3, C's log is behind a quorum again
    expect(c.guarded(ids, [leader, chainOf([e(1, 'a'), e(3, 'c')]), chainOf([e(2, 'b')])]))
      .toBeUndefined();
  });

  it('appliedWithinCommit [Fig2:AllServers#1]: nothing applied past the commit index', () => {
    const c = new SafetyChecker(2);
    const log = [e(1, 'a'), e(1, 'b')];
    const s = server(ids[0] as NodeId, { log, commit: 1 });
    expect(step(c, { ...s, kv: applyUpTo(emptyKv(), chainOf(log), 1) }, 1)).toBeUndefined();
    expect(step(c, { ...s, kv: applyUpTo(emptyKv(), chainOf(log), 2) }, undefined)?.invariant)
      .toBe('appliedWithinCommit');
  });

  it('monotonic term and commit, except commitIndex after a restart', () => {
    const c = new SafetyChecker(2);
    const a = ids[0] as NodeId;
    step(c, server(a, { term: 3, log: [e(1, 'a')], commit: 1 }), 1);
    expect(step(c, server(a, { term: 2, log: [e(1, 'a')], commit: 1 }), undefined)?.invariant)
      .toBe('monotonicTerm');
    const d = new SafetyChecker(2);
    step(d, server(a, { log: [e(1, 'a')], commit: 1 }), 1);
    expect(step(d, server(a, { log: [e(1, 'a')], commit: 0 }), undefined)?.invariant)
      .toBe('monotonicCommit');
    d.restarted(a);
    expect(step(d, server(a, { log: [e(1, 'a')], commit: 0 }), 1)).toBeUndefined();
  });

  it('monotonicTerm across a restart: never below a term the server had sent', () => {
    const c = new SafetyChecker(2);
    const a = ids[0] as NodeId;
    step(c, server(a, { term: 4 }), undefined);
    c.sent(a, 'PreVoteRequest', 6); // only proposed: a pre-vote persists nothing
    c.sent(a, 'RequestVoteRequest', 4);
    c.restarted(a);
    expect(step(c, server(a, { term: 4 }), undefined)).toBeUndefined();
    c.restarted(a);
    expect(step(c, server(a, { term: 3 }), undefined)?.invariant).toBe('monotonicTerm');
  });

  it('stateMachineSafety: committing another entry, or replacing a committed one', () => {
    const c = new SafetyChecker(2);
    step(c, server(ids[0] as NodeId, { log: [e(1, 'a')], commit: 1 }), 1);
    expect(c.takeFresh()).toEqual([1]);
    expect(step(c, server(ids[1] as NodeId, { log: [e(2, 'b')], commit: 1 }), 1)?.invariant)
      .toBe('stateMachineSafety');
    const d = new SafetyChecker(2);
    step(d, server(ids[0] as NodeId, { log: [e(1, 'a')], commit: 1 }), 1);
    expect(step(d, server(ids[0] as NodeId, { log: [e(2, 'b')], commit: 1 }), 1)?.invariant)
      .toBe('stateMachineSafety');
  });

  it('leaderCompleteness: a leader of a later term lacks a committed entry', () => {
    const c = new SafetyChecker(2);
    step(c, server(ids[0] as NodeId, { role: 'Leader', log: [e(1, 'a')], commit: 1 }), 1);
    expect(step(c, server(ids[1] as NodeId, { role: 'Leader', term: 2 }), undefined)?.invariant)
      .toBe('leaderCompleteness');
  });

  it('committedDurable: a committed entry on fewer synced disks than a quorum', () => {
    const c = new SafetyChecker(2);
    step(c, server(ids[0] as NodeId, { log: [e(1, 'a')], commit: 1 }), 1);
    const on = (log: Entry[]): Persisted => ({ currentTerm: 1, votedFor: null,
      log: chainOf(log) });
    expect(c.durable([on([e(1, 'a')]), on([e(1, 'a')]), on([])])).toBeUndefined();
    expect(c.durable([on([e(1, 'a')]), on([]), on([])])?.invariant).toBe('committedDurable');
  });
});

describe('[safety] step rules: Figure 2 receiver rules, the moment they act', () => {
  const ae = (term: number, prev: number, entries: Entry[], leaderCommit: number): PeerMessage =>
    ({ type: 'AppendEntriesRequest', src: '0001', dst: '0000', leader: '0001', term,
      prevLogIndex: prev, prevLogTerm: prev === 0 ? 0 : 1, entries, leaderCommit } as PeerMessage);

  it('appendEntriesTerm [Fig2:AE#1]: a stale request changes nothing and is refused', () => {
    const before = server(ids[0] as NodeId, { term: 3, log: [e(1, 'a')] });
    const m = ae(2, 1, [e(2, 'b')], 0);
    expect(checkStepRules(before, m, before, [])).toBeUndefined();
    const after = { ...before, log: chainOf([e(1, 'a'), e(2, 'b')]) };
    expect(checkStepRules(before, m, after, [])?.invariant).toBe('appendEntriesTerm');
  });

  it('commitWithinNewEntries [Fig2:AE#5]: commit no further than the last new entry', () => {
    const log = [e(1, 'a'), e(1, 'b'), e(1, 'c')];
    const before = server(ids[0] as NodeId, { log });
    const m = ae(1, 1, [], 3);
    expect(checkStepRules(before, m, { ...before, commitIndex: 1 }, [])).toBeUndefined();
    expect(checkStepRules(before, m, { ...before, commitIndex: 3 }, [])?.invariant)
      .toBe('commitWithinNewEntries');
  });

  it('appendEntriesMatch [Fig2:AE#2-#4]: success only on a matching prevLogIndex, with every ' +
    'entry in place and the last new entry as matchIndex; a refusal hints below prevLogIndex', () => {
    const before = server(ids[0] as NodeId, { log: [e(1, 'a'), e(1, 'b')] });
    const answer = (success: boolean, matchIndex: number, rejectHint: number) => [{
      type: 'send' as const, message: { type: 'AppendEntriesResponse', src: ids[0], dst: ids[1],
        leader: ids[1], term: 2, success, matchIndex, rejectHint, readRound: 0 } as PeerMessage }];
    const at = (term: number, prev: number, prevLogTerm: number, entries: Entry[]) =>
      ({ ...ae(term, prev, entries, 0), prevLogTerm }) as PeerMessage & { type: never };
    const grown = { ...before, currentTerm: 2,
      log: chainOf([e(1, 'a'), e(1, 'b'), e(2, 'c')]) };
    const step = (m: PeerMessage, after: RaftState, effects: ReturnType<typeof answer>) =>
      checkStepRules(before, m as never, after, effects as never)?.detail;
    // the legal step: prev 2 of term 1 matches, entry 3 appended, matchIndex 3
    expect(step(at(2, 2, 1, [e(2, 'c')]), grown, answer(true, 3, 0))).toBeUndefined();
    // [AE#2] the log holds term 1 at 2, not 2; and it holds no entry at 3
    expect(step(at(2, 2, 2, [e(2, 'c')]), grown, answer(true, 3, 0)))
      .toMatch(/^0000 \(term 2\) answered success holding term 1 at 2, to/);
    expect(step(at(2, 3, 2, []), grown, answer(true, 3, 0)))
      .toMatch(/answered success holding 2 entries/);
    // [AE#3 #4] success, but the entry is not in the log; or matchIndex beyond what was sent
    expect(step(at(2, 2, 1, [e(2, 'c')]), { ...before, currentTerm: 2 }, answer(true, 3, 0)))
      .toMatch(/without the request's entry of term 2 at 3/);
    expect(step(at(2, 1, 1, []), before, answer(true, 2, 0)))
      .toMatch(/with matchIndex 2, not 1/);
    // a refusal hints at most min(prevLogIndex - 1, last index): here 1, then 2
    expect(step(at(2, 2, 2, []), before, answer(false, 0, 1))).toBeUndefined();
    expect(step(at(2, 2, 2, []), before, answer(false, 0, 2))).toMatch(/hint 2, above 1/);
    expect(step(at(2, 5, 2, []), before, answer(false, 0, 2))).toBeUndefined();
    expect(step(at(2, 5, 2, []), before, answer(false, 0, 3))).toMatch(/hint 3, above 2/);
    // and so does the refusal of a stale request
    const stale = { ...before, currentTerm: 3 };
    expect(checkStepRules(stale, at(2, 2, 1, []) as never, stale, answer(false, 0, 2) as never)
      ?.invariant).toBe('appendEntriesMatch');
  });

  it('leaderCommit [Fig2:Leaders#4]: a leader commits only an index of its term that a quorum ' +
    'holds', () => {
    const [me, b, c] = ids as [NodeId, NodeId, NodeId];
    const leading = (commit: number, matches: [number, number]): RaftState => ({
      ...server(me, { term: 2, role: 'Leader', log: [e(1, 'a'), e(1, 'b'), e(2, 'c')], commit }),
      progress: new Map([[b, { ...freshProgress(4), match: matches[0] }],
        [c, { ...freshProgress(4), match: matches[1] }]]) });
    const before = leading(0, [2, 0]);
    expect(leaderCommit(before, leading(3, [3, 0]), 'Leader')).toBeUndefined();
    // Figure 8: index 2 is on a quorum, but of term 1
    expect(leaderCommit(before, leading(2, [2, 0]), 'Leader')?.detail)
      .toBe('0000, leader of term 2, committed 2 (term 1), held by 2 of 3 voters');
    // of its term, but on itself alone
    expect(leaderCommit(before, leading(3, [2, 0]), 'Leader')?.invariant).toBe('leaderCommit');
    // a follower's commit follows its leader's (commitWithinNewEntries), not its own count
    expect(leaderCommit(before, leading(2, [2, 0]), 'Follower')).toBeUndefined();
    // [D§4] with c a learner (its log's last change), c's copy does not count, b's does
    const change = { term: 2, cmd: { kind: 'config', change: 'addLearner', id: c,
      voters: [me, b], learners: [c] } } as unknown as Entry;
    const withLearner = (commit: number, matches: [number, number]): RaftState => {
      const s = leading(commit, matches);
      return { ...s, log: chainOf([...entriesAfterSnapshot(s.log), change]) };
    };
    expect(leaderCommit(withLearner(0, [0, 0]), withLearner(4, [0, 4]), 'Leader')?.detail)
      .toBe('0000, leader of term 2, committed 4 (term 2), held by 1 of 2 voters');
    expect(leaderCommit(withLearner(0, [0, 0]), withLearner(4, [4, 0]), 'Leader'))
      .toBeUndefined();
  });

  it('readAnswer [§6.4]: a read is answered ok only by the leader of its term, once it has ' +
    'committed an entry of that term up to the read\'s index and a quorum acknowledged a round ' +
    'started after it arrived', () => {
    const [me, b, c] = ids as [NodeId, NodeId, NodeId];
    const leading = (commit: number, acked: [number, number], log = [e(1, 'a'), e(2, 'b')]):
      RaftState => ({ ...server(me, { term: 2, role: 'Leader', log, commit }), readRound: 3,
      progress: new Map([[b, { ...freshProgress(3), ackedRound: acked[0] }],
        [c, { ...freshProgress(3), ackedRound: acked[1] }]]) });
    const get = { type: 'get', src: '00C0', dst: me, leader: me, MID: 'g1', key: 'k' } as const;
    const ok = [{ type: 'reply' as const, message: { type: 'ok', src: me, dst: '00C0', leader: me,
      MID: 'g1', value: 'a' } as ClientResponse }];
    const check = (before: RaftState, after: RaftState, role: Role = 'Leader') =>
      readAnswer(before, get as never, after, role, ok)?.detail;
    // the get arrives now: its round is 4, which b must acknowledge (a quorum of 2 with itself)
    expect(check(leading(2, [3, 0]), leading(2, [4, 0]))).toBeUndefined();
    expect(check(leading(2, [3, 0]), leading(2, [3, 3])))
      .toBe('0000 answered the read g1 (index 2, round 4) when 1 of 3 voters had acknowledged ' +
        'round 4');
    // its commit at an entry of term 1 (no entry of its own term committed yet)
    expect(check(leading(1, [3, 0]), leading(1, [4, 4])))
      .toMatch(/commitIndex 1 at an entry of term 1, not of its own term 2$/);
    // a read held from before, at index 2, answered while the commit is below it
    const held = { ...leading(1, [0, 0], [e(2, 'a'), e(2, 'b')]),
      reads: [{ cmd: { kind: 'get', client: '00C0' as NodeId, seq: 0, key: 'k' }, mid: 'g1',
        readIndex: 2, round: 1 }] } as RaftState;
    const tick = { type: 'Replicate', to: [b] } as const;
    const acked = { ...held, progress: leading(1, [1, 1]).progress };
    expect(readAnswer(held, tick as never, acked, 'Leader', ok)?.detail)
      .toMatch(/with commitIndex 1, below the read's index$/);
    // an ok to a read from a follower, and answers to other requests, are checked and ignored
    expect(check(leading(2, [3, 0]), leading(2, [4, 4]), 'Follower')).toMatch(/as Follower/);
    expect(readAnswer(leading(2, [0, 0]), { ...get, type: 'put', value: '1' } as never,
      leading(2, [0, 0]), 'Leader', ok)).toBeUndefined();
  });

  it('voteOnce: a second granted vote in one term, to another candidate', () => {
    const v = new VoteLedger();
    const vote = (to: string, term: number): PeerMessage => ({ type: 'RequestVoteResponse',
      src: '0000', dst: to, leader: 'FFFF', term, voteGranted: true } as PeerMessage);
    expect(v.sent(vote('0001', 1))).toBeUndefined();
    expect(v.sent(vote('0001', 1))).toBeUndefined(); // the same vote again is fine
    expect(v.sent(vote('0002', 2))).toBeUndefined();
    expect(v.sent(vote('0001', 2))?.invariant).toBe('voteOnce');
  });

  it('votesGrantedBacked: a candidate or leader counts only votes granted to it in its term, a ' +
    'pre-candidate only pre-votes granted to it for its next term', () => {
    const [me, b, c] = ids as [NodeId, NodeId, NodeId];
    const answer = (type: string, src: NodeId, dst: NodeId, term: number, granted: boolean) =>
      ({ type, src, dst, leader: 'FFFF', term, voteGranted: granted }) as PeerMessage;
    const counting = (role: Role, term: number, votes: NodeId[]): [RaftState, Role] =>
      [{ ...server(me, { term, role }), votesGranted: new Set([me, ...votes]) }, role];
    const v = new VoteLedger();
    expect(v.backs(...counting('Candidate', 2, []))).toBeUndefined(); // its own vote only
    expect(v.backs(...counting('Candidate', 2, [b]))?.invariant).toBe('votesGrantedBacked');
    v.sent(answer('RequestVoteResponse', b, me, 2, false)); // a refusal backs nothing
    expect(v.backs(...counting('Leader', 2, [b]))?.invariant).toBe('votesGrantedBacked');
    v.sent(answer('RequestVoteResponse', b, me, 2, true));
    v.sent(answer('RequestVoteResponse', c, b, 2, true)); // c's vote went to b
    expect(v.backs(...counting('Leader', 2, [b]))).toBeUndefined();
    expect(v.backs(...counting('Candidate', 2, [b, c]))?.invariant).toBe('votesGrantedBacked');
    expect(v.backs(...counting('Candidate', 3, [b]))?.invariant).toBe('votesGrantedBacked');
    // pre-votes: granted for term + 1, to this pre-candidate; a vote is not a pre-vote
    expect(v.backs(...counting('PreCandidate', 1, [b]))?.invariant).toBe('votesGrantedBacked');
    v.sent(answer('PreVoteResponse', c, b, 2, true));
    expect(v.backs(...counting('PreCandidate', 1, [c]))?.invariant).toBe('votesGrantedBacked');
    v.sent(answer('PreVoteResponse', c, me, 2, true));
    expect(v.backs(...counting('PreCandidate', 1, [c]))).toBeUndefined();
    expect(v.backs(...counting('Follower', 5, [b, c]))).toBeUndefined(); // not counting
    // a leader counts a quorum: its own vote alone is not one of three
    expect(v.backs(...counting('Leader', 2, []))?.detail).toMatch(/fewer than a quorum of 2$/);
  });

  it('progressOrder: a leader\'s match for each peer is below its next and within its own log',
    () => {
      const [me, b, c] = ids as [NodeId, NodeId, NodeId];
      const leading = (of: Record<string, [number, number]>): RaftState => ({
        ...server(me, { term: 2, role: 'Leader', log: [e(1, 'a'), e(2, 'b'), e(2, 'c')] }),
        progress: new Map(Object.entries(of).map(([peer, [match, next]]) =>
          [peer as NodeId, { ...freshProgress(next), match }])) });
      expect(progressOrder(leading({ [b]: [0, 4], [c]: [3, 4] }), 'Leader')).toBeUndefined();
      expect(progressOrder(leading({ [b]: [2, 3], [c]: [1, 2] }), 'Leader')).toBeUndefined();
      // backed off to what the peer acknowledged: it would be sent entries it has
      expect(progressOrder(leading({ [b]: [2, 2], [c]: [3, 4] }), 'Leader')?.detail)
        .toBe('0000, leader of term 2 with 3 entries, has match 2 and next 2 for 0001');
      expect(progressOrder(leading({ [b]: [4, 5], [c]: [3, 4] }), 'Leader')?.invariant)
        .toBe('progressOrder');
      // a follower's records are not kept up to date: not checked
      expect(progressOrder(leading({ [b]: [2, 2] }), 'Follower')).toBeUndefined();
    });

  it('requestVoteTerm [Fig2:RV#1]: a vote request of an older term is refused and changes nothing',
    () => {
      const before = server(ids[0] as NodeId, { term: 3 });
      const m = { type: 'RequestVoteRequest', src: ids[1], dst: ids[0], leader: 'FFFF', term: 2,
        lastLogIndex: 5, lastLogTerm: 2 } as const;
      const answer = (granted: boolean) => [{ type: 'send' as const, message: { type:
        'RequestVoteResponse', src: ids[0], dst: ids[1], leader: 'FFFF', term: 3,
        voteGranted: granted } as PeerMessage }];
      const step = (after: RaftState, granted: boolean) =>
        checkStepRules(before, m as never, after, answer(granted) as never)?.invariant;
      expect(step(before, false)).toBeUndefined();
      expect(step(before, true)).toBe('requestVoteTerm');
      expect(step({ ...before, votedFor: ids[1] as NodeId }, false)).toBe('requestVoteTerm');
      // the same request in the receiver's own term may be granted
      expect(checkStepRules({ ...before, currentTerm: 2 }, m as never,
        { ...before, currentTerm: 2, votedFor: ids[1] as NodeId }, answer(true) as never))
        .toBeUndefined();
    });
});
