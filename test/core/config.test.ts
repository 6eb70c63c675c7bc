/**
 * [D§4] Configuration changes in the statechart, on an in-process cluster of three: who counts in
 * each quorum (voters only, the leader only while it is one), the published fix's guard (no change
 * before an entry of the leader's term is committed, one uncommitted change at a time), a change
 * that counts when appended and reverts when cut, a learner that never campaigns, and a leader
 * that removes itself and steps down once that commits. `spec/raft.qnt` has the same rules
 * (`changeConfig`, `configOf`, `isQuorumOf`); the conformance suites replay them both ways.
 */
import { describe, expect, it } from 'vitest';
import type { NodeId, PeerMessage } from '../../src/wire/messages.js';
import { Cluster } from '../../src/explorer/cluster.js';
import { membership } from '../../src/core/state.js';
import { lastLogIndex } from '../../src/core/log.js';
import { changedConfiguration } from '../../src/core/rules/config.js';

const [A, B, C] = ['0000', '0001', '0002'] as [NodeId, NodeId, NodeId];

/** A cluster where `A` leads and every server holds and has committed its no-op. */
function ledByA(): Cluster {
  const c = new Cluster(3, {}, 1);
  c.event(A, { type: 'ElectionTimeout' });
  settle(c);
  c.event(A, { type: 'Replicate', to: [B, C] }); // the commit reaches the followers
  settle(c);
  expect(c.role(A)).toBe('Leader');
  expect(c.state(C).commitIndex).toBe(1);
  return c;
}

/** Deliver and persist until the network is quiet (bounded). */
function settle(c: Cluster, only: (m: PeerMessage) => boolean = () => true): void {
  for (let i = 0; i < 12; i++) {
    for (const id of c.ids) if (c.canPersist(id)) c.persist(id);
    for (const k of c.inFlightKeys()) {
      const m = c.bag.get(k)?.message;
      if (m !== undefined && only(m)) c.deliver(k); else c.drop(k);
    }
  }
}

/** `ledByA`, then C removed and added back as a learner, both changes committed everywhere. */
function learnerC(): Cluster {
  const c = ledByA();
  c.event(A, { type: 'ChangeConfig', change: 'remove', id: C });
  c.event(A, { type: 'Replicate', to: [B] });
  settle(c);
  c.event(A, { type: 'ChangeConfig', change: 'addLearner', id: C });
  c.event(A, { type: 'Replicate', to: [B, C] });
  settle(c);
  return c;
}

const config = (c: Cluster, id: NodeId): string => {
  const m = membership(c.state(id));
  return `${m.voters.join(',')}${m.learners.length > 0 ? ` +${m.learners.join(',')}` : ''}`;
};

