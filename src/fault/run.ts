/**
 * One run of a scenario, whatever drives it: the network model, the clients, the fault schedule
 * and the history, fed with datagram text and the time, and acting through two effects (send to
 * an address, kill a replica). The network simulator drives it with sockets and the real clock;
 * an in-process simulation can drive it in virtual time.
 */
import * as E from 'fp-ts/lib/Either.js';
import { checkHistory, defaultCheckers, violationsOf, type Checker } from './checkers.js';
import { DEFAULT_MAX_SESSIONS } from '../core/state.js';
import { Clients, type RequestDatagram } from './client.js';
import { decodeEnvelope, decodeEnvelopeOf, decodeResponse, type Envelope } from './codecs.js';
import { History } from './history.js';
import { BROADCAST, Network } from './network.js';
import { MAX_LISTED, summarizeClients, summarizeLatency, type AppliedEvent, type Death,
  type Report } from './report.js';
import { Rng } from './rng.js';
import type { FaultEvent, Scenario } from './scenario.js';
import { resolveEvent } from './schedule.js';
import { clientIds, planWorkload, replicaIds, type KvMode, type PlannedRequest }
  from './workload.js';

/**
 * A datagram on its way: the parsed JSON value, and its text when it arrived as text. A socket
 * driver sends `text ?? JSON.stringify(value)`; an in-process driver hands `value` over as it is.
 */
export interface Payload {
  readonly value: unknown;
  readonly text?: string;
}

export interface RunEffects {
  /**
   * Send a datagram to the address a replica said hello from, `delayMs` later than the driver's
   * network would (0 unless the scenario's `network` asks for delays).
   */
  send(address: string, payload: Payload, delayMs: number): void;
  /** Crash a replica now (SIGKILL). */
  kill(id: string): void;
  /**
   * Restart a killed replica from what it synced to disk, at the same address. A driver whose
   * replicas keep no disk leaves this out, and refuses scenarios with `restart` events.
   */
  restart?(id: string): void;
  /**
   * Run `fn` at `atMs` on the driver's clock: direct mode's clients need it, to try again after
   * silence. A driver that leaves it out runs `direct` workloads without sessions.
   */
  schedule?(atMs: number, fn: () => void): void;
}

/** How long a direct-mode client waits for an answer before it tries again (as `client.ts`). */
export const SESSION_RETRY_MS = 300;

export type TimelineItem =
  | { readonly atMs: number; readonly kind: 'event'; readonly event: FaultEvent }
  | { readonly atMs: number; readonly kind: 'request'; readonly request: PlannedRequest };

/** Requests and events in time order, ms after clients start; an event goes first on a tie. */
export function buildTimeline(plan: readonly PlannedRequest[], events: readonly FaultEvent[]):
  TimelineItem[] {
  const items: TimelineItem[] = [
    ...events.map((event) => ({ atMs: event.time * 1000, kind: 'event' as const, event })),
    ...plan.map((request) => ({ atMs: request.atMs, kind: 'request' as const, request })),
  ];
  // Array.prototype.sort is stable: equal times keep events first, then plan order.
  return items.sort((a, b) => a.atMs - b.atMs);
}

export interface RunProgress {
  /** ms after clients start (negative: still starting). */
  readonly elapsedMs: number;
  readonly leader: string | undefined;
  readonly answered: number;
  readonly invoked: number;
  readonly total: number;
  readonly live: number;
}

export class FaultRun {
  readonly network: Network;
  readonly history = new History();
  readonly clients: Clients;
  readonly plan: readonly PlannedRequest[];
  private readonly timeline: readonly TimelineItem[];
  private readonly faultRng: Rng;
  private readonly addressOf = new Map<string, string>();
  private readonly idAt = new Map<string, string>();
  private readonly applied: AppliedEvent[] = [];
  private readonly killed: string[] = [];
  private readonly deaths: Death[] = [];
  private readonly errors: string[] = [];
  private errorCount = 0;
  private cursor = 0;
  private startMs: number | undefined;
  private stopped = false;

