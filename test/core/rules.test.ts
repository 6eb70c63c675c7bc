import { describe, expect, it } from 'vitest';
import type { NodeId, PeerMessage } from '../../src/wire/messages.js';
import { encodeMessage, MAX_DATAGRAM_BYTES, utf8ByteLength } from '../../src/wire/codec.js';
import { logChange, logOf as chainOf, mergeEntries } from '../../src/core/log.js';
import type { Entry } from '../../src/wire/messages.js';
import { Cluster } from '../../src/explorer/cluster.js';
import { size } from '../../src/core/chain.js';

const entry = (term: number, value = 'v'): Entry =>
  ({ term, cmd: { kind: 'put', client: '00C0', session: 0, seq: 0, key: 'k', value } }) as Entry;

/** Elect 0000 in a fresh 3-server cluster by delivering everything. */
function elected(maxBatch = 16): Cluster {
  const c = new Cluster(3, { maxBatch }, 1);
  c.event(c.ids[0] as NodeId, { type: 'ElectionTimeout' });
  for (let i = 0; i < 8; i++) for (const k of c.inFlightKeys()) c.deliver(k);
  expect(c.role(c.ids[0] as NodeId)).toBe('Leader');
  return c;
}

describe('[Fig2:AE#3] the log change a step persists', () => {
  it('an append is the new suffix', () => {
    const before = chainOf([entry(1), entry(1)]);
    const after = mergeEntries(before, 2, [entry(1, 'x')]);
    expect(logChange(before, after)).toEqual({ fromIndex: 3, entries: [entry(1, 'x')] });
  });

  it('a conflict truncates and appends: the change starts at the first replaced index', () => {
    const before = chainOf([entry(1), entry(1), entry(1)]);
    const after = mergeEntries(before, 1, [entry(1), entry(2, 'y')]);
    expect(logChange(before, after)).toEqual({ fromIndex: 3, entries: [entry(2, 'y')] });
  });

  it('a stale AppendEntries whose entries all match changes nothing', () => {
    const before = chainOf([entry(1), entry(2)]);
    expect(logChange(before, mergeEntries(before, 0, [entry(1)]))).toBeUndefined();
  });
});

describe('[§5.3] batches fit in a datagram', () => {
  it('sixteen entries of the largest keys and values still leave each AppendEntries below the limit', () => {
    const c = elected();
    const leader = c.ids[0] as NodeId;
    for (const k of c.inFlightKeys()) c.drop(k);
    for (let i = 0; i < 16; i++) {
      c.event(leader, { type: 'put', src: '00C0' as NodeId, dst: leader, leader, MID: `m${i}`,
        key: 'k'.repeat(256), value: '\u0001'.repeat(1024) } as never);
    }
    c.event(leader, { type: 'Replicate', to: c.ids.filter((p) => p !== leader) });
    const sent = [...c.bag.values()].map((f) => f.message as PeerMessage)
      .filter((m) => m.type === 'AppendEntriesRequest');
    expect(sent.length).toBe(2);
    for (const m of sent) {
      expect(m.type === 'AppendEntriesRequest' && m.entries.length).toBeGreaterThan(0);
      expect(utf8ByteLength(encodeMessage(m))).toBeLessThan(MAX_DATAGRAM_BYTES);
    }
  });
});

