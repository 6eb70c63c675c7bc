import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { decodeScenario, parseScenario, shortened,
  type Scenario } from '../../src/fault/scenario.js';

const valid = {
  lifetime: 30, replicas: 5, requests: 500, mix: 0.2, drops: 0.1, seed: 7, start_wait: 2,
  end_wait: 3, events: [{ type: 'part_hard', time: 8 }, { type: 'part_end', time: 14 }],
};

const problems = (u: unknown): string[] => {
  const r = decodeScenario(u);
  return E.isLeft(r) ? r.left : [];
};

const decoded = (u: unknown): Scenario => {
  const r = decodeScenario(u);
  if (E.isLeft(r)) throw new Error(r.left.join('; '));
  return r.right;
};

describe('[scenario] the scenario codec', () => {
  it('decodes a valid scenario and fills the defaults', () => {
    const s = decoded(valid);
    expect(s).toMatchObject({ ...valid, clients: 4, keys: 16, thresholds: {} });
    expect(s.name).toBeUndefined();
    const named = decoded({ ...valid, name: 'x', clients: 2, thresholds: { messages_max: 9 } });
    expect(named).toMatchObject({ name: 'x', clients: 2, thresholds: { messages_max: 9 } });
  });

  it('names the path of every bad field', () => {
    expect(problems({ ...valid, lifetime: 0, replicas: 2, mix: 1.5, seed: 0.5 })).toEqual([
      'lifetime: expected a number of seconds > 0, got 0',
      'replicas: expected an integer from 3 to 31, got 2',
      'mix: expected a number from 0 to 1, got 1.5',
      'seed: expected a safe integer, got 0.5',
    ]);
    expect(problems({ ...valid, events: [{ type: 'kill', time: 1 }, { type: 'part_end' }] }))
      .toEqual([
        'events.0.type: expected one of kill_leader, kill_non_leader, part_easy, part_hard, ' +
          'part_end, part_oneway, restart, got "kill"',
        'events.1.time: missing (expected a number of seconds >= 0)',
      ]);
    expect(problems({ ...valid, thresholds: { latency_median_ms_max: -1 } }))
      .toEqual(['thresholds.latency_median_ms_max: expected a number of seconds >= 0, got -1']);
    expect(problems({ ...valid, network: { delay_min_ms: 5, delay_max_ms: 2, duplicates: 2 } }))
      .toEqual(['network.duplicates: expected a number from 0 to 1, got 2']);
    expect(problems({ ...valid, network: { delay_min_ms: 5, delay_max_ms: 2 } }))
      .toEqual(['network.delay_min_ms: 5 is above delay_max_ms (2)']);
  });

  it('reports a missing field and rejects unknown fields at every depth', () => {
    const { end_wait: _, ...missing } = valid;
    expect(problems(missing)).toEqual(['end_wait: missing (expected a number of seconds >= 0)']);
    expect(problems({ ...valid, end_wiat: 3, events: [{ type: 'part_end', time: 1, x: 0 }],
      thresholds: { messages: 1 } })).toEqual([
      'events.0.x: unknown field, got 0',
      'thresholds.messages: unknown field, got 1',
      'end_wiat: unknown field, got 3',
    ]);
  });

  it('rejects non-objects, non-JSON, and events after the lifetime', () => {
    expect(problems([])).toEqual(['(top): expected an object, got an array of length 0']);
    const text = parseScenario('{"lifetime": ');
    expect(E.isLeft(text) && text.left[0]).toMatch(/^not JSON: /);
    expect(problems({ ...valid, events: [{ type: 'kill_leader', time: 31 }] }))
      .toEqual(['events.0.time: 31 s is after the lifetime (30 s)']);
  });

  it('shortened() scales event times, requests and count thresholds, not the waits', () => {
    const s = decoded({ ...valid, thresholds: { messages_max: 1000, latency_median_ms_max: 50 } });
    const short = shortened(s, 6);
    expect(short).toMatchObject({ lifetime: 6, requests: 100, start_wait: 2, end_wait: 3,
      thresholds: { messages_max: 200, latency_median_ms_max: 50 } });
    expect(short.events.map((e) => e.time)).toEqual([1.6, 2.8]);
    expect(E.isRight(decodeScenario(short))).toBe(true);
  });
});

describe('[scenario] the shipped scenario files', () => {
  const dir = 'src/fault/scenarios';
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

  it('include the ones the issue asks for', () => {
    for (const name of ['default', 'steady-read-heavy', 'steady-write-heavy', 'drops-05',
      'drops-10', 'drops-15', 'drops-30', 'kill-non-leader-1', 'kill-non-leader-2',
      'kill-leader-1', 'kill-leader-2', 'part-easy-1', 'part-easy-2', 'part-hard-1',
      'part-hard-2', 'combo-drops-part-hard-kill-leader', 'combo-drops30-kill-leader']) {
      expect(files).toContain(`${name}.json`);
    }
  });

  it.each(files)('%s decodes: 5 replicas, 30 s, 500 requests, its own name', (file) => {
    const r = parseScenario(readFileSync(join(dir, file), 'utf8'));
    if (E.isLeft(r)) throw new Error(r.left.join('; '));
    expect(r.right).toMatchObject({ name: file.replace(/\.json$/, ''), replicas: 5, lifetime: 30,
      requests: 500 });
    expect(r.right.start_wait).toBeGreaterThanOrEqual(1.5);
  });
});
