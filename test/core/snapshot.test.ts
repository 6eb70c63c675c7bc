/**
 * [§7] Log compaction and InstallSnapshot in the core: a server snapshots its applied state and
 * drops the log behind it; a leader sends its snapshot to a peer that needs compacted entries; a
 * follower installs it as Figure 13 says, and a restart starts from it.
 */
import { initialTransition, transition } from 'xstate';
import { describe, expect, it } from 'vitest';
import type {
  AppendEntriesRequest, ClientRequest, Entry, InstallSnapshotRequest, NodeId, PeerMessage,
} from '../../src/wire/messages.js';
import { applyUpTo, emptyKv, kvData, kvSessions } from '../../src/core/kv.js';
import {
  entriesAfterSnapshot, lastLogIndex, logChange, logOf, mergeEntries, termAt,
} from '../../src/core/log.js';
import { applyWrite, emptyPersisted } from '../../src/core/persisted.js';
import { effectsOf, raftMachine } from '../../src/core/raft.js';
import { clientRequest } from '../../src/core/rules/client.js';
import { handleAppendEntriesRequest, replicate } from '../../src/core/rules/replication.js';
import {
  handleInstallSnapshotRequest, snapshotDue, takeSnapshot,
} from '../../src/core/rules/snapshot.js';
import { chainOf } from '../../src/core/chain.js';
import {
  defaultConfig, initialState, persistedOf, type Effect, type RaftState,
} from '../../src/core/state.js';
import { raftRules } from '../../src/core/raftRules.js';
import { freshProgress, withProgress } from '../../src/core/state.js';

const ME = '0000' as NodeId;
const A = '0001' as NodeId;
const B = '0002' as NodeId;
const C = '00C0' as NodeId;
const putOf = (client: NodeId) => ({ kind: 'put' as const, client, session: 0, seq: 1, key: 'k',
  value: 'v' });
const put = (term: number, key: string, value: string, seq = 0): Entry =>
  ({ term, cmd: { kind: 'put', client: C, session: 0, seq, key, value } }) as Entry;

/** A leader of term 2 with `n` committed and applied puts k0..k(n-1), the last of term 2. */
function leader(n: number): RaftState {
  const log = logOf(Array.from({ length: n }, (_, i) => put(i < n - 1 ? 1 : 2, `k${i % 3}`,
    `v${i}`, i + 1)));
  return { ...initialState(defaultConfig, 1), currentTerm: 2, votedFor: ME,
    leaderId: ME, log, commitIndex: n, kv: applyUpTo(emptyKv(), log, n),
    progress: new Map([[A, { ...freshProgress(n + 1), match: n }],
      [B, { ...freshProgress(n + 1), match: n }]]) };
}

/** Server A, a follower of term `term` over `entries`, `commit` of them committed. */
function follower(entries: Entry[] = [], commit = 0, term = 2): RaftState {
  const log = logOf(entries);
  return { ...initialState({ ...defaultConfig, id: A, peers: [ME, B] }, 1), currentTerm: term,
    log, commitIndex: commit,
    kv: applyUpTo(emptyKv(), log, commit) };
}

const sends = (out: readonly Effect[]): PeerMessage[] =>
  out.flatMap((e) => (e.type === 'send' ? [e.message] : []));

function snapshotRequest(s: RaftState, to: NodeId): InstallSnapshotRequest {
  const out: Effect[] = [];
  replicate({ ...s, progress: withProgress(s, to, { next: 1 }) }, out, [to]);
  return sends(out)[0] as InstallSnapshotRequest;
}

