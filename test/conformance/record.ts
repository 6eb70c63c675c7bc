/**
 * Record traces from the implementation: a random walk over the in-process cluster that offers
 * only what the spec's environment may do (its clients are sequential and retry unanswered
 * requests unchanged; put values are unique), recording after every step the spec action the
 * machine took and the abstract state it reached.
 */
import type { NodeId, PeerMessage } from '../../src/wire/messages.js';
import {
  abstractDurable, abstractMessage, abstractServer, clientRequestOf, type AbstractCmd,
} from '../../src/core/abstract.js';
import type { RaftEvent } from '../../src/core/machine.js';
import { nextRandom, type Bug } from '../../src/core/state.js';
import { Cluster, type StepRecord } from '../../src/sim/cluster.js';
import {
  quintCmd, quintDurable, quintMessage, quintServer, type RecordedStep,
} from './toQuint.js';

export const CLIENTS = ['00C0', '00C1'] as NodeId[];
export const KEYS = ['a', 'b'];

export interface RecordOptions {
  readonly seed: number;
  readonly steps: number;
  readonly maxBatch: number;
  readonly bugs?: readonly Bug[];
}

const str = JSON.stringify;

/** A bag of messages in Quint, in a deterministic order. */
function bagOf(bag: ReadonlyMap<string, { message: PeerMessage; count: number }>):
  [string, number][] {
  return [...bag.values()]
    .map((f): [string, number] => [quintMessage(abstractMessage(f.message)), f.count]).sort();
}

/**
 * The spec calls one event of the code made, from the machine's trace: the first with `args`
 * (the event's server or message), a `replicate` with the peers it went to.
 */
function callsOf(r: StepRecord, args: string): string[] {
  return r.effects.flatMap((e) => {
    if (e.type !== 'trace') return [];
    if (e.action === 'replicate') {
      return [`replicate(${str(r.server)}, Set(${(e.to ?? []).map((p) => str(p)).join(', ')}))`];
    }
    return [`${e.action}(${args})`];
  });
}

export class Recorder {
  readonly cluster: Cluster;
  readonly steps: RecordedStep[] = [];
  private rng: number;
  private nextValue = 1;
  private readonly lastCmd = new Map<NodeId, AbstractCmd>();
  private readonly answered = new Set<string>();
  /** The request (`client/seq`) each MID carried. */
  private readonly mids = new Map<string, string>();
  private n = 0;

  constructor(readonly opts: RecordOptions) {
    this.cluster = new Cluster(3, { trace: true, maxBatch: opts.maxBatch, bugs: opts.bugs ?? [],
      electionTimeoutTicksMin: 3, electionTimeoutTicksMax: 5, campaignRetryTicksMin: 3,
      campaignRetryTicksMax: 5, heartbeatTicks: 2, snapshotEntries: 3 }, opts.seed, 'explicit');
    this.rng = opts.seed >>> 0;
  }

  private random(): number {
    const [r, s] = nextRandom(this.rng);
    this.rng = s;
    return r;
  }