  /**
   * `checkers` judge the history at the end (a driver may bound the linearizability search);
   * `mode` says which requests the clients send (`direct`: deletes and cas too, in sessions when
   * the driver can `schedule`); `maxSessions` is the session table's bound the replicas keep.
   */
  constructor(readonly scenario: Scenario, private readonly effects: RunEffects,
    private readonly checkers: readonly Checker[] = defaultCheckers,
    readonly mode: KvMode = 'protocol', maxSessions = DEFAULT_MAX_SESSIONS) {
    const seed = scenario.seed;
    this.network = new Network(replicaIds(scenario.replicas), scenario.drops,
      Rng.stream(seed, 'drops'), scenario.network, Rng.stream(seed, 'delays'));
    this.plan = planWorkload(scenario, Rng.stream(seed, 'workload'), mode);
    this.timeline = buildTimeline(this.plan, scenario.events);
    this.faultRng = Rng.stream(seed, 'faults');
    const schedule = effects.schedule;
    this.clients = new Clients({ ids: clientIds(scenario.clients), view: this.network,
      rng: Rng.stream(seed, 'clients'), history: this.history,
      send: (m) => this.sendRequest(m),
      ...(mode === 'direct' && schedule !== undefined ? { sessions: { retryMs: SESSION_RETRY_MS,
        schedule: (atMs: number, fn: () => void) => schedule.call(effects, atMs, fn),
        maxSessions,
        error: (text: string) => this.error(text) } } : {}) });
  }

  /** Replicas that have not said hello yet. */
  missingHellos(): string[] {
    return this.network.all().filter((id) => !this.addressOf.has(id));
  }

  /** When clients start, on the driver's clock; undefined before `begin`. */
  get clientsStartMs(): number | undefined {
    return this.startMs;
  }

  /** When the run ends (lifetime and end_wait after clients start). */
  get endMs(): number | undefined {
    const s = this.scenario;
    return this.startMs === undefined ? undefined : this.startMs + (s.lifetime + s.end_wait) * 1000;
  }

  /** Every replica said hello: clients start `start_wait` from now. */
  begin(nowMs: number): void {
    this.startMs ??= nowMs + this.scenario.start_wait * 1000;
  }

  /** When `advance` has something to do next: a request, an event, or the end. */
  nextDueMs(): number | undefined {
    if (this.startMs === undefined) return undefined;
    const next = this.timeline[this.cursor];
    return next === undefined ? this.endMs : this.startMs + next.atMs;
  }

  isOver(nowMs: number): boolean {
    return this.endMs !== undefined && nowMs >= this.endMs;
  }

  /** Carry out every request and event due by now, in timeline order. */
  advance(nowMs: number): void {
    if (this.startMs === undefined || this.stopped) return;
    for (let item = this.timeline[this.cursor]; item !== undefined && this.startMs + item.atMs
      <= nowMs; item = this.timeline[++this.cursor]) {
      if (item.kind === 'request') this.clients.invoke(item.request, nowMs);
      else this.fire(item.event, nowMs);
    }
  }

  private fire(event: FaultEvent, nowMs: number): void {
    const action = resolveEvent(event.type, this.network, this.faultRng);
    if (action.kind === 'kill') {
      this.killed.push(action.id);
      this.network.die(action.id, nowMs);
      this.effects.kill(action.id);
    } else if (action.kind === 'partition') this.network.partition(action.sides);
    else if (action.kind === 'heal') this.network.heal();
    else if (action.kind === 'deafen') this.network.deafen(action.id);
    else if (action.kind === 'restart') {
      if (this.effects.restart === undefined) throw new Error('this driver cannot restart');
      for (const id of action.ids) {
        this.network.revive(id);
        this.effects.restart(id);
      }
    }
    this.applied.push({ type: event.type, plannedMs: event.time * 1000,
      firedMs: nowMs - (this.startMs ?? 0), action });
  }

  /**
   * The end of the faults, for a driver that checks recovery (as Jepsen heals before its final
   * reads): partitions end and every killed replica restarts. Recorded as events.
   */
  recover(nowMs: number): void {
    if (this.network.isPartitioned()) this.fire({ type: 'part_end', time: this.scenario.lifetime },
      nowMs);
    if (this.network.dead().length > 0 && this.effects.restart !== undefined) {
      this.fire({ type: 'restart', time: this.scenario.lifetime }, nowMs);
    }
  }

  /** A datagram that arrived from `address` (opaque to the run: "host:port" for UDP). */
  datagram(text: string, address: string, nowMs: number): void {
    if (this.stopped) return;
    const decoded = decodeEnvelope(text);
    const id = this.idAt.get(address);
    if (id === undefined) {
      this.firstDatagram(decoded, address);
      return;
    }
    this.fromReplica(id, decoded, { value: E.isRight(decoded) ? decoded.right.body : undefined,
      text }, nowMs);
  }

  /**
   * A datagram, already a JSON value, from the replica at `address`, which said hello before: the
   * in-process driver's way in (no text to encode and parse again).
   */
  parsedDatagram(value: unknown, address: string, nowMs: number): void {
    const id = this.idAt.get(address);
    if (this.stopped) return;
    if (id === undefined) return this.error(`datagram from ${address} before its hello`);
    this.fromReplica(id, decodeEnvelopeOf(value), { value }, nowMs);
  }

