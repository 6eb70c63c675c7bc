/**
 * The workload of a run: which client asks what, and when. A pure function of the scenario and a
 * seeded stream, planned before the run starts, so that one seed gives one plan in every driver.
 */
import type { Rng } from './rng.js';
import type { Scenario } from './scenario.js';

export type OpKind = 'get' | 'put' | 'del' | 'cas' | 'list';

/**
 * Which requests a run's clients send: `protocol`, gets and puts (replica-udp.md, where an absent
 * key reads ""); `direct`, also deletes and compare-and-swaps, as direct mode's clients do (an
 * absent key has no value).
 */
export type KvMode = 'protocol' | 'direct';

export interface PlannedRequest {
  /** The operation's number: its index in the plan. */
  readonly op: number;
  /** When the client invokes it, in ms after clients start. */
  readonly atMs: number;
  readonly client: string;
  readonly kind: OpKind;
  readonly key: string;
  /** A put's or cas's value, unique in the run so that the checkers can tell writes apart. */
  readonly value?: string;
  /** A cas's expected value: `null` for "the key is absent". */
  readonly expected?: string | null;
  /** A list's page: its `key` is the prefix; it starts after `after` (none: from the first key). */
  readonly after?: string;
  readonly limit?: number;
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

/** In `direct` mode, the share of writes that are deletes, and that are compare-and-swaps. */
const DEL_SHARE = 0.2;
const CAS_SHARE = 0.25;
/**
 * In `direct` mode, the share of reads that are a page of a listing: of every key, or of the keys
 * that start with `k` and a digit; from the first key or after a random one; a few keys a page.
 */
const LIST_SHARE = 0.2;
const MAX_PAGE = 6;
/**
 * In `direct` mode, the share of writes whose value is large: past the simulator-routed protocol's
 * 1,024 characters, up to `LARGE_VALUE_MAX`, so that a few make a batch of entries outgrow a
 * datagram and a request weigh more than a small one.
 */
const LARGE_SHARE = 0.05;
const LARGE_VALUE_MIN = 2_000;
const LARGE_VALUE_MAX = 16_000;

/**
 * A direct-mode run spreads its requests over this many times the scenario's keys. Deletes make
 * "absent" a value many writes share, so those keys go to the exponential search rather than the
 * polynomial decider; fewer operations per key keep every key decidable within the bound.
 */
const DIRECT_KEY_SPREAD = 4;

/**
 * `requests` operations at uniform random times in [0, lifetime), in time order. A put writes a
 * random key; a get reads a key already written (mostly) or a random one. In `direct` mode a few
 * puts and compare-and-swaps write a large value, some writes are deletes, and some
 * compare-and-swaps that expect the value last planned for the key (or, half the time when there
 * is one, the key absent); `protocol` plans draw nothing more, so a seed plans what it always did.
 */
export function planWorkload(s: Scenario, rng: Rng, mode: KvMode = 'protocol'):
  PlannedRequest[] {
  const last = new Map<string, string>();
  const keys = mode === 'direct' ? s.keys * DIRECT_KEY_SPREAD : s.keys;
  const lifetimeMs = s.lifetime * 1000;
  const times = Array.from({ length: s.requests }, () => rng.float() * lifetimeMs)
    .sort((a, b) => a - b);
  const clients = clientIds(s.clients);
  const written: string[] = [];
  const isWritten = new Set<string>();
  return times.map((atMs, op): PlannedRequest => {
    const client = rng.pick(clients) as string;
    if (rng.chance(s.mix)) {
      if (mode === 'direct' && rng.chance(LIST_SHARE)) {
        const prefix = rng.chance(0.5) ? '' : `k${rng.int(10)}`;
        const after = rng.chance(0.5) ? keyName(rng.int(keys)) : undefined;
        return { op, atMs, client, kind: 'list', key: prefix, limit: 1 + rng.int(MAX_PAGE),
          ...(after === undefined ? {} : { after }) };
      }
      const key = written.length > 0 && rng.chance(GET_WRITTEN_KEY)
        ? rng.pick(written) as string : keyName(rng.int(keys));
      return { op, atMs, client, kind: 'get', key };
    }
    const key = keyName(rng.int(keys));
    if (!isWritten.has(key)) {
      isWritten.add(key);
      written.push(key);
    }
    let value = `v${op}-${s.seed}`;
    if (mode === 'direct') {
      const r = rng.float();
      if (rng.chance(LARGE_SHARE)) {
        value += '-'.padEnd(LARGE_VALUE_MIN + rng.int(LARGE_VALUE_MAX - LARGE_VALUE_MIN), 'x');
      }
      if (r < DEL_SHARE) return { op, atMs, client, kind: 'del', key };
      if (r < DEL_SHARE + CAS_SHARE) {
        const before = last.get(key);
        const expected = before === undefined || rng.chance(0.5) ? null : before;
        last.set(key, value);
        return { op, atMs, client, kind: 'cas', key, value, expected };
      }
    }
    last.set(key, value);
    return { op, atMs, client, kind: 'put', key, value };
  });
}
