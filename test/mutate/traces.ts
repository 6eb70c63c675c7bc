/**
 * Spec traces for the mutation checks' replay, generated once per spec (`traces.setup.ts`) into a
 * directory named by a hash of the spec files and the runs, so that every mutant's run reads them
 * instead of running Quint again.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The instance's MaxBatch, as `test/conformance/specToCode.test.ts` replays it. */
export const MAX_BATCH = 2;

/** Both instances: five servers have quorums of three, where one extra vote is not a quorum. */
export const RUNS = [
  { seed: 21, traces: 30, steps: 40, step: 'step' },
  { seed: 22, traces: 30, steps: 70, step: 'stepSteered' },
  { seed: 23, traces: 30, steps: 70, step: 'stepSteered', instance: 'instance5' as const },
];

export function tracesDir(): string {
  const hash = createHash('sha256');
  for (const f of ['spec/raft.qnt', 'spec/instance.qnt', 'spec/instance5.qnt']) {
    hash.update(readFileSync(f));
  }
  hash.update(JSON.stringify(RUNS));
  return join(tmpdir(), `raftkv-mutate-itf-${hash.digest('hex').slice(0, 16)}`);
}
