import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../src/fault/checkers.js';
import { History } from '../../src/fault/history.js';
import { foldLeaderFlaps, formatReport, reportJson, summarizeLatency, verdict,
  type Report } from '../../src/fault/report.js';
import type { Scenario } from '../../src/fault/scenario.js';

const scenario: Scenario = { name: 'unit', lifetime: 30, replicas: 5, requests: 4, mix: 0.5,
  drops: 0.1, seed: 3, start_wait: 2, end_wait: 3, events: [], clients: 4, keys: 16,
  thresholds: {}, network: {} };

function report(over: Partial<Report['clients']> = {}, rest: Partial<Report> = {}): Report {
  const check = checkHistory(new History());
  return {
    scenario, tool: 'netsim', replicaCommand: 'node dist/cli.js replica',
    rerun: 'node dist/cli.js netsim x --seed 3',
    endMs: 33_000, leaders: [[-800, '0001'], [8_000, 'none'], [9_500, '0003']],
    network: { messages: 1000, delivered: 900, dropped: 100, partitioned: 0, toDead: 0,
      beforeHello: 0, fromDead: 0, duplicated: 0 },
    clients: { planned: 4, ops: 4, gets: 2, puts: 2, attempts: 5, getsAnswered: 2,
      putsAnswered: 2, redirects: 1, failures: 0, duplicates: 0, incorrect: 0, unanswered: 0,
      abandoned: 0, unsent: 0, ...over },
    latency: { count: 4, meanMs: 12, medianMs: 10, p99Ms: 40 },
    events: [{ type: 'kill_leader', plannedMs: 8000, firedMs: 8001,
      action: { kind: 'kill', id: '0001' } }],
    check, incorrect: [], killed: ['0001'], deaths: [], errors: [], errorCount: 0,
    ...rest,
  };
}

describe('[report] the verdict', () => {
  it('passes a clean run', () => {
    expect(verdict(report(), scenario)).toEqual([]);
  });

  it('fails on incorrect or duplicate answers, deaths, protocol errors', () => {
    const r = report({ incorrect: 1, duplicates: 2 }, { deaths: [{ id: '0002', atMs: 5,
      how: 'exit code 1' }], errors: ['bad'], errorCount: 1 });
    expect(verdict(r, scenario)).toEqual([
      { kind: 'correctness', text: '1 incorrect answers' },
      { kind: 'correctness', text: '2 duplicate answers' },
      { kind: 'correctness', text: 'replica 0002 died unexpectedly (exit code 1)' },
      { kind: 'correctness', text: '1 protocol errors, first: bad' },
    ]);
  });

  it('fails on availability when fewer than half of the gets or of the puts are answered', () => {
    expect(verdict(report({ gets: 10, getsAnswered: 5 }), scenario)).toEqual([]);
    expect(verdict(report({ gets: 10, getsAnswered: 4, puts: 3, putsAnswered: 1 }), scenario))
      .toEqual([{ kind: 'availability', text: 'only 4 of 10 gets answered' },
        { kind: 'availability', text: 'only 1 of 3 puts answered' }]);
  });

  it('reports every threshold missed, as thresholds', () => {
    const s: Scenario = { ...scenario, thresholds: { messages_max: 999, failures_max: 0,
      unanswered_max: 0, failures_plus_unanswered_max: 1, latency_median_ms_max: 9.5,
      duplicates_max: 0, redirects_max: 0 } };
    expect(verdict(report({ failures: 1, unanswered: 1 }), s)).toEqual([
      { kind: 'threshold', text: 'messages 1,000 > 999' },
      { kind: 'threshold', text: 'failures 1 > 0' },
      { kind: 'threshold', text: 'unanswered 1 > 0' },
      { kind: 'threshold', text: 'failures + unanswered 2 > 1' },
      { kind: 'threshold', text: 'median latency (ms) 10 > 9.5' },
      { kind: 'threshold', text: 'redirects 1 > 0' },
    ]);
    expect(verdict(report({}, { latency: undefined }), { ...scenario,
      thresholds: { latency_median_ms_max: 100 } })).toHaveLength(1);
  });
});

describe('[report] the text and JSON forms', () => {
  it('prints the seed, the rerun command, leaders, events and the verdict', () => {
    const text = formatReport(report(), verdict(report(), scenario));
    expect(text).toMatch(/seed 3/);
    expect(text).toMatch(/rerun: node dist\/cli\.js netsim x --seed 3/);
    expect(text).toMatch(/leaders +-0\.80 s 0001, 8\.00 s none, 9\.50 s 0003/);
    expect(text).toMatch(/events +8\.00 s kill_leader: killed 0001/);
    expect(text).toMatch(/verdict: PASS$/);
    expect(text.split('\n').every((line) => line.length <= 100)).toBe(true);
    expect(text.split('\n').length).toBeLessThan(30);
  });

  it('JSON carries the report and the verdict', () => {
    const reasons = verdict(report({ incorrect: 1 }), scenario);
    const json = JSON.parse(reportJson(report({ incorrect: 1 }), reasons)) as Record<string,
      unknown>;
    expect(json['verdict']).toEqual({ passed: false, reasons });
    expect(json['clients']).toMatchObject({ incorrect: 1 });
  });

  it('latency is taken from the first invoke to the ok, over ok operations only', () => {
    const h = new History();
    for (const [i, ms] of [10, 20, 30, 1000].entries()) {
      const op = h.invoke('00C0', 'put', 'k', `v${i}`, 100 * i);
      h.send(op.id, `m${i}`, '0000', 100 * i);
      h.complete(op.id, 100 * i + ms, undefined);
    }
    h.invoke('00C0', 'put', 'k', 'never', 0);
    expect(summarizeLatency(h)).toEqual({ count: 4, meanMs: 265, medianMs: 20, p99Ms: 1000 });
    expect(summarizeLatency(new History())).toBeUndefined();
  });
});

describe('[report] leader changes in the text', () => {
  it('fold flaps of a few ms into their last value, and repeats into one', () => {
    expect(foldLeaderFlaps([[0, '0001'], [2, 'none'], [3, '0001'], [500, 'none'], [520, '0002'],
      [530, 'none'], [531, '0002'], [900, '0002']])).toEqual([[3, '0001'], [531, '0002']]);
    expect(foldLeaderFlaps([])).toEqual([]);
  });
});