describe('[§7] takeSnapshot', () => {
  it('snapshots the applied state at commitIndex and drops the entries up to it', () => {
    const l = { ...leader(5), commitIndex: 5 };
    const appended = clientRequest(l, { type: 'put', src: C, dst: ME, leader: ME, MID: 'm',
      key: 'k9', value: 'x' } as ClientRequest, [], raftRules, 'Leader');
    const s = takeSnapshot(appended);
    expect(s.log.snapshot).toEqual({ index: 5, term: 2,
      kv: [['k0', 'v3'], ['k1', 'v4'], ['k2', 'v2']],
      sessions: [], // writes without a session [§6.3] record none
      terms: [{ index: 1, term: 1 }, { index: 5, term: 2 }] });
    // the uncommitted entry 6 stays; the state machine is the same
    expect([lastLogIndex(s.log), entriesAfterSnapshot(s.log).length]).toEqual([6, 1]);
    expect(kvData(s.kv, s.log)).toEqual(kvData(appended.kv, appended.log));
    expect(termAt(s.log, 5)).toBe(2);
    expect(termAt(s.log, 4)).toBe(0); // gone with the compacted entries
  });

  it('does nothing when nothing new is committed', () => {
    const s = takeSnapshot(leader(3));
    expect(takeSnapshot(s)).toBe(s);
  });

  it('is persisted as the new base: replaying the write gives the same log', () => {
    const before = leader(4);
    const after = takeSnapshot(before);
    const change = logChange(before.log, after.log);
    expect(change?.snapshot).toBe(after.log.snapshot);
    const disk = applyWrite({ ...emptyPersisted(), log: before.log },
      { currentTerm: 2, votedFor: ME, log: change });
    expect(disk.log.snapshot).toBe(after.log.snapshot);
    expect(entriesAfterSnapshot(disk.log)).toEqual(entriesAfterSnapshot(after.log));
  });

  it('a restart starts the state machine from the snapshot, committed up to it', () => {
    const s = takeSnapshot(leader(4));
    const restarted = initialState(defaultConfig, 2, persistedOf(s));
    expect([restarted.commitIndex, restarted.kv.appliedIndex]).toEqual([4, 4]);
    expect(kvData(restarted.kv, restarted.log)).toEqual(kvData(s.kv, s.log));
    expect(kvSessions(restarted.kv, restarted.log)).toEqual(kvSessions(s.kv, s.log));
  });

  it('a tick takes one once snapshotEntries entries are committed past the last', () => {
    const config = { ...defaultConfig, id: ME, peers: [A, B], snapshotEntries: 3 };
    const persisted = { currentTerm: 2, votedFor: null, log: logOf([put(1, 'a', '1'),
      put(1, 'a', '2'), put(2, 'a', '3')]) };
    let [snap] = initialTransition(raftMachine, { config, seed: 1, persisted });
    // a follower learns that all three are committed
    const ae = { type: 'AppendEntriesRequest', src: A, dst: ME, leader: A, term: 2,
      prevLogIndex: 3, prevLogTerm: 2, entries: [], leaderCommit: 3, readRound: 0 };
    [snap] = transition(raftMachine, snap, ae as unknown as AppendEntriesRequest);
    expect(snap.context.log.snapshot.index).toBe(0);
    const [next, actions] = transition(raftMachine, snap, { type: 'Tick' });
    expect(next.context.log.snapshot.index).toBe(3);
    expect(effectsOf(actions).some((e) => e.type === 'persist' && e.log?.snapshot !== undefined))
      .toBe(true);
  });
});

describe('[§7] a leader sends its snapshot where entries are compacted away', () => {
  it('sends InstallSnapshotRequest to a peer whose nextIndex the snapshot covers', () => {
    const l = takeSnapshot(leader(4));
    const s = { ...l, progress: withProgress({ ...l, progress: withProgress(l, A, { next: 2 }) }, B,
      { next: 5 }) };
    const out: Effect[] = [];
    replicate(s, out, [A, B]);
    const [toA, toB] = sends(out);
    expect(toA).toMatchObject({ type: 'InstallSnapshotRequest', dst: A, term: 2,
      lastIncludedIndex: 4, lastIncludedTerm: 2, kv: s.log.snapshot.kv });
    expect(toB).toMatchObject({ type: 'AppendEntriesRequest', dst: B, prevLogIndex: 4,
      prevLogTerm: 2, entries: [] });
  });
});

