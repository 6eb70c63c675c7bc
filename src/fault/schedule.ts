/**
 * Fault events resolved against the cluster as the simulator sees it at the moment they fire:
 * which replica a kill aims at, which replicas end up on each side of a partition.
 */
import type { Rng } from './rng.js';
import type { EventType } from './scenario.js';

/** What a driver knows of the cluster: every replica, the live ones, the leader they follow. */
export interface ClusterView {
  /** Every replica id, dead or alive, in id order. */
  all(): readonly string[];
  /** Replicas that said hello and have not died, in id order. */
  live(): readonly string[];
  /** The leader by the replicas' `leader` fields, if known and live. */
  leader(): string | undefined;
  /** Replicas killed (or exited) and not restarted, in id order. */
  dead(): readonly string[];
}

export type FaultAction =
  | { readonly kind: 'kill'; readonly id: string }
  /** `sides[0]` is the majority; both sides are in id order; every replica is on one side. */
  | { readonly kind: 'partition'; readonly sides: readonly [string[], string[]];
    readonly note?: string }
  | { readonly kind: 'heal' }
  /** `id` hears nobody; everyone still hears it. */
  | { readonly kind: 'deafen'; readonly id: string }
  | { readonly kind: 'restart'; readonly ids: readonly string[] }
  | { readonly kind: 'none'; readonly reason: string };

/** The smallest majority of n replicas (dead ones count: a quorum is of the configuration). */
export const majoritySize = (n: number): number => Math.floor(n / 2) + 1;

const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function split(all: readonly string[], majority: readonly string[]):
  { kind: 'partition'; sides: [string[], string[]] } {
  const inMajority = new Set(majority);
  return { kind: 'partition', sides: [[...majority].sort(byId),
    all.filter((id) => !inMajority.has(id))] };
}

/**
 * part_easy: the leader keeps a majority. The other seats on its side go to live replicas first,
 * so that the leader's side can still commit; dead replicas fill the rest.
 */
function partEasy(view: ClusterView, rng: Rng): FaultAction {
  const all = view.all();
  const leader = view.leader();
  const size = majoritySize(all.length);
  if (leader === undefined) {
    const action = split(all, rng.shuffle(all).slice(0, size));
    return { ...action, note: 'no leader known: a random majority' };
  }
  const live = new Set(view.live());
  const others = rng.shuffle(all.filter((id) => id !== leader));
  const ordered = [...others.filter((id) => live.has(id)), ...others.filter((id) => !live.has(id))];
  return split(all, [leader, ...ordered.slice(0, size - 1)]);
}

/** part_hard: a random majority of all replicas; the leader may end up in the minority. */
function partHard(view: ClusterView, rng: Rng): FaultAction {
  const all = view.all();
  return split(all, rng.shuffle(all).slice(0, majoritySize(all.length)));
}

/** The concrete action of one event, given the cluster now. */
export function resolveEvent(type: EventType, view: ClusterView, rng: Rng): FaultAction {
  switch (type) {
    case 'kill_leader': {
      const leader = view.leader();
      return leader === undefined ? { kind: 'none', reason: 'no leader known to kill' }
        : { kind: 'kill', id: leader };
    }
    case 'kill_non_leader': {
      const leader = view.leader();
      const id = rng.pick(view.live().filter((x) => x !== leader));
      return id === undefined ? { kind: 'none', reason: 'no live replica other than the leader' }
        : { kind: 'kill', id };
    }
    case 'part_easy':
      return partEasy(view, rng);
    case 'part_hard':
      return partHard(view, rng);
    case 'part_end':
      return { kind: 'heal' };
    case 'part_oneway': {
      const id = view.leader() ?? rng.pick(view.live());
      if (id === undefined) return { kind: 'none', reason: 'no live replica' };
      return { kind: 'deafen', id };
    }
    case 'restart': {
      const ids = view.dead();
      return ids.length === 0 ? { kind: 'none', reason: 'no replica to restart' }
        : { kind: 'restart', ids };
    }
  }
}

/** One line for a report. */
export function describeAction(a: FaultAction): string {
  switch (a.kind) {
    case 'kill':
      return `killed ${a.id}`;
    case 'partition':
      return `partition ${a.sides[0].join(' ')} | ${a.sides[1].join(' ')}` +
        (a.note === undefined ? '' : ` (${a.note})`);
    case 'heal':
      return 'partition healed';
    case 'deafen':
      return `${a.id} hears nobody (one-way partition)`;
    case 'restart':
      return `restarted ${a.ids.join(' ')}`;
    case 'none':
      return `nothing: ${a.reason}`;
  }
}