describe('[§8] client answers', () => {
  it('a follower that knows the leader redirects at once, naming it', () => {
    const c = elected();
    const [leader, follower] = c.ids as [NodeId, NodeId];
    c.event(follower, { type: 'get', src: '00C0' as NodeId, dst: follower, leader: follower,
      MID: 'g1', key: 'k' } as never);
    expect(c.replies).toEqual([expect.objectContaining({ type: 'redirect', MID: 'g1', leader })]);
  });

  it('a request held without a leader is redirected once a leader is known, never answered twice', () => {
    const c = new Cluster(3, {}, 1);
    const [a, b] = c.ids as [NodeId, NodeId];
    c.event(b, { type: 'put', src: '00C0' as NodeId, dst: b, leader: b, MID: 'p1', key: 'k',
      value: '1' } as never);
    expect(c.replies).toEqual([]); // held: no storm of redirects while there is no leader
    c.event(a, { type: 'ElectionTimeout' });
    for (let i = 0; i < 8; i++) for (const k of c.inFlightKeys()) c.deliver(k);
    expect(c.replies).toEqual([expect.objectContaining({ type: 'redirect', MID: 'p1', leader: a })]);
  });

  it('the leader answers ok once the entry is applied, exactly once, with the value for a get', () => {
    const c = elected();
    const leader = c.ids[0] as NodeId;
    const client = '00C0' as NodeId;
    c.event(leader, { type: 'put', src: client, dst: leader, leader, MID: 'p1', key: 'k', value: '7' } as never);
    c.event(leader, { type: 'get', src: client, dst: leader, leader, MID: 'g1', key: 'k' } as never);
    c.event(leader, { type: 'Flush' });
    for (let i = 0; i < 6; i++) for (const k of c.inFlightKeys()) c.deliver(k);
    c.event(leader, { type: 'Replicate', to: c.ids.filter((p) => p !== leader) });
    for (let i = 0; i < 6; i++) for (const k of c.inFlightKeys()) c.deliver(k);
    expect(c.replies.map((r) => [r.MID, r.type, 'value' in r ? r.value : undefined]))
      .toEqual([['p1', 'ok', undefined], ['g1', 'ok', '7']]);
  });

  /** A leader with put p1 appended at index 2, unreplicated, deposed by `other` in term 9. */
  function deposed(): { c: Cluster; leader: NodeId; other: NodeId; term: number } {
    const c = elected();
    const [leader, other] = c.ids as [NodeId, NodeId];
    const term = c.state(leader).currentTerm;
    c.event(leader, { type: 'put', src: '00C0' as NodeId, dst: leader, leader, MID: 'p1', key: 'k',
      value: '1' } as never);
    c.event(leader, { type: 'AppendEntriesRequest', src: other, dst: leader, leader: other,
      term: 9, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0 } as never);
    expect(c.role(leader)).toBe('Follower');
    // not answered yet: the entry may still commit under the new leader
    expect(c.replies).toEqual([]);
    return { c, leader, other, term };
  }

  it('a deposed leader redirects a pending request once another entry is committed at its index', () => {
    const { c, leader, other, term } = deposed();
    c.event(leader, { type: 'AppendEntriesRequest', src: other, dst: leader, leader: other,
      term: 9, prevLogIndex: 1, prevLogTerm: term, entries: [{ term: 9, cmd: { kind: 'noop' } }],
      leaderCommit: 2 } as never);
    expect(c.replies).toEqual([expect.objectContaining({ type: 'redirect', MID: 'p1', leader: other })]);
  });

  it('a deposed leader redirects a pending request beyond the commit once a newer term commits', () => {
    const c = elected();
    const [leader, other] = c.ids as [NodeId, NodeId];
    const term = c.state(leader).currentTerm;
    for (const mid of ['p1', 'p2']) {
      c.event(leader, { type: 'put', src: '00C0' as NodeId, dst: leader, leader, MID: mid, key: 'k',
        value: '1' } as never);
    }
    // the new leader's no-op at index 2 commits: p1 (index 2) lost its index, p2 (index 3) is
    // beyond the commit but of an older term, so it can never commit either
    c.event(leader, { type: 'AppendEntriesRequest', src: other, dst: leader, leader: other,
      term: 9, prevLogIndex: 1, prevLogTerm: term, entries: [{ term: 9, cmd: { kind: 'noop' } }],
      leaderCommit: 2 } as never);
    expect(c.replies.map((r) => [r.MID, r.type])).toEqual([['p1', 'redirect'], ['p2', 'redirect']]);
  });

  it('a leader re-elected over a cut log answers each request once: the old term\'s ' +
    'redirected, the new term\'s ok, also where new requests take the indexes of old ones', () => {
    const c = elected();
    const [a, b, other] = c.ids as [NodeId, NodeId, NodeId];
    const term = c.state(a).currentTerm;
    const put = (mid: string): void => {
      c.event(a, { type: 'put', src: '00C0' as NodeId, dst: a, leader: a, MID: mid, key: 'k',
        value: mid } as never);
    };
    for (const mid of ['p1', 'p2', 'p3', 'p4', 'p5']) put(mid); // indexes 2-6, never replicated
    // a leader of term 9 cuts the log after index 1, and commits nothing new here
    c.event(a, { type: 'AppendEntriesRequest', src: other, dst: a, leader: other, term: 9,
      prevLogIndex: 1, prevLogTerm: term, entries: [{ term: 9, cmd: { kind: 'noop' } }],
      leaderCommit: 1 } as never);
    expect(c.replies).toEqual([]);
    // a is elected in term 10 with b's pre-vote and vote: its no-op goes to index 3
    c.event(a, { type: 'ElectionTimeout' });
    c.event(a, { type: 'PreVoteResponse', src: b, dst: a, leader: 'FFFF', term: 10,
      voteGranted: true } as never);
    c.event(a, { type: 'RequestVoteResponse', src: b, dst: a, leader: 'FFFF', term: 10,
      voteGranted: true } as never);
    expect([c.role(a), c.state(a).currentTerm]).toEqual(['Leader', 10]);
    put('q1'); // index 4, below p4's 5 and p5's 6 of the old term
    put('q2'); // index 5, p4's index again
    const ack = (matchIndex: number): void => {
      c.event(a, { type: 'AppendEntriesResponse', src: b, dst: a, leader: a, term: 10,
        success: true, matchIndex, rejectHint: 0, readRound: 0 } as never);
    };
    ack(4);
    expect(c.replies.map((r) => [r.MID, r.type])).toEqual([['p1', 'redirect'],
      ['p2', 'redirect'], ['p3', 'redirect'], ['q1', 'ok'], ['p4', 'redirect'],
      ['p5', 'redirect']]);
    ack(5);
    expect(c.replies.map((r) => [r.MID, r.type]).slice(6)).toEqual([['q2', 'ok']]);
    expect(size(c.state(a).pending)).toBe(0);
  });

  it('a deposed leader answers ok once its pending entry is committed by the next leader', () => {
    const { c, leader, other, term } = deposed();
    c.event(leader, { type: 'AppendEntriesRequest', src: other, dst: leader, leader: other,
      term: 9, prevLogIndex: 2, prevLogTerm: term, entries: [], leaderCommit: 2 } as never);
    expect(c.replies).toEqual([expect.objectContaining({ type: 'ok', MID: 'p1', leader: other })]);
  });
});

