/**
 * The scenario mix that CI and the soak run: one seed, one scenario. Four seeds in five get a
 * chaos scenario of their own (`generate.ts`); every fifth runs a shipped scenario (in turn),
 * compressed to the chaos lifetime, with that seed. Every scenario ends with the simulation's
 * recovery phase; `end_wait` leaves 20 s for a leader to commit its log after the faults end
 * (the run stops a second after it does, so the wait costs nothing when all is well). Under 30 %
 * drops, with five logs of different lengths, an election has taken 11.6 s (seed 6301).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chaosScenario, type ChaosShape } from '../fault/generate.js';
import { parseScenario, shortened, type Scenario } from '../fault/scenario.js';
import type { KvMode } from '../fault/workload.js';
import { SHIPPED_SCENARIOS, shippedScenarioNames } from '../shipped.js';

/** Short runs: thousands per CI job. */
export const MIX_SHAPE: ChaosShape = { lifetime: 3, rate: 40 };
export const MIX_END_WAIT_S = 20;

/** The shipped scenarios, in name order (`SHIPPED_SCENARIOS`). */
export function shippedScenarios(): Scenario[] {
  return shippedScenarioNames().map((name) => {
    const parsed = parseScenario(readFileSync(join(SHIPPED_SCENARIOS, `${name}.json`), 'utf8'));
    if (parsed._tag === 'Left') throw new Error(`${name}.json: ${parsed.left.join('; ')}`);
    return parsed.right;
  });
}

/**
 * One seed in ten also runs on failing disks: each write or fdatasync fails (EIO or ENOSPC) at
 * this chance, so a replica fails stop about once a run and its supervisor restarts it.
 */
export const MIX_DISK_FAIL_CHANCE = 0.002;

/**
 * What a mix seed runs: its scenario, whether its disks fail, and which requests its clients send.
 * One seed in four (seed % 4 == 3) runs as direct mode does: its clients also delete and
 * compare-and-swap, in sessions [§6.3], and an absent key has no value. Half of those
 * (seed % 8 == 7) keep a session table one smaller than the clients (at least one), so sessions
 * expire: a client that retries its register, or one of several, pushes another's out.
 */
export function mixRun(seed: number, shipped: readonly Scenario[]):
  { scenario: Scenario; diskFailChance: number; kv: KvMode; limits?: { maxSessions: number } } {
  const scenario = mixScenario(seed, shipped);
  return { scenario, diskFailChance: seed % 10 === 7 ? MIX_DISK_FAIL_CHANCE : 0,
    kv: seed % 4 === 3 ? 'direct' : 'protocol',
    ...(seed % 8 === 7 ? { limits: { maxSessions: Math.max(1, scenario.clients - 1) } } : {}) };
}

export function mixScenario(seed: number, shipped: readonly Scenario[]): Scenario {
  if (seed % 5 !== 0 || shipped.length === 0) return chaosScenario(seed, MIX_SHAPE);
  const base = shipped[Math.floor(seed / 5) % shipped.length] as Scenario;
  return { ...shortened(base, MIX_SHAPE.lifetime), seed, end_wait: MIX_END_WAIT_S };
}
