/**
 * The simulated network between replicas, as replica-udp.md routes it: which copies of a
 * replica's datagram are delivered, dropped or lost to a partition, how they are counted, and who
 * the leader is by the replicas' own `leader` fields. No sockets here: a driver asks `route` and
 * carries out the answer.
 */
import type { Rng } from './rng.js';
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
}

/** A change of leader: [ms, id], or [ms, 'none'] when no live leader is known. */
export type LeaderChange = readonly [number, string];

export class Network implements ClusterView {
  readonly counters: NetworkCounters = { messages: 0, delivered: 0, dropped: 0, partitioned: 0,
    toDead: 0, beforeHello: 0, fromDead: 0 };
  readonly leaders: LeaderChange[] = [];
  private readonly greeted = new Set<string>();
  private readonly dead = new Set<string>();
  /** The replica -> side (0: majority, 1: minority) while a partition lasts. */
  private sides: Map<string, 0 | 1> | undefined;
  private current: string | undefined;

  constructor(private readonly ids: readonly string[], private readonly drops: number,
    private readonly rng: Rng) {}

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
    return this.greeted.has(id) && !this.dead.has(id);
  }

  isDead(id: string): boolean {
    return this.dead.has(id);
  }

  hello(id: string): void {
    this.greeted.add(id);
  }

  /** A replica is dead from now on (killed or exited); there is no restart. */
  die(id: string, nowMs: number): void {
    this.dead.add(id);
    if (this.current === id) this.setLeader(undefined, nowMs);
  }

  partition(sides: readonly [readonly string[], readonly string[]]): void {
    this.sides = new Map([...sides[0].map((id) => [id, 0] as const),
      ...sides[1].map((id) => [id, 1] as const)]);
  }

  heal(): void {
    this.sides = undefined;
  }

  /**
   * The replicas to deliver a datagram from `src` to `dst` (a replica id or FFFF) to, counting
   * every copy. A broadcast reaches every other replica; each copy is dropped independently.
   */
  route(src: string, dst: string): string[] {
    const targets = dst === BROADCAST ? this.ids.filter((id) => id !== src) : [dst];
    const c = this.counters;
    const out: string[] = [];
    for (const to of targets) {
      c.messages++;
      if (this.dead.has(to)) c.toDead++;
      else if (!this.greeted.has(to)) c.beforeHello++;
      else if (this.sides !== undefined && this.sides.get(src) !== this.sides.get(to)) {
        c.partitioned++;
      } else if (this.drops > 0 && this.rng.chance(this.drops)) c.dropped++;
      else {
        c.delivered++;
        out.push(to);
      }
    }
    return out;
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
