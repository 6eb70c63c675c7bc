/**
 * The leader's pacing policy (`src/core/pacing.ts`): which peers get an AppendEntriesRequest, and
 * when. Safety does not depend on it; the message count of a cluster does.
 */
import { describe, expect, it } from 'vitest';
import type { AppendEntriesRequest, NodeId, PeerMessage } from '../../src/wire/messages.js';
import { Cluster, type StepRecord } from '../../src/explorer/cluster.js';
import { lastLogIndex } from '../../src/core/log.js';

const CLIENT = '00C0' as NodeId;

/** Elect 0000 in a 5-server cluster by delivering everything. */
function elected5(config = {}): { c: Cluster; leader: NodeId } {
  const c = new Cluster(5, { heartbeatTicks: 5, electionTimeoutTicksMin: 50,
    electionTimeoutTicksMax: 60, ...config }, 1);
  const leader = c.ids[0] as NodeId;
  c.event(leader, { type: 'ElectionTimeout' });
  for (let i = 0; i < 8; i++) for (const k of c.inFlightKeys()) c.deliver(k);
  expect(c.role(leader)).toBe('Leader');
  expect(c.state(leader).commitIndex).toBe(1);
  return { c, leader };
}

const appendsIn = (r: StepRecord): AppendEntriesRequest[] => r.effects.flatMap((e) =>
  (e.type === 'send' && e.message.type === 'AppendEntriesRequest' ? [e.message] : []));

function put(c: Cluster, leader: NodeId, mid: string): StepRecord {
  c.event(leader, { type: 'put', src: CLIENT, dst: leader, leader, MID: mid, key: 'k',
    value: mid } as never);
  return c.event(leader, { type: 'Flush' });
}

function deliverAll(c: Cluster): void {
  for (let i = 0; i < 6; i++) for (const k of c.inFlightKeys()) c.deliver(k);
}

describe('[pacing] new entries go to just enough peers to commit them', () => {
  it('a flush sends to quorum - 1 peers, and the choice rotates over all of them', () => {
    const { c, leader } = elected5();
    const first = appendsIn(put(c, leader, 'p1')).map((m) => m.dst);
    expect(first).toHaveLength(2);
    deliverAll(c);
    expect(c.replies.map((r) => [r.MID, r.type])).toEqual([['p1', 'ok']]);
    const second = appendsIn(put(c, leader, 'p2')).map((m) => m.dst);
    expect(second).toHaveLength(2);
    expect(new Set([...first, ...second]).size).toBe(4); // every peer heard from the leader
    deliverAll(c);
    expect(c.replies.map((r) => [r.MID, r.type])).toEqual([['p1', 'ok'], ['p2', 'ok']]);
  });

  it('a request carries every entry its peer has not acknowledged, so a lost one is repaired', () => {
    const { c, leader } = elected5();
    put(c, leader, 'p1');
    for (const k of c.inFlightKeys()) c.drop(k); // p1's requests are lost
    const again = appendsIn(put(c, leader, 'p2'));
    expect(again.map((m) => m.entries.length)).toEqual([2, 2]); // p1 and p2 to the other peers
    deliverAll(c);
    expect(c.replies.map((r) => r.MID)).toEqual(['p1', 'p2']);
  });

  it('a peer that did not answer is passed over for the next flush', () => {
    const { c, leader } = elected5();
    const first = appendsIn(put(c, leader, 'p1')).map((m) => m.dst);
    for (const k of c.inFlightKeys()) {
      if (c.bag.get(k)?.message.dst === first[0]) c.drop(k); // one peer is silent
    }
    deliverAll(c);
    for (let i = 0; i < 2; i++) c.event(leader, { type: 'Tick' });
    const later = [put(c, leader, 'p2'), put(c, leader, 'p3')].flatMap(appendsIn).map((m) => m.dst);
    expect(later).not.toContain(first[0]);
  });
});

describe('[pacing] heartbeats go only to peers the leader has not sent to lately', () => {
  it('a Tick raises replicate for exactly the idle peers', () => {
    const { c, leader } = elected5();
    const sent: string[][] = [];
    for (let t = 0; t < 5; t++) {
      sent.push(appendsIn(c.event(leader, { type: 'Tick' })).map((m) => m.dst));
      if (t === 1) put(c, leader, 'p1');
      deliverAll(c);
    }
    // ticks 1-4 send nothing; at tick 5 the two peers p1 did not go to are due, and only they
    expect(sent.slice(0, 4).flat()).toEqual([]);
    expect(sent[4]).toHaveLength(2);
  });
});

describe('[pacing] catch-up', () => {
  /** 0004 misses p0..p4 (entries 2-6), then 0000 is re-elected in term 2 after a restart. */
  function lagging(catchUp = true): { c: Cluster; leader: NodeId; behind: NodeId } {
    const { c, leader } = elected5({ maxBatch: 2, catchUp });
    const behind = c.ids[4] as NodeId;
    const dropTo = (dst: NodeId): void => {
      for (const k of c.inFlightKeys()) if (c.bag.get(k)?.message.dst === dst) c.drop(k);
    };
    for (let i = 0; i < 5; i++) {
      put(c, leader, `p${i}`);
      dropTo(behind);
      deliverAll(c);
    }
    for (const k of c.inFlightKeys()) c.drop(k);
    c.event(leader, { type: 'Restart' });
    for (const id of c.ids.slice(1)) c.event(id, { type: 'ElectionTimeout' });
    for (const k of c.inFlightKeys()) c.drop(k);
    c.event(leader, { type: 'ElectionTimeout' });
    return { c, leader, behind };
  }

  it('a rejection is answered at once, and each acknowledged partial batch with the next one', () => {
    const { c, leader, behind } = lagging();
    let toBehind = 0;
    for (let i = 0; i < 30 && c.inFlightKeys().length > 0; i++) {
      for (const k of c.inFlightKeys()) {
        const m = c.bag.get(k)?.message;
        if (m?.type === 'AppendEntriesRequest' && m.dst === behind) toBehind++;
        c.deliver(k);
      }
    }
    expect(c.role(leader)).toBe('Leader');
    expect(c.state(behind).log).toEqual(c.state(leader).log); // 7 entries: 6 and the new no-op
    // the no-op (rejected), then 2-3, 4-5, 6-7: no heartbeat was needed
    expect(toBehind).toBe(4);
  });

  it('without catch-up (as in spec-to-code replay) the lagging peer waits for the next send', () => {
    const { c, behind } = lagging(false);
    for (let i = 0; i < 30 && c.inFlightKeys().length > 0; i++) {
      for (const k of c.inFlightKeys()) c.deliver(k);
    }
    expect(lastLogIndex(c.state(behind).log)).toBeLessThan(7);
  });
});
