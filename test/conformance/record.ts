/**
 * Record traces from the implementation: a random walk over the in-process cluster that offers
 * only what the spec's environment may do (its clients are sequential and retry unanswered
 * requests unchanged; put values are unique), recording after every step the spec action the
 * machine took and the abstract state it reached.
 */
import type { NodeId, PeerMessage } from '../../src/wire/messages.js';
import {
  abstractDurable, abstractMessage, abstractServer, clientRequestOf, SPEC_CHANGE,
  type AbstractCmd,
} from '../../src/core/abstract.js';
import type { RaftEvent } from '../../src/core/machine.js';
import { bootstrapOf, nextRandom, replicaPeers, type Effect } from '../../src/core/state.js';
import { machineWith, type Bug } from '../../src/mutants/catalog.js';
import { Cluster, type StepRecord } from '../../src/explorer/cluster.js';
import {
  effectsPerCall, quintCmd, quintDurable, quintMessage, quintReplies, quintServer, specCalls,
  type RecordedStep,
} from '../../src/conformance/toQuint.js';

/**
 * Three clients and two sessions kept (the spec's instances keep one): registers expire the least
 * recently used, so a write that refreshes a session is traced too.
 */
export const CLIENTS = ['00C0', '00C1', '00C2'] as NodeId[];
export const KEYS = ['a', 'b'];
export const RECORDED_MAX_SESSIONS = 2;

/**
 * The overload bounds of the spec's instances (`MaxWaiting`, `MaxWaitingPerClient`,
 * `MaxUncommitted` in spec/instance.qnt; the static test checks they agree): small, so that
 * traces reach `fail` answers.
 */
export const OVERLOAD = { maxWaitingRequests: 3, maxWaitingPerClient: 2, maxUncommittedEntries: 4,
  maxSessions: 1 };

export interface RecordOptions {
  readonly seed: number;
  readonly steps: number;
  readonly maxBatch: number;
  readonly bugs?: readonly Bug[];
}

const str = JSON.stringify;

/**
 * The spec call's arguments for a server's event: the server, and for a configuration change
 * [D§4.1] the change as the spec's command (`changeConfig(s, c)`).
 */
function argsOf(id: NodeId, event: RaftEvent): string {
  if (event.type !== 'ChangeConfig') return str(id);
  const c: AbstractCmd = { kind: SPEC_CHANGE[event.change], client: '', session: 0, seq: 0,
    key: event.id, value: 0, expected: 0 };
  return `${str(id)}, ${quintCmd(c)}`;
}

/** A bag of messages in Quint, in a deterministic order. */
function bagOf(bag: ReadonlyMap<string, { message: PeerMessage; count: number }>):
  [string, number][] {
  return [...bag.values()]
    .map((f): [string, number] => [quintMessage(abstractMessage(f.message)), f.count]).sort();
}

export class Recorder {
  readonly cluster: Cluster;
  readonly steps: RecordedStep[] = [];
  private rng: number;
  private nextValue = 1;
  private readonly lastCmd = new Map<NodeId, AbstractCmd>();
  private readonly answered = new Set<string>();
  /** [§6.3] Each client's session (the spec's `sessionOf`): 0 for none. */
  private readonly sessions = new Map<NodeId, number>();
  /** The request each MID carried. */
  private readonly mids = new Map<string, AbstractCmd>();
  private n = 0;