  private pickOf<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.random() * xs.length)] as T;
  }

  /**
   * Record a step that took spec action `call` (skip stutters: no spec action), with the state of
   * the one server it changed (the spec's actions change one server at most) and the network.
   */
  private record(calls: readonly string[], changed?: NodeId): void {
    if (calls.length === 0) return;
    const servers: Record<string, string> = {};
    const durable: Record<string, string> = {};
    if (changed !== undefined) {
      servers[changed] = quintServer(abstractServer(this.cluster.state(changed)));
      durable[changed] = quintDurable(abstractDurable(this.cluster.durable(changed)));
    }
    this.steps.push({ calls, servers, msgs: bagOf(this.cluster.bag), durable,
      outbox: this.outboxes() });
  }

  private outboxes(): Record<string, [string, number][]> {
    return Object.fromEntries(this.cluster.ids.map((id) => [id, bagOf(this.cluster.outbox(id))]));
  }

  /** A disk write of server `id` completes, if one is pending (the spec's `persist`). */
  persist(id: NodeId): void {
    if (!this.cluster.canPersist(id)) return;
    this.cluster.persist(id);
    this.record([`persist(${str(id)})`], id);
  }

  /** Server `id` crashes and restarts from its disk (the spec's `restart`). */
  restart(id: NodeId): void {
    const r = this.cluster.restart(id);
    this.record(callsOf(r, str(id)), id);
  }

  /** A server step: the spec call it made, from the machine's trace of spec actions. */
  private serverStep(id: NodeId, event: RaftEvent, args: string): void {
    const r: StepRecord = this.cluster.event(id, event);
    this.noteAnswers(id, r);
    this.record(callsOf(r, args), id);
  }

  /**
   * The spec records an `ok` for every put a leader applies and every get it answers from a read
   * round [§6.4]: the `ok` answers of a step after which the server leads. (A deposed leader
   * also answers its pending requests, which the spec's history leaves out.)
   */
  private noteAnswers(id: NodeId, r: StepRecord): void {
    if (this.cluster.state(id).role !== 'Leader') return;
    for (const e of r.effects) {
      if (e.type !== 'reply' || e.message.type !== 'ok') continue;
      const op = this.mids.get(e.message.MID);
      if (op !== undefined) this.answered.add(op);
    }
  }

  private clientRequest(id: NodeId): void {
    const client = this.pickOf(CLIENTS);
    const last = this.lastCmd.get(client);
    const isAnswered = last === undefined || this.answered.has(`${client}/${last.seq}`);
    let cmd: AbstractCmd;
    if (isAnswered) {
      const put = this.random() < 0.6;
      cmd = { kind: put ? 'put' : 'get', client, seq: (last?.seq ?? 0) + 1, key: this.pickOf(KEYS),
        value: put ? this.nextValue++ : 0 };
      this.lastCmd.set(client, cmd);
    } else {
      cmd = last;
    }
    this.mids.set(`m${this.n}`, `${cmd.client}/${cmd.seq}`);
    this.serverStep(id, clientRequestOf(cmd, id, `m${this.n}`), `${str(id)}, ${quintCmd(cmd)}`);
  }

  step(): void {
    this.n++;
    const keys = this.cluster.inFlightKeys();
    const id = this.pickOf(this.cluster.ids);
    const role = this.cluster.state(id).role;
    const r = this.random();
    if (keys.length > 0 && r < 0.5) {
      const key = this.pickOf(keys);
      const m = this.cluster.bag.get(key)?.message;
      if (m === undefined) return;
      const call = quintMessage(abstractMessage(m));
      if (r < 0.05) { this.cluster.drop(key); this.record([`dropMessage(${call})`]); return; }
      if (r < 0.08) { this.cluster.duplicate(key); this.record([`duplicateMessage(${call})`]); return; }
      this.deliver(key);
      return;
    }
    const arg = str(id);
    if (r < 0.58) this.serverStep(id, { type: 'Tick' }, arg);
    else if (r < 0.64) this.persist(id);
    else if (r < 0.7 && role === 'Leader') this.serverStep(id, this.replicateEvent(id), arg);
    else if (r < 0.7) this.serverStep(id, { type: 'ElectionTimeout' }, arg);
    else if (r < 0.74 && role === 'Leader') this.serverStep(id, { type: 'CheckQuorum' }, arg);
    else if (r < 0.77) this.restart(id);
    else if (r < 0.8) this.serverStep(id, { type: 'TakeSnapshot' }, arg);
    else this.clientRequest(id);
  }

  /** Replicate to a random non-empty set of peers, or flush as the shell does. */
  private replicateEvent(id: NodeId): RaftEvent {
    const peers = this.cluster.ids.filter((p) => p !== id);
    const to = peers.filter(() => this.random() < 0.5);
    return to.length === 0 ? { type: 'Flush' } : { type: 'Replicate', to };
  }

  /** Deliver one copy of a message in flight and record the spec action its receiver took. */
  deliver(key: string): void {
    const m = this.cluster.bag.get(key)?.message;
    if (m === undefined) return;
    const rec = this.cluster.deliver(key);
    if (rec === undefined) return;
    this.noteAnswers(m.dst, rec);
    this.record(callsOf(rec, quintMessage(abstractMessage(m))), m.dst);
  }

  /** Hand-written traces: each call is a recorded step. */
  script(): {
    event: (id: NodeId, event: RaftEvent) => void;
    persist: (id: NodeId) => void;
    restart: (id: NodeId) => void;
    /** Every pending disk write completes (a persist step for each server that has one). */
    settle: () => void;
    deliverWhere: (pred: (m: PeerMessage) => boolean) => void;
    dropAll: () => void;
  } {
    return {
      event: (id, event) => this.serverStep(id, event, str(id)),
      persist: (id) => this.persist(id),
      restart: (id) => this.restart(id),
      settle: () => { for (const id of this.cluster.ids) this.persist(id); },
      deliverWhere: (pred) => {
        for (const key of this.cluster.inFlightKeys()) {
          const m = this.cluster.bag.get(key)?.message;
          if (m !== undefined && pred(m)) this.deliver(key);
        }
      },
      dropAll: () => {
        for (const key of this.cluster.inFlightKeys()) {
          const m = this.cluster.bag.get(key)?.message;
          if (m === undefined) continue;
          this.cluster.drop(key);
          this.record([`dropMessage(${quintMessage(abstractMessage(m))})`]);
        }
      },
    };
  }

  /** The initial state as a Quint predicate over `servers` and `msgs`. */
  initial(): RecordedStep {
    const servers: Record<string, string> = {};
    for (const id of this.cluster.ids) servers[id] = quintServer(abstractServer(this.cluster.state(id)));
    const durable: Record<string, string> = {};
    for (const id of this.cluster.ids) {
      durable[id] = quintDurable(abstractDurable(this.cluster.durable(id)));
    }
    return { calls: ['init'], servers, msgs: [], durable, outbox: this.outboxes() };
  }

  run(): RecordedStep[] {
    while (this.steps.length < this.opts.steps && this.n < this.opts.steps * 20) this.step();
    return this.steps;
  }
}
