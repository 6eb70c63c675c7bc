/**
 * The spec verdict on exhaustive traces (`src/exhaustive/specTrace.ts`): a trace of the real
 * statechart, recorded as Quint steps, is accepted by `quint test` step for step; the same
 * recording of a broken machine is refused at the step where it parts from the spec, and accepted
 * up to it. (The CLI test shows the verdict on a searched trace, `cli.test.ts`.)
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { raftMachine, type RaftMachine } from '../../src/core/raft.js';
import { nextRandom } from '../../src/core/state.js';
import { quintAsync } from '../../src/conformance/quint.js';
import { quintModule } from '../../src/conformance/toQuint.js';
import { BOUNDS } from '../../src/exhaustive/main.js';
import { Model, type Bounds, type World } from '../../src/exhaustive/model.js';
import { recordSpecTrace, specParams, specVerdict } from '../../src/exhaustive/specTrace.js';
import { machineWith } from '../../src/mutants/catalog.js';
import { pickMove } from './walk.js';

/** The default bound with snapshots on, so that walks also compact and install snapshots. */
const bounds: Bounds = { ...BOUNDS['default'] as Bounds, snapshots: true, keys: 2 };

/**
 * A random walk within `bounds`, as move numbers; it ends at the first violation, if the machine
 * (a broken one) reaches one.
 */
function walk(seed: number, steps: number, machine: RaftMachine = raftMachine):
  { path: number[]; kinds: string[]; violation?: string } {
  const model = new Model(bounds, machine);
  let w: World = model.initial();
  let rng = seed;
  const path: number[] = [];
  const kinds: string[] = [];
  for (let tries = 0; path.length < steps && tries < steps * 20; tries++) {
    const [r, next] = nextRandom(rng);
    rng = next;
    const moves = model.moves(w);
    const m = pickMove(moves, Math.floor(r * 1e9));
    if (m === undefined) break;
    const out = model.apply(w, m);
    if (out === undefined) continue; // leaves the bounds: not a move of this search
    path.push(moves.indexOf(m));
    kinds.push(m.kind);
    if (out.violation !== undefined) return { path, kinds, violation: out.violation.invariant };
    w = out.world;
  }
  return { path, kinds };
}

describe('[exhaustive] the spec verdict on a trace', () => {
  it('quint test accepts a walk of the real statechart, step for step: elections, client ' +
    'requests, retries and answers, persists, drops, duplicates, a crash, snapshots and their ' +
    'install', async () => {
    // the first walk that reaches what a verdict has to render right, not only elections: a
    // register, a put, a retry, and these spec actions
    const wanted = ['clientRequest', 'persist', 'handleAppendEntriesResponse', 'restart',
      'dropMessage', 'duplicateMessage', 'takeSnapshot', 'handleInstallSnapshotRequest'];
    const tried = Array.from({ length: 400 }, (_, k) => k + 3).map((seed) => {
      const w = walk(seed, 60);
      if (w.violation !== undefined || !['retry', 'register', 'put'].every((k) => w.kinds.includes(k))) {
        return { w, trace: undefined, kinds: [] as string[] };
      }
      const trace = recordSpecTrace(bounds, raftMachine, w.path);
      const calls = trace.steps.flatMap((s) => s.calls).map((c) => c.replace(/\(.*/s, ''));
      return { w, trace, kinds: [...new Set(calls)].sort() };
    });
    expect(tried.every((t) => t.w.violation === undefined)).toBe(true);
    const chosen = tried.find((t) => t.trace !== undefined
      && wanted.every((k) => t.kinds.includes(k)));
    expect(chosen).toBeDefined();
    const { trace, kinds } = chosen as { trace: ReturnType<typeof recordSpecTrace>; kinds: string[] };
    console.log(`[spec verdict] ${trace.steps.length} spec steps of ${kinds.length} kinds: ` +
      kinds.join(', '));
    expect(trace.steps.some((s) => s.replies.some((r) => r.length > 0))).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'raftkv-verdict-test-'));
    const file = join(dir, 'walk.qnt');
    writeFileSync(file, quintModule('walk', relative(dir, resolve('spec/raft')), [trace.steps],
      specParams(new Model(bounds, raftMachine))));
    const r = await quintAsync(['test', '--backend=typescript', file], 600_000);
    expect(r.code, r.out.slice(-3000)).toBe(0);
    expect(r.out).toMatch(/1 passing/);
  }, 600_000);

  it('names the step where a broken machine parts from the spec, and accepts the trace up to it',
    async () => {
      // walks of a machine that grants votes without the up-to-date check, until one ends in a
      // violation: the vote it granted against a more up-to-date log is where the spec refuses it
      const machine = machineWith(['voteWithoutUpToDateCheck']);
      const found = Array.from({ length: 600 }, (_, seed) => walk(seed, 60, machine))
        .find((x) => x.violation !== undefined);
      expect(found).toBeDefined();
      const broken = await specVerdict(bounds, machine, found?.path ?? []);
      console.log(`[spec verdict] broken: step ${broken.refused?.move}: ${broken.refused?.how}`);
      expect(broken.refused?.prefixAccepted, broken.error).toBe(true);
      expect(broken.refused?.calls.join(' ')).toMatch(/^handle(PreVote|RequestVote)Request\(/);
    }, 600_000);
});
