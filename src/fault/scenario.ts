/**
 * A scenario file: the workload, the network's drop rate and the fault schedule of one run, as
 * JSON (`src/fault/scenarios/*.json`). Times are in seconds; event times count from the moment
 * clients start, as in replica-udp.md ("Fault events, in seconds after clients start").
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts/lib/index.js';
import { closedObject, describeErrors, refined, withDefault } from './codecs.js';
import { parseBoundedJson, type JsonLimits } from '../wire/json.js';

const isFiniteNumber = (u: unknown): u is number => typeof u === 'number' && Number.isFinite(u);

const Seconds = refined('Seconds', (u): u is number => isFiniteNumber(u) && u >= 0,
  'expected a number of seconds >= 0');
const PositiveSeconds = refined('PositiveSeconds', (u): u is number => isFiniteNumber(u) && u > 0,
  'expected a number of seconds > 0');
const Milliseconds = refined('Milliseconds', (u): u is number => isFiniteNumber(u) && u >= 0,
  'expected a number of ms >= 0');
const Fraction = refined('Fraction', (u): u is number => isFiniteNumber(u) && u >= 0 && u <= 1,
  'expected a number from 0 to 1');
const Count = refined('Count', (u): u is number => Number.isSafeInteger(u) && (u as number) >= 0,
  'expected an integer >= 0');
const SafeInt = refined('SafeInt', (u): u is number => Number.isSafeInteger(u),
  'expected a safe integer');

function intIn(min: number, max: number): t.Type<number, number, unknown> {
  return refined(`Int${min}to${max}`,
    (u): u is number => Number.isSafeInteger(u) && (u as number) >= min && (u as number) <= max,
    `expected an integer from ${min} to ${max}`);
}

/**
 * The events of replica-udp.md, and two more: `part_oneway` (one replica, the leader if one is
 * known, hears nobody while every replica still hears it; `part_end` ends it too) and `restart`
 * (every killed replica comes back from what it had synced to disk). A restart needs replicas with
 * durable storage: the in-process simulation has them; the network simulator refuses it.
 */
export const EVENT_TYPES = ['kill_leader', 'kill_non_leader', 'part_easy', 'part_hard',
  'part_end', 'part_oneway', 'restart'] as const;
export const EventType = t.keyof(
  { kill_leader: null, kill_non_leader: null, part_easy: null, part_hard: null, part_end: null,
    part_oneway: null, restart: null },
  `one of ${EVENT_TYPES.join(', ')}`,
);
export type EventType = t.TypeOf<typeof EventType>;

export const FaultEvent = closedObject('FaultEvent', { type: EventType, time: Seconds });
export type FaultEvent = t.TypeOf<typeof FaultEvent>;

/** Performance limits a run must meet; correctness is not a threshold, it is always required. */
export const Thresholds = closedObject('Thresholds', {}, {
  messages_max: Count,
  failures_max: Count,
  unanswered_max: Count,
  failures_plus_unanswered_max: Count,
  latency_median_ms_max: Seconds,
  duplicates_max: Count,
  redirects_max: Count,
});
export type Thresholds = t.TypeOf<typeof Thresholds>;

/** Replica ids are 0000..(N-1) in hex; clients start at 00C0, so 31 replicas leave room. */
export const MAX_REPLICAS = 31;
export const MAX_CLIENTS = 64;

/**
 * What the network does to a datagram besides dropping it: extra delay, uniform in
 * [delay_min_ms, delay_max_ms], plus with probability tail_fraction up to tail_max_ms more (so
 * datagrams overtake each other); and a second copy with probability `duplicates`.
 */
export const NetworkFaults = closedObject('NetworkFaults', {}, {
  delay_min_ms: Milliseconds,
  delay_max_ms: Milliseconds,
  tail_fraction: Fraction,
  tail_max_ms: Milliseconds,
  duplicates: Fraction,
});
export type NetworkFaults = t.TypeOf<typeof NetworkFaults>;

export const Scenario = closedObject('Scenario', {
  /** Seconds during which clients send requests. */
  lifetime: PositiveSeconds,
  replicas: intIn(3, MAX_REPLICAS),
  requests: intIn(1, 1_000_000),
  /** The fraction of requests that are gets. */
  mix: Fraction,
  /** The probability that one replica-to-replica datagram is dropped. */
  drops: Fraction,
  seed: SafeInt,
  /** Seconds between the last hello and the first request (the first election). */
  start_wait: Seconds,
  /** Seconds after the lifetime before the replicas are stopped (late answers still count). */
  end_wait: Seconds,
  events: t.array(FaultEvent),
  clients: withDefault(intIn(1, MAX_CLIENTS), 4),
  keys: withDefault(intIn(1, 100_000), 16),
  thresholds: withDefault(Thresholds, {}),
  network: withDefault(NetworkFaults, {}),
}, { name: t.string, description: t.string });
export type Scenario = t.TypeOf<typeof Scenario>;

/** Checks that span fields: every event falls inside the client phase. */
function crossFieldProblems(s: Scenario): string[] {
  const n = s.network;
  const delays = (n.delay_min_ms ?? 0) > (n.delay_max_ms ?? n.delay_min_ms ?? 0)
    ? [`network.delay_min_ms: ${n.delay_min_ms} is above delay_max_ms (${n.delay_max_ms})`] : [];
  return [...delays, ...s.events.flatMap((e, i) => (e.time > s.lifetime
    ? [`events.${i}.time: ${e.time} s is after the lifetime (${s.lifetime} s)`] : []))];
}

/** A decoded scenario, or one `path: reason` line per problem. */
export function decodeScenario(u: unknown): E.Either<string[], Scenario> {
  const decoded = Scenario.decode(u);
  if (E.isLeft(decoded)) return E.left(describeErrors(decoded.left));
  const problems = crossFieldProblems(decoded.right);
  return problems.length > 0 ? E.left(problems) : E.right(decoded.right);
}

/** A scenario file's shape: events nest 3 levels; a file far larger than any scenario is refused. */
export const SCENARIO_JSON: JsonLimits = { maxChars: 1 << 20, maxDepth: 8, maxMembers: 10_000 };

/** `decodeScenario` of JSON text (the driver reads the file). */
export function parseScenario(text: string): E.Either<string[], Scenario> {
  const parsed = parseBoundedJson(text, SCENARIO_JSON);
  return E.isLeft(parsed) ? E.left([parsed.left.detail]) : decodeScenario(parsed.right);
}

/** Thresholds on counts that grow with the length of a run. */
const SCALED_THRESHOLDS = ['messages_max', 'failures_max', 'unanswered_max',
  'failures_plus_unanswered_max', 'redirects_max'] as const;

/**
 * The scenario compressed to `lifetimeS` seconds (for short CI runs): event times and the request
 * count scale with it, so the request rate and the faults' place in the run stay the same. The
 * waits do not scale: elections take as long in a short run. Count thresholds scale up to whole
 * numbers; the latency threshold does not scale.
 */
export function shortened(s: Scenario, lifetimeS: number): Scenario {
  const f = lifetimeS / s.lifetime;
  const thresholds: Thresholds = { ...s.thresholds };
  for (const k of SCALED_THRESHOLDS) {
    const n = thresholds[k];
    if (n !== undefined) thresholds[k] = Math.ceil(n * f);
  }
  return {
    ...s,
    lifetime: lifetimeS,
    requests: Math.max(1, Math.round((s.requests * lifetimeS) / s.lifetime)),
    events: s.events.map((e) => ({ ...e, time: (e.time * lifetimeS) / s.lifetime })),
    thresholds,
  };
}
