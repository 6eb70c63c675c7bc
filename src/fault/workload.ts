/**
 * The workload of a run: which client asks what, and when. A pure function of the scenario and a
 * seeded stream, planned before the run starts, so that one seed gives one plan in every driver.
 */
import type { Rng } from './rng.js';
import type { Scenario } from './scenario.js';

export type OpKind = 'get' | 'put';

export interface PlannedRequest {
  /** The operation's number: its index in the plan. */
  readonly op: number;
  /** When the client invokes it, in ms after clients start. */
  readonly atMs: number;
  readonly client: string;
  readonly kind: OpKind;
  readonly key: string;
  /** A put's value, unique in the run so that the checkers can tell puts apart. */
  readonly value?: string;
}

/** The first client id: far above any replica id (at most 31 replicas, 0000..001E). */
export const FIRST_CLIENT_ID = 0xc0;

const hex4 = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0');

/** Replica ids: 0000..(n-1) in upper-case hex, in id order. */
export function replicaIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => hex4(i));
}

export function clientIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => hex4(FIRST_CLIENT_ID + i));
}

export const keyName = (i: number): string => `k${i}`;

/** How often a get picks a key that some earlier put wrote, so that most reads see a value. */
const GET_WRITTEN_KEY = 0.9;

/**
 * `requests` operations at uniform random times in [0, lifetime), in time order. A put writes a
 * random key; a get reads a key already written (mostly) or a random one.
 */
export function planWorkload(s: Scenario, rng: Rng): PlannedRequest[] {
  const lifetimeMs = s.lifetime * 1000;
  const times = Array.from({ length: s.requests }, () => rng.float() * lifetimeMs)
    .sort((a, b) => a - b);
  const clients = clientIds(s.clients);
  const written: string[] = [];
  const isWritten = new Set<string>();
  return times.map((atMs, op): PlannedRequest => {
    const client = rng.pick(clients) as string;
    if (rng.chance(s.mix)) {
      const key = written.length > 0 && rng.chance(GET_WRITTEN_KEY)
        ? rng.pick(written) as string : keyName(rng.int(s.keys));
      return { op, atMs, client, kind: 'get', key };
    }
    const key = keyName(rng.int(s.keys));
    if (!isWritten.has(key)) {
      isWritten.add(key);
      written.push(key);
    }
    return { op, atMs, client, kind: 'put', key, value: `v${op}-${s.seed}` };
  });
}
