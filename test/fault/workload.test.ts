import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/fault/rng.js';
import type { Scenario } from '../../src/fault/scenario.js';
import { clientIds, planWorkload, replicaIds } from '../../src/fault/workload.js';

const scenario: Scenario = { lifetime: 30, replicas: 5, requests: 2000, mix: 0.3, drops: 0,
  seed: 5, start_wait: 2, end_wait: 3, events: [], clients: 4, keys: 16, thresholds: {},
  network: {} };

const plan = (s: Scenario, seed = s.seed) =>
  planWorkload({ ...s, seed }, Rng.stream(seed, 'workload'));

describe('[workload] the planned requests', () => {
  it('are a function of the seed: one seed gives one plan, another seed another', () => {
    expect(plan(scenario)).toEqual(plan(scenario));
    expect(plan(scenario, 6)).not.toEqual(plan(scenario));
  });

  it('are in time order within [0, lifetime), numbered in order', () => {
    const p = plan(scenario);
    expect(p).toHaveLength(2000);
    expect(p.map((r) => r.op)).toEqual(p.map((_, i) => i));
    for (const [i, r] of p.entries()) {
      expect(r.atMs).toBeGreaterThanOrEqual(i === 0 ? 0 : (p[i - 1]?.atMs ?? 0));
      expect(r.atMs).toBeLessThan(30_000);
    }
  });

  it('respect the mix, give every put a unique value, and use client ids no replica has', () => {
    const p = plan(scenario);
    const gets = p.filter((r) => r.kind === 'get').length;
    expect(gets / p.length).toBeGreaterThan(0.25);
    expect(gets / p.length).toBeLessThan(0.35);
    const values = p.flatMap((r) => (r.kind === 'put' ? [r.value] : []));
    expect(new Set(values).size).toBe(values.length);
    expect(values.every((v) => v !== undefined && v !== '')).toBe(true);
    const clients = new Set(p.map((r) => r.client));
    expect([...clients].sort()).toEqual(clientIds(4));
    expect(clientIds(64).some((c) => replicaIds(31).includes(c))).toBe(false);
    expect(clientIds(2)).toEqual(['00C0', '00C1']);
    expect(replicaIds(3)).toEqual(['0000', '0001', '0002']);
  });

  it('send most gets to keys an earlier put wrote', () => {
    const p = plan({ ...scenario, keys: 1000 });
    const written = new Set<string>();
    let hits = 0;
    let gets = 0;
    for (const r of p) {
      if (r.kind === 'put') written.add(r.key);
      else if (written.size > 0) {
        gets++;
        if (written.has(r.key)) hits++;
      }
    }
    expect(hits / gets).toBeGreaterThan(0.8);
  });
});

describe('[rng] the seeded streams', () => {
  it('replay exactly and differ between seeds and labels', () => {
    const draw = (r: Rng): number[] => Array.from({ length: 5 }, () => r.nextUint32());
    expect(draw(Rng.stream(1, 'a'))).toEqual(draw(Rng.stream(1, 'a')));
    expect(draw(Rng.stream(1, 'a'))).not.toEqual(draw(Rng.stream(1, 'b')));
    expect(draw(Rng.stream(1, 'a'))).not.toEqual(draw(Rng.stream(2 ** 32 + 1, 'a')));
  });

  it('int, pick and shuffle stay in range', () => {
    const r = new Rng(3);
    for (let i = 0; i < 1000; i++) expect(r.int(7)).toBeLessThan(7);
    expect(r.pick([])).toBeUndefined();
    expect(r.shuffle([1, 2, 3, 4, 5]).sort()).toEqual([1, 2, 3, 4, 5]);
  });
});
