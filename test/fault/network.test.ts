import { describe, expect, it } from 'vitest';
import { Network } from '../../src/fault/network.js';
import { Rng } from '../../src/fault/rng.js';
import type { NetworkFaults } from '../../src/fault/scenario.js';
import { replicaIds } from '../../src/fault/workload.js';

function net(drops = 0, greeted = replicaIds(5)): Network {
  const n = new Network(replicaIds(5), drops, new Rng(1));
  for (const id of greeted) n.hello(id);
  return n;
}

describe('[network] routing as replica-udp.md says', () => {
  it('a unicast is one message; a broadcast is N-1, dead receivers included, not delivered', () => {
    const n = net();
    expect(n.route('0000', '0001').map((d) => d.to)).toEqual(['0001']);
    n.die('0004', 0);
    expect(n.route('0000', 'FFFF').map((d) => d.to)).toEqual(['0001', '0002', '0003']);
    expect(n.counters).toMatchObject({ messages: 5, delivered: 4, toDead: 1 });
    expect(n.live()).toEqual(['0000', '0001', '0002', '0003']);
  });

  it('never delivers to a replica before its hello, but counts the message', () => {
    const n = net(0, ['0000', '0001']);
    expect(n.route('0000', 'FFFF').map((d) => d.to)).toEqual(['0001']);
    expect(n.counters).toMatchObject({ messages: 4, delivered: 1, beforeHello: 3 });
  });

  it('a partition drops the copies that cross it, and healing restores them', () => {
    const n = net();
    n.partition([['0000', '0001', '0002'], ['0003', '0004']]);
    expect(n.route('0000', 'FFFF').map((d) => d.to)).toEqual(['0001', '0002']);
    expect(n.route('0003', '0004').map((d) => d.to)).toEqual(['0004']);
    expect(n.counters.partitioned).toBe(2);
    n.heal();
    expect(n.route('0000', '0004').map((d) => d.to)).toEqual(['0004']);
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

describe('[network] delays, duplicates, one-way partitions, restarts', () => {
  const faulty = (faults: NetworkFaults): Network => {
    const n = new Network(replicaIds(5), 0, Rng.stream(1, 'drops'), faults,
      Rng.stream(1, 'delays'));
    for (const id of replicaIds(5)) n.hello(id);
    return n;
  };

  it('delays each copy within the configured bounds, the tail beyond them', () => {
    const n = faulty({ delay_min_ms: 1, delay_max_ms: 3, tail_fraction: 0.1, tail_max_ms: 50 });
    const delays = Array.from({ length: 2000 }, () => n.route('0000', '0001')[0]?.delayMs ?? -1);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(1);
    expect(delays.filter((d) => d <= 3).length / 2000).toBeGreaterThan(0.88);
    expect(Math.max(...delays)).toBeGreaterThan(20);
    expect(Math.max(...delays)).toBeLessThanOrEqual(53);
  });

  it('without a network block nothing is delayed or duplicated', () => {
    const n = new Network(replicaIds(3), 0, Rng.stream(1, 'drops'));
    for (const id of replicaIds(3)) n.hello(id);
    expect(n.route('0000', 'FFFF')).toEqual([{ to: '0001', delayMs: 0 },
      { to: '0002', delayMs: 0 }]);
  });

  it('duplicates copies at the configured rate, counted apart from messages', () => {
    const n = faulty({ duplicates: 0.2 });
    let copies = 0;
    for (let i = 0; i < 2000; i++) copies += n.route('0000', '0001').length;
    expect(n.counters.messages).toBe(2000);
    expect(copies).toBe(2000 + n.counters.duplicated);
    expect(n.counters.duplicated / 2000).toBeGreaterThan(0.17);
    expect(n.counters.duplicated / 2000).toBeLessThan(0.23);
  });

  it('a deaf replica hears nobody but is heard, until the partition ends', () => {
    const n = faulty({});
    n.deafen('0002');
    expect(n.route('0000', '0002')).toEqual([]);
    expect(n.route('0002', '0000').map((d) => d.to)).toEqual(['0000']);
    expect(n.counters.partitioned).toBe(1);
    n.heal();
    expect(n.route('0000', '0002').map((d) => d.to)).toEqual(['0002']);
  });

  it('a restarted replica is live again', () => {
    const n = faulty({});
    n.die('0003', 1);
    expect(n.dead()).toEqual(['0003']);
    expect(n.route('0000', '0003')).toEqual([]);
    n.revive('0003');
    expect(n.live()).toContain('0003');
    expect(n.route('0000', '0003').map((d) => d.to)).toEqual(['0003']);
  });
});
