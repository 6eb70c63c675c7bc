/**
 * Chaos scenarios: a seed becomes a whole scenario (cluster size, workload, drops, network delays
 * and duplicates, and a schedule of crashes, restarts and symmetric or one-way partitions). The
 * deterministic simulation runs thousands of them; each is an ordinary scenario, so a failing one
 * can be saved as JSON and replayed like any shipped scenario.
 */
import { Rng } from './rng.js';
import type { EventType, FaultEvent, Scenario } from './scenario.js';

/** Shapes of the run; the soak and CI mix them. */
export interface ChaosShape {
  /** Seconds of client traffic. */
  readonly lifetime: number;
  /** Client requests per second, on average. */
  readonly rate: number;
}

export const CHAOS_SHAPE: ChaosShape = { lifetime: 6, rate: 40 };

const DROPS = [0, 0, 0.02, 0.05, 0.15, 0.3] as const;

const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

/** Events that disturb the cluster, and the events that end a disturbance. */
const DISTURBANCES: readonly EventType[] = ['kill_leader', 'kill_non_leader', 'part_easy',
  'part_hard', 'part_oneway'];

/**
 * A fault schedule: up to five disturbances at random times, each partition healed and each crash
 * followed by a restart after a while (or not, when the draw says the replica stays down), so the
 * run sees leaders fall, partitions heal and replicas come back from their disks.
 */
function schedule(rng: Rng, lifetime: number): FaultEvent[] {
  const events: FaultEvent[] = [];
  const n = rng.int(6);
  let t = rng.float() * lifetime * 0.3;
  for (let i = 0; i < n && t < lifetime; i++) {
    const type = rng.pick(DISTURBANCES) as EventType;
    events.push({ type, time: round(t) });
    const hold = 0.2 + rng.float() * 2.5;
    const end = t + hold;
    if (end < lifetime) {
      if (type.startsWith('part_')) events.push({ type: 'part_end', time: round(end) });
      else if (rng.chance(0.8)) events.push({ type: 'restart', time: round(end) });
    }
    t = end + rng.float() * lifetime * 0.3;
  }
  return events.sort((a, b) => a.time - b.time);
}

/** The chaos scenario of `seed`. */
export function chaosScenario(seed: number, shape: ChaosShape = CHAOS_SHAPE): Scenario {
  const rng = Rng.stream(seed, 'chaos');
  const lifetime = shape.lifetime;
  const delayMax = rng.chance(0.5) ? 0 : rng.float() * 5;
  const tail = rng.chance(0.3);
  return {
    name: `chaos-${seed}`,
    description: 'a generated chaos scenario (src/fault/generate.ts)',
    lifetime,
    replicas: rng.chance(0.5) ? 3 : 5,
    requests: Math.max(1, Math.round(lifetime * shape.rate * (0.5 + rng.float()))),
    mix: round(0.1 + rng.float() * 0.6, 2),
    drops: rng.pick(DROPS) ?? 0,
    seed,
    start_wait: 2,
    end_wait: 20,
    clients: 1 + rng.int(6),
    keys: 4 + rng.int(20),
    thresholds: {},
    network: {
      delay_min_ms: 0,
      delay_max_ms: round(delayMax),
      tail_fraction: tail ? round(rng.float() * 0.1) : 0,
      tail_max_ms: tail ? round(rng.float() * 50) : 0,
      duplicates: rng.chance(0.4) ? round(rng.float() * 0.1) : 0,
    },
    events: schedule(rng, lifetime),
  };
}
