import { describe, expect, it } from 'vitest';
import { Network } from '../../src/fault/network.js';
import { Rng } from '../../src/fault/rng.js';
import { replicaIds } from '../../src/fault/workload.js';

function net(drops = 0, greeted = replicaIds(5)): Network {
  const n = new Network(replicaIds(5), drops, new Rng(1));
  for (const id of greeted) n.hello(id);
  return n;
}

describe('[network] routing as replica-udp.md says', () => {
  it('a unicast is one message; a broadcast is N-1, dead receivers included, not delivered', () => {
    const n = net();
    expect(n.route('0000', '0001')).toEqual(['0001']);
    n.die('0004', 0);
    expect(n.route('0000', 'FFFF')).toEqual(['0001', '0002', '0003']);
    expect(n.counters).toMatchObject({ messages: 5, delivered: 4, toDead: 1 });
    expect(n.live()).toEqual(['0000', '0001', '0002', '0003']);
  });

  it('never delivers to a replica before its hello, but counts the message', () => {
    const n = net(0, ['0000', '0001']);
    expect(n.route('0000', 'FFFF')).toEqual(['0001']);
    expect(n.counters).toMatchObject({ messages: 4, delivered: 1, beforeHello: 3 });
  });

  it('a partition drops the copies that cross it, and healing restores them', () => {
    const n = net();
    n.partition([['0000', '0001', '0002'], ['0003', '0004']]);
    expect(n.route('0000', 'FFFF')).toEqual(['0001', '0002']);
    expect(n.route('0003', '0004')).toEqual(['0004']);
    expect(n.counters.partitioned).toBe(2);
    n.heal();
    expect(n.route('0000', '0004')).toEqual(['0004']);
  });

  it('drops each copy independently at the configured rate', () => {
    const n = net(0.3);
    for (let i = 0; i < 2500; i++) n.route('0000', 'FFFF');
    expect(n.counters.messages).toBe(10_000);
    expect(n.counters.dropped / 10_000).toBeGreaterThan(0.27);
    expect(n.counters.dropped / 10_000).toBeLessThan(0.33);
    expect(n.counters.dropped + n.counters.delivered).toBe(10_000);
  });
});

describe('[network] leader tracking from the leader fields', () => {
  it('records changes, FFFF as none, a dead leader as none', () => {
    const n = net();
    n.observeLeader('0001', 'FFFF', 1);
    n.observeLeader('0001', '0002', 2);
    n.observeLeader('0003', '0002', 3);
    expect(n.leader()).toBe('0002');
    n.die('0002', 4);
    expect(n.leader()).toBeUndefined();
    n.observeLeader('0001', '0002', 5); // a follower that has not noticed yet
    expect(n.leaders).toEqual([[2, '0002'], [4, 'none']]);
  });

  it('listens only to the majority side during a partition, and never to the dead', () => {
    const n = net();
    n.observeLeader('0000', '0000', 1);
    n.partition([['0002', '0003', '0004'], ['0000', '0001']]);
    n.observeLeader('0000', '0000', 2);
    n.observeLeader('0003', 'FFFF', 3);
    n.observeLeader('0004', '0004', 4);
    n.die('0001', 5);
    n.heal();
    n.observeLeader('0001', '0001', 6);
    expect(n.leaders).toEqual([[1, '0000'], [3, 'none'], [4, '0004']]);
  });

  it('a follower that has not heard of the leader yet does not unseat it; the leader can', () => {
    const n = net();
    n.observeLeader('0001', '0000', 1);
    n.observeLeader('0002', 'FFFF', 2); // learns of the election later
    n.observeLeader('0000', 'FFFF', 3); // the leader itself steps down
    expect(n.leaders).toEqual([[1, '0000'], [3, 'none']]);
  });
});
