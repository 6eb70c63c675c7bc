import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/fault/rng.js';
import { describeAction, majoritySize, resolveEvent, type ClusterView,
  type FaultAction } from '../../src/fault/schedule.js';
import { replicaIds } from '../../src/fault/workload.js';

const view = (n: number, leader: string | undefined, dead: string[] = []): ClusterView => ({
  all: () => replicaIds(n),
  live: () => replicaIds(n).filter((id) => !dead.includes(id)),
  leader: () => leader,
  dead: () => dead,
});

const sidesOf = (a: FaultAction): readonly [string[], string[]] => {
  if (a.kind !== 'partition') throw new Error(`expected a partition, got ${a.kind}`);
  return a.sides;
};

const SEEDS = Array.from({ length: 200 }, (_, i) => i);

describe('[schedule] fault events resolved against the cluster', () => {
  it('kill_leader aims at the leader, and does nothing (with a reason) when none is known', () => {
    expect(resolveEvent('kill_leader', view(5, '0003'), new Rng(1)))
      .toEqual({ kind: 'kill', id: '0003' });
    const none = resolveEvent('kill_leader', view(5, undefined), new Rng(1));
    expect(none).toEqual({ kind: 'none', reason: 'no leader known to kill' });
    expect(describeAction(none)).toBe('nothing: no leader known to kill');
  });

  it('kill_non_leader never picks the leader or a dead replica, and picks each other one', () => {
    const picked = new Set<string>();
    for (const seed of SEEDS) {
      const a = resolveEvent('kill_non_leader', view(5, '0002', ['0004']), new Rng(seed));
      if (a.kind !== 'kill') throw new Error(a.kind);
      picked.add(a.id);
    }
    expect([...picked].sort()).toEqual(['0000', '0001', '0003']);
    expect(resolveEvent('kill_non_leader', view(3, '0000', ['0001', '0002']), new Rng(1)).kind)
      .toBe('none');
  });

  it('part_easy keeps the leader in the majority, with live replicas before dead ones', () => {
    for (const seed of SEEDS) {
      const [majority, minority] = sidesOf(resolveEvent('part_easy', view(5, '0001', ['0004']),
        new Rng(seed)));
      expect(majority).toHaveLength(majoritySize(5));
      expect(majority).toContain('0001');
      expect(majority).not.toContain('0004');
      expect([...majority, ...minority].sort()).toEqual(replicaIds(5));
    }
  });

  it('part_hard splits into a random majority and minority; the leader lands in either', () => {
    const leaderSides = new Set<number>();
    for (const seed of SEEDS) {
      const [majority, minority] = sidesOf(resolveEvent('part_hard', view(5, '0001', ['0003']),
        new Rng(seed)));
      expect(majority).toHaveLength(3);
      expect(minority).toHaveLength(2);
      expect([...majority, ...minority].sort()).toEqual(replicaIds(5)); // the dead are placed too
      expect([...majority].sort()).toEqual(majority);
      leaderSides.add(majority.includes('0001') ? 0 : 1);
    }
    expect([...leaderSides].sort()).toEqual([0, 1]);
  });

  it('part_end heals', () => {
    expect(resolveEvent('part_end', view(5, '0001'), new Rng(1))).toEqual({ kind: 'heal' });
  });
});