  constructor(readonly opts: RecordOptions) {
    this.cluster = new Cluster(3, { trace: true, maxBatch: opts.maxBatch,
      electionTimeoutTicksMin: 6, electionTimeoutTicksMax: 10, campaignRetryTicksMin: 6,
      campaignRetryTicksMax: 10, heartbeatTicks: 2, snapshotEntries: 3, redirectFreshTicks: 2,
      ...OVERLOAD, maxSessions: RECORDED_MAX_SESSIONS }, opts.seed, 'explicit',
      machineWith(opts.bugs ?? []));
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
  private record(calls: readonly string[], changed?: NodeId, effects: readonly Effect[] = []):
    void {
    if (calls.length === 0) return;
    const servers: Record<string, string> = {};
    const durable: Record<string, string> = {};
    if (changed !== undefined) {
      servers[changed] = quintServer(abstractServer(this.cluster.state(changed), this.cluster.role(changed)));
      durable[changed] = quintDurable(abstractDurable(this.cluster.durable(changed),
        bootstrapOf(this.cluster.state(changed).config)));
    }
    const perCall = effectsPerCall(effects, calls.length);
    this.steps.push({ calls, servers, msgs: bagOf(this.cluster.bag), durable,
      outbox: this.outboxes(), replies: perCall.map((es) => this.answers(es)) });
  }

  /** The step's answers, in Quint, as the spec's `replies` bag. */
  private answers(effects: readonly Effect[]): [string, number][] {
    const cmdOf = (mid: string): AbstractCmd => {
      const cmd = this.mids.get(mid);
      if (cmd === undefined) throw new Error(`an answer to unknown MID ${mid}`);
      return cmd;
    };
    return quintReplies(effects, cmdOf);
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
    this.record(specCalls(r.effects, r.server, str(id)), id);
  }

  /** A server step: the spec call it made, from the machine's trace of spec actions. */
  private serverStep(id: NodeId, event: RaftEvent, args: string): void {
    const r: StepRecord = this.cluster.event(id, event);
    this.noteAnswers(r);
    this.record(specCalls(r.effects, r.server, args), id, r.effects);
  }

  /**
   * A client's request is answered once any server answered it `ok` or `expired`, or a write
   * without a session `fail` or `redirect` (the spec's `answered`); the first ok to a register
   * gives its client a session, which an `expired` ends (the spec's `sessionOf`).
   */
  private noteAnswers(r: StepRecord): void {
    for (const e of r.effects) {
      if (e.type !== 'reply') continue;
      const op = this.mids.get(e.message.MID);
      if (op === undefined) continue;
      // a write without a session answered fail or redirect was not done: its client moves on
      const sessionless = op.kind !== 'get' && op.kind !== 'register' && op.session === 0;
      if (e.message.type !== 'ok' && e.message.type !== 'expired'
        && !(sessionless && (e.message.type === 'fail' || e.message.type === 'redirect'))) continue;
      this.answered.add(`${op.client}/${op.seq}`);
      const client = op.client as NodeId;
      if (e.message.type === 'expired') this.sessions.set(client, 0);
      else if (e.message.type === 'ok' && op.kind === 'register'
        && (this.sessions.get(client) ?? 0) === 0) {
        this.sessions.set(client, e.message.session ?? 0);
      }
    }
  }

  private clientRequest(id: NodeId): void {
    const client = this.pickOf(CLIENTS);
    const last = this.lastCmd.get(client);
    const isAnswered = last === undefined || this.answered.has(`${client}/${last.seq}`);
    let cmd: AbstractCmd;
    const session = this.sessions.get(client) ?? 0;
    if (isAnswered && session === 0 && this.random() < 0.4) {
      // [§6.3] a client without a session may register (its ok gives it one)
      cmd = { kind: 'register', client, session: 0, seq: (last?.seq ?? 0) + 1, key: '',
        value: RECORDED_MAX_SESSIONS, expected: 0 };
      this.lastCmd.set(client, cmd);
    } else if (isAnswered) {
      // puts, gets, dels and cases (expecting the key absent, or the latest value written), in
      // the client's session if it has one
      const r = this.random();
      const kind = r < 0.45 ? 'put' : r < 0.7 ? 'get' : r < 0.85 ? 'del' : 'cas';
      const writes = kind === 'put' || kind === 'cas';
      cmd = { kind, client, session: kind === 'get' ? 0 : session, seq: (last?.seq ?? 0) + 1,
        key: this.pickOf(KEYS), value: writes ? this.nextValue : 0,
        expected: kind === 'cas' && this.random() < 0.5 ? this.nextValue - 1 : 0 };
      if (writes) this.nextValue++;
      this.lastCmd.set(client, cmd);
    } else if (last.kind === 'get' || last.kind === 'register' || last.session > 0) {
      cmd = last;
    } else {
      return; // a write without a session is never sent again: a second copy could apply twice
    }
    this.send(id, cmd);
  }

  private send(id: NodeId, cmd: AbstractCmd): void {
    this.n++;
    this.lastCmd.set(cmd.client as NodeId, cmd);
    this.mids.set(`m${this.n}`, cmd);
    this.serverStep(id, clientRequestOf(cmd, id, `m${this.n}`), `${str(id)}, ${quintCmd(cmd)}`);
  }

  /**
   * One random step. The odds follow the spec's steered step: an election timeout mostly waits
   * until no campaign is running, clients mostly reach the leader, disks complete their writes
   * often and crashes are rare, so that walks of 30 steps elect leaders and commit and answer
   * puts, not only campaign over and over.
   */
  step(): void {
    this.n++;
    const keys = this.cluster.inFlightKeys();
    const ids = this.cluster.ids;
    const id = this.pickOf(ids);
    const role = this.cluster.role(id);
    const campaigning = ids.some((p) => ['PreCandidate', 'Candidate']
      .includes(this.cluster.role(p)));
    const r = this.random();
    if (keys.length > 0 && r < 0.45) {
      const key = this.pickOf(keys);
      const m = this.cluster.bag.get(key)?.message;
      if (m === undefined) return;
      const call = quintMessage(abstractMessage(m));
      if (r < 0.03) { this.cluster.drop(key); this.record([`dropMessage(${call})`]); return; }
      if (r < 0.05) { this.cluster.duplicate(key); this.record([`duplicateMessage(${call})`]); return; }
      this.deliver(key);
      return;
    }
    const arg = str(id);
    const writing = ids.filter((p) => this.cluster.canPersist(p));
    const leader = ids.find((p) => this.cluster.role(p) === 'Leader');
    if (r < 0.53) this.serverStep(id, { type: 'Tick' }, arg);
    else if (r < 0.66) this.persist(writing.length > 0 ? this.pickOf(writing) : id);
    else if (r < 0.72) {
      if (role === 'Leader') this.serverStep(id, this.replicateEvent(id), arg);
      else if (!campaigning && r < 0.68) this.serverStep(id, { type: 'ElectionTimeout' }, arg);
    } else if (r < 0.735) {
      if (role === 'Leader') this.serverStep(id, { type: 'CheckQuorum' }, arg);
    } else if (r < 0.74) {
      if (role === 'Leader') this.changeConfig(id);
    } else if (r < 0.75) this.restart(id);
    else if (r < 0.77) this.serverStep(id, { type: 'TakeSnapshot' }, arg);
    else if (r < 0.87) {
      const to = leader !== undefined && this.random() < 0.7 ? leader : id;
      this.clientRequest(to);
      // the shell's end of the batch: a leader sends its new entries at once
      if (to === leader && this.random() < 0.5) this.serverStep(to, { type: 'Flush' }, str(to));
    } else this.serverStep(id, { type: 'Tick' }, arg);
  }

  /**
   * [D§4.1] A leader is asked for a random single-server change (it takes only one that applies,
   * under the published fix; the others are ignored and record no step).
   */
  private changeConfig(id: NodeId): void {
    const change = this.pickOf(['addLearner', 'promote', 'remove'] as const);
    const event: RaftEvent = { type: 'ChangeConfig', change, id: this.pickOf(this.cluster.ids) };
    this.serverStep(id, event, argsOf(id, event));
  }

  /** Replicate to a random non-empty set of its members, or flush as the shell does. */
  private replicateEvent(id: NodeId): RaftEvent {
    const peers = replicaPeers(this.cluster.state(id));
    const to = peers.filter(() => this.random() < 0.5);
    return to.length === 0 ? { type: 'Flush' } : { type: 'Replicate', to };
  }

  /** Deliver one copy of a message in flight and record the spec action its receiver took. */
  deliver(key: string): void {
    const m = this.cluster.bag.get(key)?.message;
    if (m === undefined) return;
    const rec = this.cluster.deliver(key);
    if (rec === undefined) return;
    this.noteAnswers(rec);
    this.record(specCalls(rec.effects, rec.server, quintMessage(abstractMessage(m))), m.dst, rec.effects);
  }

  /** Hand-written traces: each call is a recorded step. */
  script(): {
    event: (id: NodeId, event: RaftEvent) => void;
    /** A client's request `cmd` reaches server `id`. */
    request: (id: NodeId, cmd: AbstractCmd) => void;
    persist: (id: NodeId) => void;
    restart: (id: NodeId) => void;
    /** Every pending disk write completes (a persist step for each server that has one). */
    settle: () => void;
    deliverWhere: (pred: (m: PeerMessage) => boolean) => void;
    dropAll: () => void;
  } {
    return {
      event: (id, event) => this.serverStep(id, event, argsOf(id, event)),
      request: (id, cmd) => this.send(id, cmd),
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
    for (const id of this.cluster.ids) servers[id] = quintServer(abstractServer(this.cluster.state(id), this.cluster.role(id)));
    const durable: Record<string, string> = {};
    for (const id of this.cluster.ids) {
      durable[id] = quintDurable(abstractDurable(this.cluster.durable(id),
        bootstrapOf(this.cluster.state(id).config)));
    }
    return { calls: ['init'], servers, msgs: [], durable, outbox: this.outboxes(),
      replies: [[]] };
  }

  run(): RecordedStep[] {
    while (this.steps.length < this.opts.steps && this.n < this.opts.steps * 20) this.step();
    return this.steps;
  }
}