describe('[§7 Figure 13] InstallSnapshot at a follower', () => {
  const l = takeSnapshot(leader(4));

  it('an empty follower takes the snapshot as its state and acknowledges its index', () => {
    const out: Effect[] = [];
    const f = handleInstallSnapshotRequest(follower(), snapshotRequest(l, A), out, raftRules);
    expect([f.commitIndex, f.kv.appliedIndex, lastLogIndex(f.log), f.leaderId])
      .toEqual([4, 4, 4, ME]);
    expect(kvData(f.kv, f.log)).toEqual(kvData(l.kv, l.log));
    expect(sends(out)).toMatchObject([{ type: 'AppendEntriesResponse', success: true,
      matchIndex: 4 }]);
  });

  it('#6: a log that holds the snapshot\'s last entry keeps the entries after it', () => {
    const entries = [...entriesAfterSnapshot(leader(4).log), put(2, 'x', 'later')];
    const f = handleInstallSnapshotRequest(follower(entries, 1), snapshotRequest(l, A), [], raftRules);
    expect([f.log.snapshot.index, lastLogIndex(f.log), f.commitIndex]).toEqual([4, 5, 4]);
    expect(entriesAfterSnapshot(f.log)).toEqual([put(2, 'x', 'later')]);
  });

  it('#7: a log that conflicts at the snapshot\'s index is discarded', () => {
    const entries = [put(1, 'a', '1'), put(1, 'a', '2'), put(1, 'a', '3'), put(1, 'a', '4'),
      put(1, 'a', '5')];
    const f = handleInstallSnapshotRequest(follower(entries, 1), snapshotRequest(l, A), [], raftRules);
    expect([f.log.snapshot.index, lastLogIndex(f.log)]).toEqual([4, 4]);
  });

  it('#1: a stale leader is refused, and learns the newer term', () => {
    const out: Effect[] = [];
    const f0 = follower([], 0, 3);
    const f = handleInstallSnapshotRequest(f0, snapshotRequest(l, A), out, raftRules);
    expect(f).toBe(f0);
    expect(sends(out)).toMatchObject([{ type: 'AppendEntriesResponse', term: 3, success: false }]);
  });

  it('a snapshot no newer than the commit index changes nothing but is acknowledged', () => {
    const out: Effect[] = [];
    const f0 = follower(entriesAfterSnapshot(leader(5).log), 5);
    const f = handleInstallSnapshotRequest(f0, snapshotRequest(l, A), out, raftRules);
    expect([f.log, f.kv, f.commitIndex]).toEqual([f0.log, f0.kv, 5]);
    expect(sends(out)).toMatchObject([{ success: true, matchIndex: 4 }]);
  });

  it('a deposed leader answers the pending requests the snapshot settles', () => {
    const old = leader(4);
    const deposed: RaftState = { ...old, currentTerm: 2,
      pending: chainOf([{ index: 4, term: 2, cmd: putOf(C), mid: 'ok-me' },
        { index: 3, term: 9, cmd: putOf(C), mid: 'lost' }].sort((a, b) => a.index - b.index)),
      commitIndex: 2, kv: applyUpTo(emptyKv(), old.log, 2) };
    const out: Effect[] = [];
    const f = handleInstallSnapshotRequest(deposed, snapshotRequest(l, A), out, raftRules);
    const answers = out.flatMap((e) => (e.type === 'reply' ? [`${e.message.type} ${e.message.MID}`]
      : []));
    expect(answers.sort()).toEqual(['ok ok-me', 'redirect lost']);
    expect(f.pending.end - f.pending.start).toBe(0);
  });

  it('a deposed leader whose log lacks the snapshot\'s entry settles by the snapshot\'s runs of ' +
    'terms, and leaves unanswered only what they no longer cover', () => {
    // A led term 1 and appended 1..5 there; the term-2 leader's log is 1..3 of term 1, 4 of term 2
    const log = logOf([1, 2, 3, 4, 5].map((i) => put(1, 'k', `a${i}`)));
    const deposed: RaftState = { ...follower(), currentTerm: 2, log, commitIndex: 2,
      kv: applyUpTo(emptyKv(), log, 2), pending: chainOf([3, 4, 5].map((index) =>
        ({ index, term: 1, cmd: putOf(C), mid: `at-${index}` }))) };
    const request = snapshotRequest(l, A);
    expect(request.terms).toEqual([{ index: 1, term: 1 }, { index: 4, term: 2 }]);
    const answers = (m: InstallSnapshotRequest): [string[], number] => {
      const out: Effect[] = [];
      const f = handleInstallSnapshotRequest(deposed, m, out, raftRules);
      return [out.flatMap((e) => (e.type === 'reply' ? [`${e.message.type} ${e.message.MID}`]
        : [])).sort(), f.pending.end - f.pending.start];
    };
    // 3 is still term 1's entry, so committed; 4 was replaced; 5 is past the snapshot, but its
    // term (1) is below the snapshot's last (2), so it never commits [§5.4]: redirected now, not
    // left to a commit past the snapshot, which an idle cluster never makes
    expect(answers(request)).toEqual([['ok at-3', 'redirect at-4', 'redirect at-5'], 0]);
    // runs that begin after index 3 cannot tell: 3 is left to its client's retry
    expect(answers({ ...request, terms: [{ index: 4, term: 2 }] } as InstallSnapshotRequest))
      .toEqual([['redirect at-4', 'redirect at-5'], 0]);
  });

  it('a deposed leader\'s requests past the snapshot, of a term below its last, are redirected at ' +
    'once: an idle cluster would never commit past the snapshot to answer them', () => {
    // A led term 1, cut off, and appended 2..8 there; B led term 2 and snapshotted at 5 (found by
    // the independent review of the mutation survivors: before, A answered 6..8 only once the
    // cluster committed past 5)
    const log = logOf([1, 2, 3, 4, 5, 6, 7, 8].map((i) => put(1, 'k', `a${i}`)));
    const deposed: RaftState = { ...follower(), currentTerm: 2, log, commitIndex: 1,
      kv: applyUpTo(emptyKv(), log, 1), pending: chainOf([2, 3, 4, 5, 6, 7, 8].map((index) =>
        ({ index, term: 1, cmd: putOf(C), mid: `at-${index}` }))) };
    const request = { ...snapshotRequest(l, A), lastIncludedIndex: 5, lastIncludedTerm: 2,
      terms: [{ index: 1, term: 1 }, { index: 2, term: 2 }] } as InstallSnapshotRequest;
    const out: Effect[] = [];
    const f = handleInstallSnapshotRequest(deposed, request, out, raftRules);
    expect(out.flatMap((e) => (e.type === 'reply' ? [`${e.message.type} ${e.message.MID}`] : []))
      .sort()).toEqual([2, 3, 4, 5, 6, 7, 8].map((i) => `redirect at-${i}`).sort());
    expect(f.pending.end - f.pending.start).toBe(0);
    // a request of the snapshot's own term past it may still commit: it waits
    const current: RaftState = { ...deposed, pending: chainOf([{ index: 6, term: 2,
      cmd: putOf(C), mid: 'at-6' }]) };
    const kept = handleInstallSnapshotRequest(current, request, [], raftRules);
    expect(kept.pending.end - kept.pending.start).toBe(1);
  });

  it('a settled del or cas is answered with the value it found, from its session in the ' +
    'snapshot; one whose client has moved on, or whose session expired, is answered expired', () => {
    const D = '00D0' as NodeId;
    const E = '00E0' as NodeId;
    // [§6.3] D's and E's sessions are the indexes of their register entries: 1 and 2
    const reg = (client: NodeId): Entry => ({ term: 1, cmd: { kind: 'register', client, seq: 1,
      keep: 8 } }) as Entry;
    const del = { kind: 'del' as const, client: D, session: 1, seq: 5, key: 'k' };
    const cas = { kind: 'cas' as const, client: E, session: 2, seq: 7, key: 'k', expected: null,
      value: 'w' };
    const term1: Entry[] = [reg(D), reg(E), put(1, 'k', 'v0'), put(1, 'k', 'v1'),
      { term: 1, cmd: del } as Entry, { term: 1, cmd: cas } as Entry];
    // the term-2 leader committed all six, then E's next request (seq 8), and snapshotted
    const log = logOf([...term1, { term: 2, cmd: { kind: 'put', client: E, session: 2, seq: 8,
      key: 'k', value: 'x' } } as Entry]);
    const l2 = takeSnapshot({ ...leader(1), log, commitIndex: 7, kv: applyUpTo(emptyKv(), log, 7) });
    expect(l2.log.snapshot.sessions).toEqual([[1, { seq: 5, value: 'v1', last: 5 }],
      [2, { seq: 8, value: null, last: 7 }]]); // a put's: no value
    const mine = logOf(term1);
    const pending = chainOf([{ index: 5, term: 1, cmd: del, mid: 'del' },
      { index: 6, term: 1, cmd: cas, mid: 'cas' }]);
    const deposed: RaftState = { ...follower(), currentTerm: 2, log: mine, commitIndex: 4,
      kv: applyUpTo(emptyKv(), mine, 4), pending };
    const settle = (request: InstallSnapshotRequest): [unknown[], number] => {
      const out: Effect[] = [];
      const f = handleInstallSnapshotRequest(deposed, request, out, raftRules);
      return [out.flatMap((e) => (e.type === 'reply' ? [e.message] : [])),
        f.pending.end - f.pending.start];
    };
    // E's session moved on to seq 8: the cas's answer is no longer kept (E has had it)
    const [answered, left] = settle(snapshotRequest(l2, A));
    expect(answered).toEqual([
      { type: 'ok', src: A, dst: D, leader: ME, MID: 'del', value: 'v1' },
      { type: 'expired', src: A, dst: E, leader: ME, MID: 'cas' }]);
    expect(left).toBe(0);
    // D's session expired by the snapshot: whether the del did anything is unknown
    const expired = { ...snapshotRequest(l2, A), sessions: [[2, { seq: 8, value: null,
      last: 7 }]] } as unknown as InstallSnapshotRequest;
    expect(settle(expired)).toEqual([[
      { type: 'expired', src: A, dst: D, leader: ME, MID: 'del' },
      { type: 'expired', src: A, dst: E, leader: ME, MID: 'cas' }], 0]);
  });

  it('a deposed leader settles each kind of request the snapshot covers: a register ok with its ' +
    'session, a put in a session ok if the session holds its seq, else expired; a del without a ' +
    'session is left to its client (nothing can tell); one at the snapshot\'s index too', () => {
    const [D, E, F] = ['00D0', '00E0', '00F0'] as [NodeId, NodeId, NodeId];
    const reg = (client: NodeId): Entry => ({ term: 1, cmd: { kind: 'register', client, seq: 1,
      keep: 8 } }) as Entry;
    const inSession = (client: NodeId, session: number, seq: number, value: string): Entry =>
      ({ term: 1, cmd: { kind: 'put', client, session, seq, key: 'k', value } }) as Entry;
    const bare = { kind: 'del' as const, client: C, session: 0, seq: 0, key: 'k' };
    // A led term 1: D and E registered (sessions 1 and 2), wrote at seq 2, C deleted without a
    // session, F registered; all of it pending at A
    const term1 = [reg(D), reg(E), inSession(D, 1, 2, 'd'), inSession(E, 2, 2, 'e'),
      { term: 1, cmd: bare } as Entry, reg(F)];
    // the term-2 leader committed those six and E's next write (seq 3), and snapshotted at 7
    const log = logOf([...term1, { ...inSession(E, 2, 3, 'e3'), term: 2 } as Entry]);
    const l2 = takeSnapshot({ ...leader(1), log, commitIndex: 7,
      kv: applyUpTo(emptyKv(), log, 7) });
    const cmdAt = (i: number) => (term1[i - 1] as Entry).cmd;
    const pending = chainOf([3, 4, 5, 6].map((index) =>
      ({ index, term: 1, cmd: cmdAt(index) as never, mid: `at-${index}` })));
    const mine = logOf(term1);
    const deposed: RaftState = { ...follower(), currentTerm: 2, log: mine, commitIndex: 2,
      kv: applyUpTo(emptyKv(), mine, 2), pending };
    const settle = (s: RaftState, request: InstallSnapshotRequest): [unknown[], number] => {
      const out: Effect[] = [];
      const f = handleInstallSnapshotRequest(s, request, out, raftRules);
      return [out.flatMap((e) => (e.type === 'reply' ? [e.message] : [])),
        f.pending.end - f.pending.start];
    };
    const request = snapshotRequest(l2, A);
    expect(settle(deposed, request)).toEqual([[
      { type: 'ok', src: A, dst: D, leader: ME, MID: 'at-3' }, // session 1 holds seq 2
      { type: 'expired', src: A, dst: E, leader: ME, MID: 'at-4' }, // session 2 moved on to 3
      { type: 'ok', src: A, dst: F, leader: ME, MID: 'at-6', session: 6 }], 0]);
    // A led term 2 and appended E's write at 7, the snapshot's last entry, which a term-3 leader
    // committed: A answers it at the install, not at some later commit
    const l3 = takeSnapshot({ ...leader(1), currentTerm: 3, log, commitIndex: 7,
      kv: applyUpTo(emptyKv(), log, 7) });
    const atLast: RaftState = { ...deposed, log, pending: chainOf([{ index: 7, term: 2,
      cmd: inSession(E, 2, 3, 'e3').cmd as never, mid: 'at-7' }]) };
    expect(settle(atLast, snapshotRequest(l3, A))).toEqual([[
      { type: 'ok', src: A, dst: E, leader: ME, MID: 'at-7' }], 0]);
  });

  it('runs of terms that no longer reach a request: a log that holds the snapshot\'s last entry ' +
    'still tells (the same entries up to it [§5.3])', () => {
    // A led term 1 and appended 1..3; the term-2 leader kept them, appended 4 and sent it to A
    const log = logOf([put(1, 'k', 'a1'), put(1, 'k', 'a2'), put(1, 'k', 'a3'),
      put(2, 'k', 'b4')]);
    const l2 = takeSnapshot({ ...leader(1), log, commitIndex: 4, kv: applyUpTo(emptyKv(), log, 4) });
    const deposed: RaftState = { ...follower(), currentTerm: 2, log, commitIndex: 1,
      kv: applyUpTo(emptyKv(), log, 1), pending: chainOf([2, 3].map((index) =>
        ({ index, term: 1, cmd: putOf(C), mid: `at-${index}` }))) };
    // runs kept only from index 4: the log's own terms answer for 2 and 3
    const request = { ...snapshotRequest(l2, A), terms: [{ index: 4, term: 2 }] } as
      InstallSnapshotRequest;
    const out: Effect[] = [];
    const f = handleInstallSnapshotRequest(deposed, request, out, raftRules);
    expect(out.flatMap((e) => (e.type === 'reply' ? [`${e.message.type} ${e.message.MID}`] : [])))
      .toEqual(['ok at-2', 'ok at-3']);
    expect(f.pending.end - f.pending.start).toBe(0);
  });

  it('AppendEntries below the snapshot: covered entries are skipped, the rest merged', () => {
    const f0 = handleInstallSnapshotRequest(follower(), snapshotRequest(l, A), [], raftRules);
    const m = { type: 'AppendEntriesRequest', src: ME, dst: A, leader: ME, term: 2,
      prevLogIndex: 2, prevLogTerm: 1, entries: [put(1, 'k0', 'v2'), put(2, 'k1', 'v3'),
        put(2, 'n', 'new')], leaderCommit: 5, readRound: 0 } as unknown as AppendEntriesRequest;
    const out: Effect[] = [];
    const f = handleAppendEntriesRequest(f0, m, out, raftRules, 'Follower');
    expect([lastLogIndex(f.log), f.commitIndex]).toEqual([5, 5]);
    expect(entriesAfterSnapshot(f.log)).toEqual([put(2, 'n', 'new')]);
    expect(sends(out)).toMatchObject([{ success: true, matchIndex: 5 }]);
    expect(mergeEntries(f0.log, 0, [put(1, 'z', 'z')])).toBe(f0.log); // all covered
  });
});

