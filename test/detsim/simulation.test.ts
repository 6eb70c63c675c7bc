import { describe, expect, it } from 'vitest';
import { chaosScenario } from '../../src/fault/generate.js';
import { reportJson } from '../../src/fault/report.js';
import { shortened, type Scenario } from '../../src/fault/scenario.js';
import { mixRun, mixScenario, shippedScenarios } from '../../src/detsim/mix.js';
import { simulate, type SimResult } from '../../src/detsim/simulation.js';

function traced(scenario: Scenario): { result: SimResult; trace: string; report: string } {
  const lines: string[] = [];
  const result = simulate({ scenario, trace: (l) => { lines.push(l); } });
  return { result, trace: lines.join('\n'), report: reportJson(result.report) };
}

describe('[simulation] one seed, one run', () => {
  it('replays a seed byte for byte: the same trace and the same report', () => {
    const s = chaosScenario(42, { lifetime: 3, rate: 40 });
    const a = traced(s);
    const b = traced(s);
    expect(a.trace.length).toBeGreaterThan(10_000);
    expect(b.trace).toBe(a.trace);
    expect(b.report).toBe(a.report);
    expect(b.result.steps).toBe(a.result.steps);
  });

  it('gives another run for another seed', () => {
    const a = traced(chaosScenario(42, { lifetime: 3, rate: 40 }));
    const b = traced({ ...chaosScenario(42, { lifetime: 3, rate: 40 }), seed: 43 });
    expect(b.trace).not.toBe(a.trace);
  });

  it('replays a seed with faults of every kind identically', () => {
    const s: Scenario = { ...chaosScenario(7, { lifetime: 3, rate: 40 }), drops: 0.1,
      network: { delay_min_ms: 0, delay_max_ms: 2, tail_fraction: 0.05, tail_max_ms: 20,
        duplicates: 0.05 },
      events: [{ type: 'kill_leader', time: 0.5 }, { type: 'part_oneway', time: 1 },
        { type: 'restart', time: 1.2 }, { type: 'part_end', time: 1.8 },
        { type: 'part_hard', time: 2 }, { type: 'part_end', time: 2.5 }] };
    const a = traced(s);
    expect(a.result.report.events.map((e) => e.action.kind)).toEqual(['kill', 'deafen', 'restart',
      'heal', 'partition', 'heal']);
    expect(traced(s).trace).toBe(a.trace);
    expect(a.result.failures).toEqual([]);
  });
});

describe('[simulation] the correct core passes the shared scenarios', () => {
  it('passes every shipped scenario, compressed to 5 s, and answers most requests', () => {
    for (const base of shippedScenarios()) {
      const s = { ...shortened(base, 5), end_wait: 8 };
      const r = simulate({ scenario: s });
      expect(r.failures, `${base.name}: ${r.failures.join('\n')}`).toEqual([]);
      const c = r.report.clients;
      expect(c.getsAnswered + c.putsAnswered, base.name).toBeGreaterThan(c.ops / 2);
      expect(c.duplicates + c.incorrect, base.name).toBe(0);
    }
  }, 120_000);

  it('runs the seed mix: chaos scenarios with a shipped one every fifth seed', () => {
    const shipped = shippedScenarios();
    expect(mixScenario(5, shipped).name).toBe(shipped[1]?.name);
    expect(mixScenario(6, shipped).name).toBe('chaos-6');
    expect(mixScenario(5, shipped).seed).toBe(5);
  });

  it('ends with recovery: partitions end and killed replicas restart from their disks', () => {
    const s: Scenario = { ...chaosScenario(3, { lifetime: 3, rate: 40 }), drops: 0,
      events: [{ type: 'kill_leader', time: 1 }, { type: 'part_easy', time: 2 }] };
    const r = simulate({ scenario: s });
    expect(r.failures).toEqual([]);
    const kinds = r.report.events.map((e) => `${e.type}:${e.action.kind}`);
    expect(kinds).toEqual(['kill_leader:kill', 'part_easy:partition', 'part_end:heal',
      'restart:restart']);
    // Group commit: writes issued during a sync share the next one (replica/groupCommit.ts).
    expect(r.syncs).toBeGreaterThan(0);
    expect(r.writesSynced).toBeGreaterThan(r.syncs);
  });

  it('[§7] snapshots and installs them through chunks on a lossy network, safely', () => {
    let taken = 0;
    let installed = 0;
    const shipped = shippedScenarios();
    for (let seed = 1; seed <= 40; seed++) {
      const r = simulate(mixRun(seed, shipped));
      expect(r.failures, `seed ${seed}`).toEqual([]);
      taken += r.snapshotsTaken;
      installed += r.snapshotsInstalled;
    }
    console.log(`[simulation] 40 seeds of the mix: ${taken} snapshots taken, ${installed} ` +
      'installed from chunks; safety (snapshotSafety too) after every step');
    expect(taken).toBeGreaterThan(50);
    expect(installed).toBeGreaterThan(5);
  }, 120_000);
});
