/**
 * Spec to code: traces of `spec/instance.qnt` from `quint run --mbt` are replayed into the
 * statecharts; every step must be enabled in the code and every server's abstract state and the
 * messages in flight must equal the spec's after it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ItfTrace } from './itf.js';
import { specTraces } from './quint.js';
import { replay } from './replay.js';

const MAX_BATCH = 2; // the instance's MaxBatch
const RUNS = [
  { seed: 11, traces: 110, steps: 40, step: 'step' },
  { seed: 12, traces: 110, steps: 70, step: 'stepSteered' },
  { seed: 13, traces: 50, steps: 40, step: 'step' },
  { seed: 14, traces: 50, steps: 70, step: 'stepSteered' },
];

describe('[conformance:spec→code] MBT traces replay into the statechart', () => {
  let traces: ItfTrace[] = [];

  beforeAll(async () => {
    const dir = await specTraces(RUNS);
    traces = readdirSync(dir).filter((f) => f.endsWith('.itf.json')).sort()
      .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as ItfTrace);
  }, 600_000);

  it('every step is enabled and every state equal, over 300+ traces of 30+ steps', () => {
    const actions = new Map<string, number>();
    const answers = new Map<string, number>();
    let steps = 0;
    for (const trace of traces) {
      const r = replay(trace, { maxBatch: MAX_BATCH });
      expect(r.failure, r.failure).toBeUndefined();
      steps += r.steps;
      for (const [a, n] of r.actions) actions.set(a, (actions.get(a) ?? 0) + n);
      for (const [a, n] of r.answers) answers.set(a, (answers.get(a) ?? 0) + n);
    }
    console.log(`[spec→code] ${traces.length} traces, ${steps} steps replayed; answers compared: ` +
      [...answers].sort().map(([a, n]) => `${a} ${n}`).join(', ') + '; actions: ' +
      [...actions].sort().map(([a, n]) => `${a} ${n}`).join(', '));
    for (const kind of ['ok', 'redirect', 'fail']) expect(answers.get(kind) ?? 0, kind).toBeGreaterThan(0);
    expect(traces.length).toBeGreaterThanOrEqual(300);
    expect(Math.min(...traces.map((t) => t.states.length - 1))).toBeGreaterThanOrEqual(30);
    for (const a of ['restart', 'dropMessage', 'duplicateMessage', 'clientRequest', 'checkQuorum',
      'handleAppendEntriesResponse', 'takeSnapshot', 'handleInstallSnapshotRequest',
      'leaderStale', 'changeConfig']) {
      expect(actions.get(a) ?? 0, a).toBeGreaterThan(0);
    }
  }, 120_000);

  it('catches a deliberately wrong guard: votes without the up-to-date check', () => {
    const failures = traces.map((t) => replay(t, { maxBatch: MAX_BATCH,
      bugs: ['voteWithoutUpToDateCheck'] })).filter((r) => r.failure !== undefined);
    console.log(`[spec→code] the wrong guard diverges from the spec in ${failures.length} of ` +
      `${traces.length} traces; first: ${failures[0]?.failure?.split('\n')[0]}`);
    expect(failures.length).toBeGreaterThan(0);
  }, 120_000);

  // Wrong answers: one MID answered twice; pending puts redirected although they may commit.
  for (const bug of ['answerTwice', 'redirectPendingOnStepDown'] as const) {
    it(`catches deliberately wrong answers: ${bug}`, () => {
      const failures = traces.map((t) => replay(t, { maxBatch: MAX_BATCH, bugs: [bug] }))
        .filter((r) => r.failure !== undefined);
      console.log(`[spec→code] ${bug} diverges from the spec in ${failures.length} of ` +
        `${traces.length} traces; first: ${failures[0]?.failure?.split('\n').slice(0, 2).join(' ')}`);
      expect(failures.length).toBeGreaterThan(0);
    }, 120_000);
  }

  it('catches a deliberately wrong install: a snapshot installed without its state machine', () => {
    const failures = traces.map((t) => replay(t, { maxBatch: MAX_BATCH,
      bugs: ['installSnapshotKeepsStateMachine'] })).filter((r) => r.failure !== undefined);
    console.log(`[spec→code] the wrong install diverges from the spec in ${failures.length} of ` +
      `${traces.length} traces; first: ${failures[0]?.failure?.split('\n').slice(0, 2).join(' ')}`);
    expect(failures.length).toBeGreaterThan(0);
  }, 120_000);
});