describe('[§5.2] election timers', () => {
  it('a campaign without a quorum retries sooner than a follower times out', () => {
    const c = new Cluster(3, { electionTimeoutTicksMin: 100, electionTimeoutTicksMax: 200,
      campaignRetryTicksMin: 40, campaignRetryTicksMax: 80 }, 1);
    const id = c.ids[0] as NodeId;
    const follower = c.state(id).electionTimeoutTicks;
    expect(follower).toBeGreaterThanOrEqual(100);
    expect(follower).toBeLessThan(200);
    c.event(id, { type: 'ElectionTimeout' });
    expect(c.role(id)).toBe('PreCandidate');
    const retry = c.state(id).electionTimeoutTicks;
    expect(retry).toBeGreaterThanOrEqual(40);
    expect(retry).toBeLessThan(80);
  });
});

describe('[§5.2] a candidate wins with a quorum of votes, not one fewer', () => {
  /** Deliver, one at a time, every message of `type` in flight; persist every server after each. */
  function deliverAll(c: Cluster, type: PeerMessage['type'], after?: () => void): void {
    for (const k of c.inFlightKeys()) {
      if (c.bag.get(k)?.message.type !== type) continue;
      c.deliver(k);
      for (const id of c.ids) if (c.canPersist(id)) c.persist(id);
      after?.();
    }
  }

  for (const n of [3, 5]) {
    it(`in a ${n}-server cluster the candidate is leader exactly at the ${(n >> 1) + 1}th vote`, () => {
      const c = new Cluster(n, {}, 1);
      const me = c.ids[0] as NodeId;
      c.event(me, { type: 'ElectionTimeout' });
      for (const id of c.ids) if (c.canPersist(id)) c.persist(id);
      deliverAll(c, 'PreVoteRequest');
      deliverAll(c, 'PreVoteResponse');
      expect(c.role(me)).toBe('Candidate');
      deliverAll(c, 'RequestVoteRequest');
      const roles: string[] = [];
      deliverAll(c, 'RequestVoteResponse', () => roles.push(c.role(me)));
      // its own vote plus one per response: a quorum of n is n/2 + 1
      const q = (n >> 1) + 1;
      expect(roles.length).toBe(n - 1);
      expect(roles.indexOf('Leader')).toBe(q - 2);
      expect(roles.slice(0, q - 2).every((r) => r === 'Candidate')).toBe(true);
    });
  }
});