describe('[§7] a snapshot is also due by size: large values', () => {
  /** A follower whose log holds `values` as puts of distinct keys, all committed and applied. */
  const withLog = (values: readonly string[], snapshotBytes: number) => {
    const log = logOf(values.map((v, i) => put(1, `k${i}`, v)));
    return { ...initialState({ ...defaultConfig, snapshotEntries: 2000, snapshotBytes }, 1),
      log, commitIndex: values.length, kv: applyUpTo(emptyKv(), log, values.length) };
  };

  it('once the commands applied since the last snapshot hold snapshotBytes and at least the ' +
    'state\'s size, however few; never by size when snapshots are off', () => {
    expect(snapshotDue(withLog(['x'.repeat(900)], 1000))).toBe(false);
    const s = withLog(['x'.repeat(900), 'y'.repeat(900)], 1000);
    expect(snapshotDue(s)).toBe(true);
    const after = takeSnapshot(s);
    expect(snapshotDue(after)).toBe(false);
    expect(snapshotDue({ ...s, config: { ...s.config, snapshotEntries: 0 } })).toBe(false);
    // overwriting one key: the state stays small, the applied commands grow past it
    const rewrites = logOf(Array.from({ length: 3 }, () => put(1, 'k', 'z'.repeat(600))));
    const r = { ...s, log: rewrites, commitIndex: 3, kv: applyUpTo(emptyKv(), rewrites, 3) };
    expect(snapshotDue(r)).toBe(true);
  });
});