  private fromReplica(id: string, decoded: E.Either<string, { envelope: Envelope;
    body: Record<string, unknown> }>, payload: Payload, nowMs: number): void {
    if (this.network.isDead(id)) {
      this.network.counters.fromDead++;
      return;
    }
    if (E.isLeft(decoded)) return this.error(`${id} sent a bad datagram: ${decoded.left}`);
    const { envelope: e, body } = decoded.right;
    if (e.src !== id) return this.error(`${id}'s address sent a datagram with src ${e.src}`);
    if (e.leader !== BROADCAST && !this.network.isReplica(e.leader)) {
      return this.error(`${id} names ${e.leader} as leader, which is no replica`);
    }
    this.network.observeLeader(id, e.leader, nowMs);
    if (e.dst === BROADCAST || this.network.isReplica(e.dst)) {
      for (const { to, delayMs } of this.network.route(id, e.dst)) {
        this.effects.send(this.addressOf.get(to) as string, payload, delayMs);
      }
    } else if (this.clients.isClient(e.dst)) {
      const response = decodeResponse(body);
      if (E.isLeft(response)) this.error(`${id} sent a bad answer to ${e.dst}: ${response.left}`);
      // these clients write without sessions [§6.3]: none can have expired
      else if (response.right.type === 'expired' && !this.clients.hasSessions) {
        this.error(`${id} answered ${e.dst} expired, which holds no session`);
      } else this.clients.receive(response.right, nowMs);
    } else this.error(`${id} sent a ${e.type} to ${e.dst}, which is no replica or client`);
  }

  /** The first datagram from an address must be a replica's hello: it fixes that address. */
  private firstDatagram(decoded: E.Either<string, { envelope: Envelope }>, address: string): void {
    if (E.isLeft(decoded)) return this.error(`bad datagram from ${address}: ${decoded.left}`);
    const e = decoded.right.envelope;
    if (!this.network.isReplica(e.src)) {
      return this.error(`datagram from ${address} with src ${e.src}, which is no replica`);
    }
    if (this.addressOf.has(e.src)) {
      return this.error(`${e.src} sent from a second address ${address}; ignored`);
    }
    if (e.type !== 'hello' || e.dst !== BROADCAST || e.leader !== BROADCAST) {
      this.error(`${e.src}'s first datagram is not {"dst": "FFFF", "leader": "FFFF", ` +
        `"type": "hello"} but a ${e.type} to ${e.dst}`);
    }
    this.addressOf.set(e.src, address);
    this.idAt.set(address, e.src);
    this.network.hello(e.src);
  }

  private sendRequest(m: RequestDatagram): void {
    const address = this.addressOf.get(m.dst);
    // Clients pick live replicas only, and a live replica has said hello from an address.
    if (address === undefined) throw new Error(`request to ${m.dst}, which has no address`);
    this.effects.send(address, { value: m }, 0);
  }

  private error(text: string): void {
    this.errorCount++;
    if (this.errors.length < MAX_LISTED) this.errors.push(text);
  }

  /**
   * A replica process ended. Unless we killed it or the run is stopping, that fails the run:
   * returns true then.
   */
  exited(id: string, nowMs: number, how: string): boolean {
    if (this.stopped || this.killed.includes(id) || this.network.isDead(id)) return false;
    this.deaths.push({ id, atMs: nowMs - (this.startMs ?? nowMs), how });
    this.network.die(id, nowMs);
    return true;
  }

  /** No more routing; processes ending from now on are being stopped. */
  stop(): void {
    this.stopped = true;
  }

  progress(nowMs: number): RunProgress {
    const ops = this.history.operations;
    return { elapsedMs: nowMs - (this.startMs ?? nowMs), leader: this.network.leader(),
      answered: ops.filter((o) => o.status === 'ok').length, invoked: ops.length,
      total: this.plan.length, live: this.network.live().length };
  }

  report(nowMs: number, meta: { tool: Report['tool']; replicaCommand: string; rerun: string }):
    Report {
    const start = this.startMs ?? nowMs;
    const check = checkHistory(this.history, this.checkers);
    return {
      scenario: this.scenario,
      ...meta,
      endMs: nowMs - start,
      leaders: this.network.leaders.map(([t, id]) => [t - start, id] as const),
      network: { ...this.network.counters },
      clients: summarizeClients(this.history, this.plan.length, check),
      latency: summarizeLatency(this.history),
      events: [...this.applied],
      check,
      incorrect: violationsOf(check, 'incorrect').slice(0, MAX_LISTED),
      killed: [...this.killed],
      deaths: [...this.deaths],
      errors: [...this.errors],
      errorCount: this.errorCount,
    };
  }
}