describe('[D§4.1] single-server changes', () => {
  it('the configuration a change leads to: add a learner, promote it, remove a member; ' +
    'nothing that does not apply, and never fewer than two voters', () => {
    const three = { voters: [A, B, C], learners: [] };
    expect(changedConfiguration(three, { change: 'remove', id: C }))
      .toEqual({ voters: [A, B], learners: [] });
    const two = { voters: [A, B], learners: [] };
    expect(changedConfiguration(two, { change: 'addLearner', id: C }))
      .toEqual({ voters: [A, B], learners: [C] });
    expect(changedConfiguration({ voters: [A, B], learners: [C] }, { change: 'promote', id: C }))
      .toEqual(three);
    expect(changedConfiguration(three, { change: 'addLearner', id: C })).toBeUndefined();
    expect(changedConfiguration(three, { change: 'promote', id: C })).toBeUndefined();
    expect(changedConfiguration(two, { change: 'remove', id: C })).toBeUndefined();
    expect(changedConfiguration(two, { change: 'remove', id: B })).toBeUndefined();
  });

  it('a new leader changes nothing before an entry of its term is committed, and makes one ' +
    'change at a time', () => {
    const c = new Cluster(3, {}, 1);
    c.event(A, { type: 'ElectionTimeout' });
    settle(c, (m) => m.type !== 'AppendEntriesResponse'); // elected; its no-op not yet committed
    expect(c.role(A)).toBe('Leader');
    const before = lastLogIndex(c.state(A).log);
    c.event(A, { type: 'ChangeConfig', change: 'remove', id: C });
    expect(lastLogIndex(c.state(A).log)).toBe(before); // ignored
    // a leader of a later term that knows earlier terms' entries committed, not one of its own
    const later = ledByA();
    later.restart(C); // C forgets A, so it grants B's pre-vote
    later.event(B, { type: 'ElectionTimeout' });
    settle(later, (m) => m.src !== A && m.dst !== A && m.type !== 'AppendEntriesResponse');
    expect([later.role(B), later.state(B).currentTerm, later.state(B).commitIndex])
      .toEqual(['Leader', 2, 1]);
    const mine = lastLogIndex(later.state(B).log);
    later.event(B, { type: 'ChangeConfig', change: 'remove', id: A });
    expect(lastLogIndex(later.state(B).log)).toBe(mine); // its no-op is not committed yet
    later.event(B, { type: 'Replicate', to: [C] });
    settle(later, (m) => m.src !== A && m.dst !== A);
    expect(later.state(B).commitIndex).toBe(2);
    later.event(B, { type: 'ChangeConfig', change: 'remove', id: A });
    expect(config(later, B)).toBe('0001,0002');
    const led = ledByA();
    led.event(A, { type: 'ChangeConfig', change: 'remove', id: C });
    expect(config(led, A)).toBe('0000,0001'); // counts at once, uncommitted
    const n = lastLogIndex(led.state(A).log);
    led.event(A, { type: 'ChangeConfig', change: 'addLearner', id: C });
    expect(lastLogIndex(led.state(A).log)).toBe(n); // one change at a time
  });

  it('a removed server gets nothing more, a learner gets the log but is never counted, and ' +
    'a promoted learner counts again', () => {
    const c = ledByA();
    c.event(A, { type: 'ChangeConfig', change: 'remove', id: C });
    c.event(A, { type: 'Replicate', to: [B] });
    settle(c);
    expect(c.state(A).commitIndex).toBe(2); // A and B: both voters of {A, B}
    c.event(A, { type: 'Replicate', to: [B] });
    c.event(A, { type: 'Flush' });
    expect([...c.bag.values()].some((f) => f.message.dst === C)).toBe(false);
    c.event(A, { type: 'ChangeConfig', change: 'addLearner', id: C });
    expect(config(c, A)).toBe('0000,0001 +0002');
    // only C acknowledges: a learner's acknowledgement commits nothing
    c.event(A, { type: 'Replicate', to: [C] });
    settle(c);
    expect(c.state(C).log.config).toEqual(c.state(A).log.config);
    expect(c.state(A).commitIndex).toBe(2);
    c.event(A, { type: 'Replicate', to: [B] });
    settle(c);
    expect(c.state(A).commitIndex).toBe(3);
    // a learner never campaigns: its timer fires without a word
    const sent = c.bag.size;
    for (let t = 0; t < 60; t++) c.event(C, { type: 'Tick' });
    c.event(C, { type: 'ElectionTimeout' });
    expect(c.role(C)).toBe('Follower');
    expect(c.bag.size).toBe(sent);
    c.event(A, { type: 'ChangeConfig', change: 'promote', id: C });
    expect(config(c, A)).toBe('0000,0001,0002');
  });

  it('a candidate counts only voters\' votes: a learner\'s grant does not elect it, a ' +
    'voter\'s does', () => {
    const c = learnerC();
    expect(config(c, B)).toBe('0000,0001 +0002');
    // A is gone: B campaigns; only the learner C answers
    const towardC = (m: PeerMessage): boolean => m.src === C || m.dst === C;
    c.event(B, { type: 'ElectionTimeout' });
    settle(c, towardC);
    expect(c.role(B)).toBe('PreCandidate'); // it asked voters only: C was not asked
    expect([...c.state(B).votesGranted]).toEqual([B]);
    // a grant from the learner anyway (a stale or forged one) is not counted; nor in a real
    // election: B a candidate (A's pre-vote), then only C's vote arrives; then A's
    const term = c.state(B).currentTerm + 1;
    const grant = (type: 'PreVoteResponse' | 'RequestVoteResponse', src: NodeId): string => {
      c.event(B, { type, src, dst: B, leader: B, term, voteGranted: true } as never);
      return c.role(B);
    };
    expect(grant('PreVoteResponse', C)).toBe('PreCandidate');
    expect([...c.state(B).votesGranted]).toEqual([B]);
    expect(grant('PreVoteResponse', A)).toBe('Candidate');
    expect(grant('RequestVoteResponse', C)).toBe('Candidate');
    expect(grant('RequestVoteResponse', A)).toBe('Leader');
  });

  it('[§6.4 §6.2] a learner\'s acknowledgement neither confirms a read nor keeps a leader in ' +
    'office', () => {
    const c = learnerC();
    expect(c.state(A).commitIndex).toBe(3);
    const gets = (): number => c.replies.filter((r) => r.type === 'ok' && r.MID === 'g1').length;
    c.event(A, { type: 'get', src: '00C0', dst: A, leader: A, MID: 'g1', key: 'k' } as never);
    c.event(A, { type: 'Replicate', to: [C] }); // the read's round, to the learner only
    settle(c);
    expect(gets()).toBe(0);
    c.event(A, { type: 'Replicate', to: [B] });
    settle(c);
    expect(gets()).toBe(1);
    // a CheckQuorum period in which only the learner answered: A steps down
    c.event(A, { type: 'CheckQuorum' });
    c.event(A, { type: 'Replicate', to: [C] });
    settle(c);
    c.event(A, { type: 'CheckQuorum' });
    expect(c.role(A)).toBe('Follower');
  });

  it('a truncated change reverts the configuration to the one before it', () => {
    const c = ledByA();
    c.event(A, { type: 'ChangeConfig', change: 'remove', id: C }); // in A's log only
    expect(config(c, A)).toBe('0000,0001');
    // B leads term 2 with C's vote (C forgot A in a restart), without the change
    c.restart(C);
    c.event(B, { type: 'ElectionTimeout' });
    settle(c, (m) => m.src !== A && m.dst !== A);
    expect(c.role(B)).toBe('Leader');
    // its log overwrites A's: the change is cut off, and A's configuration with it
    c.event(B, { type: 'Replicate', to: [A] });
    settle(c);
    expect(c.role(A)).toBe('Follower');
    expect(config(c, A)).toBe('0000,0001,0002');
    expect(c.state(A).log.config).toBeUndefined();
  });

  it('[D§4.2.2] a leader that removes itself leads until the change commits, without counting ' +
    'itself, then steps down and never campaigns', () => {
    const c = ledByA();
    c.event(A, { type: 'ChangeConfig', change: 'remove', id: A });
    c.event(A, { type: 'Replicate', to: [B] });
    settle(c, (m) => m.src !== C && m.dst !== C);
    expect(c.role(A)).toBe('Leader'); // B alone (and A, not counted) is no quorum of {B, C}
    expect(c.state(A).commitIndex).toBe(1);
    c.event(A, { type: 'Replicate', to: [C] });
    settle(c);
    expect(c.role(A)).toBe('Follower');
    expect(c.state(A).commitIndex).toBe(2);
    expect(c.state(A).currentTerm).toBe(1);
    c.event(A, { type: 'ElectionTimeout' });
    expect(c.role(A)).toBe('Follower');
  });

  it('[D§4.2.2] while its removal is uncommitted, a leader does not count itself for ' +
    'CheckQuorum either', () => {
    const c = ledByA();
    c.event(A, { type: 'ChangeConfig', change: 'remove', id: A });
    c.event(A, { type: 'CheckQuorum' }); // a new period
    c.event(A, { type: 'Replicate', to: [B] }); // only B answers in it
    settle(c, (m) => m.src !== C && m.dst !== C);
    c.event(A, { type: 'CheckQuorum' });
    expect(c.role(A)).toBe('Follower'); // B alone is no majority of the voters B and C
    const d = ledByA(); // the same period with A still a voter: A and B are a majority
    d.event(A, { type: 'CheckQuorum' });
    d.event(A, { type: 'Replicate', to: [B] });
    settle(d, (m) => m.src !== C && m.dst !== C);
    d.event(A, { type: 'CheckQuorum' });
    expect(d.role(A)).toBe('Leader');
  });
});
