/**
 * The fast checks a mutant of the core must pass (`npm run mutate`, `stryker.config.mjs`), besides
 * the core's unit tests. Each is one of our checkers at a small budget, and each passes the
 * correct core: the exhaustive search over the first states of two bounds, breadth first; the
 * steered explorer; deterministic simulations of the soak's mix (every safety property,
 * linearizability, liveness and convergence), and of the seeds `npm run reach` found to take the
 * core's rare paths; and the spec-to-code replay of Quint traces.
 * Stryker runs a mutant's tests quickest first and stops at the first that fails.
 *
 * Everything runs in this thread: the exhaustive search with no worker threads, because a mutant
 * is switched on in the test thread's globals only.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BOUNDS } from '../../src/exhaustive/main.js';
import { search } from '../../src/exhaustive/search.js';
import type { Bounds } from '../../src/exhaustive/model.js';
import { explore } from '../../src/explorer/explorer.js';
import { mixRun, shippedScenarios } from '../../src/detsim/mix.js';
import { simulate } from '../../src/detsim/simulation.js';
import type { ItfTrace } from '../conformance/itf.js';
import { replay } from '../conformance/replay.js';
import { MAX_BATCH, tracesDir } from './traces.js';

/** The seeds of `reach.json` (`npm run reach`), each once. */
function reachSeeds(): number[] {
  const corpus = JSON.parse(readFileSync('test/mutate/reach.json', 'utf8')) as
    Record<string, number[]>;
  return [...new Set(Object.values(corpus).flat())].sort((a, b) => a - b);
}

/** Distinct states each exhaustive check visits, breadth first (every state within some depth). */
const STATES = 1_500;

/**
 * Simulated runs of the soak's mix: one in four runs as direct mode (deletes, compare-and-swaps,
 * pages), one in ten on failing disks, so 40 seeds reach each several times.
 */
const SIM_SEEDS = 40;

/** Bounds the mix's ordinary load passes: most requests are refused, and the bounds must hold. */
const OVERLOADED = { maxWaitingRequests: 12, maxWaitingPerClient: 4, maxUncommittedEntries: 8,
  maxWaitingBytes: 64_000 };
/** A protocol seed and a direct one (`mixRun`: seed % 4 == 3 runs as direct mode). */
const OVERLOADED_SEEDS = [1, 3];

/** Client requests and a retry, a crash and two-entry logs: the CI bound has none of them. */
const CLIENTS: Bounds = { servers: 3, maxTerm: 2, maxLog: 2, clients: 2, retries: 1, keys: 1,
  copies: 1,
  maxInFlight: 3, crashes: 1, snapshots: false, maxBatch: 1, symmetry: true };

async function exhaustive(bounds: Bounds): Promise<void> {
  const r = await search({ bounds, bugs: [], workers: 0, maxStates: STATES, maxSeconds: 60 });
  expect(r.found?.violation, JSON.stringify(r.found)).toBeUndefined();
  expect(r.states).toBeGreaterThanOrEqual(STATES);
}

describe('[mutate] the checks a mutant must pass', () => {
  it('exhaustive: the first states of the CI bound', async () => {
    await exhaustive(BOUNDS['ci'] as Bounds);
  });

  it('exhaustive: the first states of a bound with clients, a crash and longer logs', async () => {
    await exhaustive(CLIENTS);
  });

  it('explorer: steered walks', () => {
    for (let seed = 1; seed <= 48; seed++) {
      const r = explore({ servers: 3, steps: 400, seed, steered: true, maxInFlight: 6,
        maxTerm: 6, maxBatch: 1 });
      expect(r.violation, `seed ${seed}`).toBeUndefined();
    }
  });

  it('simulation: the soak\'s mix', () => {
    const shipped = shippedScenarios();
    for (let seed = 1; seed <= SIM_SEEDS; seed++) {
      expect(simulate(mixRun(seed, shipped)).failures, `seed ${seed}`).toEqual([]);
    }
  });

  it('simulation: the same mix under small overload bounds, where ordinary load is a flood', () => {
    const shipped = shippedScenarios();
    for (const seed of OVERLOADED_SEEDS) {
      expect(simulate({ ...mixRun(seed, shipped), limits: OVERLOADED }).failures, `seed ${seed}`)
        .toEqual([]);
    }
  });

  it('simulation: seeds chosen because they reach the core\'s rare paths', () => {
    const shipped = shippedScenarios();
    for (const seed of reachSeeds()) {
      expect(simulate(mixRun(seed, shipped)).failures, `seed ${seed}`).toEqual([]);
    }
  });

  it('spec to code: Quint traces replay step by step', () => {
    const dir = tracesDir();
    const files = readdirSync(dir).filter((f) => f.endsWith('.itf.json')).sort();
    expect(files.length).toBeGreaterThanOrEqual(80);
    for (const f of files) {
      const r = replay(JSON.parse(readFileSync(join(dir, f), 'utf8')) as ItfTrace,
        { maxBatch: MAX_BATCH });
      expect(r.failure, `${f}: ${r.failure}`).toBeUndefined();
    }
  });
});
