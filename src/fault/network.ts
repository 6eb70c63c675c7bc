/**
 * The simulated network between replicas, as replica-udp.md routes it: which copies of a
 * replica's datagram are delivered, dropped or lost to a partition, how they are counted, and who
 * the leader is by the replicas' own `leader` fields. No sockets here: a driver asks `route` and
 * carries out the answer.
 */
import type { Rng } from './rng.js';
import type { NetworkFaults } from './scenario.js';
import type { ClusterView } from './schedule.js';

export const BROADCAST = 'FFFF';

export interface NetworkCounters {
  /** Replica-to-replica messages, counted as the grader counts them (broadcast: N-1). */
  messages: number;
  delivered: number;
  /** Dropped at random at the scenario's rate. */
  dropped: number;
  /** Dropped because a partition separates sender and receiver. */
  partitioned: number;
  /** Counted, not delivered: the receiver is dead. */
  toDead: number;
  /** Counted, not delivered: the receiver has not said hello yet (it would count as dead). */
  beforeHello: number;
  /** Datagrams from replicas already dead, ignored. */
  fromDead: number;
  /** Extra copies the network made (scenario `network.duplicates`); not in `messages`. */
  duplicated: number;
}

/** One copy to deliver: to whom, and how much later than the network's own latency. */
export interface Delivery {
  readonly to: string;
  readonly delayMs: number;
}

/** A change of leader: [ms, id], or [ms, 'none'] when no live leader is known. */
export type LeaderChange = readonly [number, string];

export class Network implements ClusterView {
  readonly counters: NetworkCounters = { messages: 0, delivered: 0, dropped: 0, partitioned: 0,
    toDead: 0, beforeHello: 0, fromDead: 0, duplicated: 0 };
  readonly leaders: LeaderChange[] = [];
  private readonly greeted = new Set<string>();
  private readonly deadSet = new Set<string>();
  /** The replica -> side (0: majority, 1: minority) while a partition lasts. */
  private sides: Map<string, 0 | 1> | undefined;
  /** Replicas that hear nobody while a one-way partition lasts. */
  private readonly deaf = new Set<string>();
  private current: string | undefined;

  /**
   * `rng` decides drops; `delayRng` delays and duplicates (its own stream, so that a scenario
   * without them draws the same drops as before they existed).
   */
  constructor(private readonly ids: readonly string[], private readonly drops: number,
    private readonly rng: Rng, private readonly faults: NetworkFaults = {},
    private readonly delayRng?: Rng) {}

  all(): readonly string[] {
    return this.ids;
  }

  live(): readonly string[] {
    return this.ids.filter((id) => this.isLive(id));
  }

  leader(): string | undefined {
    return this.current;
  }

  isReplica(id: string): boolean {
    return this.ids.includes(id);
  }

  isLive(id: string): boolean {
    return this.greeted.has(id) && !this.deadSet.has(id);
  }

  isDead(id: string): boolean {
    return this.deadSet.has(id);
  }

  dead(): readonly string[] {
    return this.ids.filter((id) => this.deadSet.has(id));
  }

  hello(id: string): void {
    this.greeted.add(id);
  }

  /** A replica is dead from now on (killed or exited), until it restarts. */
  die(id: string, nowMs: number): void {
    this.deadSet.add(id);
    if (this.current === id) this.setLeader(undefined, nowMs);
  }

  /** A killed replica restarted (from its disk). */
  revive(id: string): void {
    this.deadSet.delete(id);
  }

  /** From now on `id` hears nobody, while everyone still hears it. */
  deafen(id: string): void {
    this.deaf.add(id);
  }

  partition(sides: readonly [readonly string[], readonly string[]]): void {
    this.sides = new Map([...sides[0].map((id) => [id, 0] as const),
      ...sides[1].map((id) => [id, 1] as const)]);
  }

  /** A two-way or one-way partition lasts. */
  isPartitioned(): boolean {
    return this.sides !== undefined || this.deaf.size > 0;
  }

  /** Ends every partition, two-way and one-way. */
  heal(): void {
    this.sides = undefined;
    this.deaf.clear();
  }

  /**
   * The copies to deliver of a datagram from `src` to `dst` (a replica id or FFFF), counting
   * every copy. A broadcast reaches every other replica; each copy is dropped independently, and
   * may be delayed or duplicated as the scenario's `network` says.
   */
  route(src: string, dst: string): Delivery[] {
    const targets = dst === BROADCAST ? this.ids.filter((id) => id !== src) : [dst];
    const c = this.counters;
    const out: Delivery[] = [];
    for (const to of targets) {
      c.messages++;
      if (this.deadSet.has(to)) c.toDead++;
      else if (!this.greeted.has(to)) c.beforeHello++;
      else if (this.cut(src, to)) c.partitioned++;
      else if (this.drops > 0 && this.rng.chance(this.drops)) c.dropped++;
      else {
        c.delivered++;
        out.push({ to, delayMs: this.delay() });
        if (this.delayRng !== undefined && this.delayRng.chance(this.faults.duplicates ?? 0)) {
          c.duplicated++;
          out.push({ to, delayMs: this.delay() });
        }
      }
    }
    return out;
  }

  private cut(src: string, to: string): boolean {
    return (this.sides !== undefined && this.sides.get(src) !== this.sides.get(to))
      || this.deaf.has(to);
  }

  private delay(): number {
    const f = this.faults;
    const rng = this.delayRng;
    if (rng === undefined) return 0;
    const min = f.delay_min_ms ?? 0;
    const max = f.delay_max_ms ?? min;
    const base = max > min ? min + rng.float() * (max - min) : min;
    const tail = (f.tail_fraction ?? 0) > 0 && rng.chance(f.tail_fraction ?? 0)
      ? rng.float() * (f.tail_max_ms ?? 0) : 0;
    return base + tail;
  }

  /**
   * The `leader` field of a live replica's datagram. During a partition only the majority side
   * speaks for the cluster. FFFF, or a replica known dead, means no leader (see below).
   */
  observeLeader(src: string, leader: string, nowMs: number): void {
    if (!this.isLive(src)) return;
    if (this.sides !== undefined && this.sides.get(src) !== 0) return;
    const named = leader === BROADCAST || !this.isLive(leader) ? undefined : leader;
    // A follower that has not yet heard from a new leader says FFFF while others already name
    // it; reading that as "no leader" made the tracker flap and a kill_leader find no target.
    // So while the current leader speaks for the cluster, only it can say that it no longer leads.
    const leaderSpeaks = this.current !== undefined
      && (this.sides === undefined || this.sides.get(this.current) === 0);
    if (named === undefined && leaderSpeaks && src !== this.current) return;
    if (named !== this.current) this.setLeader(named, nowMs);
  }

  private setLeader(id: string | undefined, nowMs: number): void {
    this.current = id;
    this.leaders.push([nowMs, id ?? 'none']);
  }
}
