/**
 * The deterministic simulation: every replica's statechart in one process, in virtual time, from
 * one seed. It is the second driver of the shared fault model (`src/fault/run.ts`): the same
 * scenario, workload, clients, fault schedule, network model, history and report as the network
 * simulator, with replica processes replaced by hosts (`host.ts`): each runs the real replica
 * loop, group commit and write-ahead log, over a simulated disk; sockets are replaced by an event
 * queue. After every step of every replica the Raft safety properties are checked
 * (`safety.ts`); a violation stops the run with its seed, step and a replay command. At the end the
 * client history goes through the same checkers as the network simulator's.
 * Nothing here reads a clock or `Math.random`: every choice comes from a stream of the seed, and
 * events at the same virtual moment run in the order they were scheduled.
 */
import type { Entry, Message, NodeId } from '../wire/messages.js';
import type { RaftEvent } from '../core/machine.js';
import { defaultConfig, quorum, type Config, type Persisted } from '../core/state.js';
import { machineWith, type Bug } from '../mutants/catalog.js';
import type { RaftRules } from '../core/ruleSet.js';
import { lastLogIndex, type RaftLog } from '../core/log.js';
import { FaultRun, type Payload } from '../fault/run.js';
import { linearizableChecker, midAnswers, midAnswersChecker, pageShape } from '../fault/checkers.js';
import type { KvMode } from '../fault/workload.js';
import type { History } from '../fault/history.js';
import { verdict, type Report } from '../fault/report.js';
import { Rng } from '../fault/rng.js';
import type { Scenario } from '../fault/scenario.js';
import { TICK_MS, TIMING } from '../replica/timing.js';
import type { LoopStep } from '../replica/loop.js';
import { Host, type HostDriver } from './host.js';
import { progressOrder, stepProperties, VoteLedger } from '../check/stepRules.js';
import { TimingChecker } from '../check/timing.js';
import { CostChecker } from '../check/cost.js';
import { largeWithinBytes, waitingWithinBounds, type WaitingBounds } from '../check/bounds.js';
import type { RaftMachine } from '../core/raft.js';
import { EventQueue } from './queue.js';
import { SafetyChecker, type Violation } from '../check/safety.js';

/** Virtual latencies, in ms. Each draw comes from the seed's `sim-*` streams. */
export const SIM_TIMING = {
  /** One way between a replica and the simulator (loopback plus a process's receive path). */
  hopMsMin: 0.05, hopMsMax: 0.25,
  /** A write into the page cache, and an fdatasync. */
  writeMs: 0.005, syncMsMin: 0.1, syncMsMax: 1,
  /** The shell's end-of-batch Flush (setImmediate). */
  flushMs: 0.001,
  /** From spawn to the first datagram (Node's start-up). */
  startMsMin: 20, startMsMax: 80,
} as const;

export interface SimOptions {
  readonly scenario: Scenario;
  /** Catalog bugs switched into every replica's rules (`mutants/catalog.ts`). */
  readonly bugs?: readonly Bug[];
  /**
   * Another rules record for every replica (tests and tools: a deliberately broken replica that
   * is not in the catalog); `bugs` still apply on top of it.
   */
  readonly rules?: (rules: RaftRules) => RaftRules;
  /**
   * The statechart every replica runs, from the one the rules and bugs make (tests: a deliberately
   * broken timer guard, through `provide`, that no rule switch can express).
   */
  readonly machine?: (machine: RaftMachine) => RaftMachine;
  /**
   * Overload bounds for every replica instead of `OVERLOAD_LIMITS` (small ones make a run's
   * ordinary load an overload: every request beyond them must be refused, and the bounds hold).
   */
  readonly limits?: Partial<Pick<Config, 'maxWaitingRequests' | 'maxWaitingPerClient'
    | 'maxUncommittedEntries' | 'maxWaitingBytes' | 'maxSessions'>>;
  /** Every step and fault, one line each: the trace that a seed reproduces byte for byte. */
  readonly trace?: (line: string) => void;
  /** Every step a replica takes, as its loop reports it (for tools that measure reach). */
  readonly observe?: (id: string, step: LoopStep) => void;
  /** A storm guard: more replica steps than this fail the run. */
  readonly maxSteps?: number;
  /** The command that replays this run, for the report. */
  readonly rerun?: string;
  /** Chance that a disk write or fdatasync fails (EIO, ENOSPC); default 0. */
  readonly diskFailChance?: number;
  /** A broken disk whose fdatasync makes nothing durable: the checkers must catch it. */
  readonly diskLies?: boolean;
  /**
   * `direct`: the clients also delete and compare-and-swap, and the replicas run as direct mode's
   * do (admitting those, and answering an absent key with no value); default `protocol`.
   */
  readonly kv?: KvMode;
}

export interface SimViolation extends Violation {
  readonly step: number;
  readonly atMs: number;
}

export interface SimResult {
  readonly report: Report;
  /** Why the run fails (safety, wrong or duplicate answers, history, protocol); empty: passed. */
  readonly failures: readonly string[];
  readonly violation: SimViolation | undefined;
  readonly steps: number;
  /** Virtual time from the first hello to the end. */
  readonly simulatedMs: number;
  readonly syncs: number;
  readonly writesSynced: number;
  /** Kills that lost power, writes torn by them, and disk failures (each a fail-stop). */
  readonly powerLosses: number;
  readonly tornWrites: number;
  readonly diskFailures: number;
  /** [§7] Snapshots taken by replicas, and installed from a leader's chunks. */
  readonly snapshotsTaken: number;
  readonly snapshotsInstalled: number;
  /** The client history the report checked (for tools that measure the check). */
  readonly history: History;
}

type Item =
  | { readonly k: 'hello'; readonly host: Host }
  | { readonly k: 'toRun'; readonly host: Host; readonly value: unknown }
  | { readonly k: 'toReplica'; readonly host: Host; readonly value: unknown }
  | { readonly k: 'call'; readonly fn: () => void }
  | { readonly k: 'supervisor'; readonly host: Host }
  | { readonly k: 'advance' }
  | { readonly k: 'recover' };

const DEFAULT_MAX_STEPS = 5_000_000;

/** A replica whose disk failed is restarted by its supervisor this long after it stopped. */
const SUPERVISOR_RESTART_MS = 1000;
/**
 * A stall guard: more events than this at one virtual instant fail the run. Every delay is
 * positive, so a sane run has a handful per instant; an event that keeps rescheduling itself at
 * the same moment would otherwise spin forever without a step to count.
 */
const MAX_EVENTS_PER_INSTANT = 100_000;

/**
 * Deviation from the replica processes' `SNAPSHOT_ENTRIES`: a simulated run commits a few
 * thousand entries at most, so its replicas snapshot far more often, and a replica that was down
 * or cut off catches up by InstallSnapshot, through the same code.
 */
export const SIM_SNAPSHOT_ENTRIES = 50;

/**
 * Liveness: a live replica answers every client request it received within this long after the
 * later of its arrival and the end of the faults (the scenarios' `end_wait` is 3 s: an election
 * of 1-2 s, a retry, and the commit). Measured where the replica sends its answer, so a dropped
 * answer still counts as given; a request lost with a killed process is nobody's to answer.
 */
export const ANSWER_WITHIN_MS = 2500;

/** A client request a live replica has received and not yet answered. */
interface HeldRequest {
  readonly host: Host;
  readonly incarnation: number;
  readonly atMs: number;
  readonly what: string;
}

/** How long a run goes on after it converged (see `settled`). */
export const SETTLE_MS = 1000;

/**
 * The linearizability search bound per key in a simulation, for a key whose puts repeat a value
 * (the search; distinct values are always decided): thousands of runs must each finish in well
 * under a second. A key left undecided fails the run, naming the key and the bound.
 */
export const SIM_CHECK_STEPS_PER_KEY = 300_000;

/** The checkers a simulation's history goes through. */
export const simulationCheckers = [midAnswers,
  linearizableChecker({ maxStepsPerKey: SIM_CHECK_STEPS_PER_KEY })] as const;
/**
 * The same for a run whose clients delete, compare-and-swap and list (`kv: 'direct'`), with each
 * page's own shape checked too.
 */
export const directCheckers = [midAnswersChecker('direct'), pageShape,
  linearizableChecker({ maxStepsPerKey: SIM_CHECK_STEPS_PER_KEY, mode: 'direct' })] as const;

const isRequest = (v: unknown): v is { type: string; MID: string; key?: unknown;
  prefix?: unknown } => {
  if (typeof v !== 'object' || v === null) return false;
  const { type, MID } = v as { type?: unknown; MID?: unknown };
  return (type === 'get' || type === 'put' || type === 'del' || type === 'cas' || type === 'list')
    && typeof MID === 'string';
};

function eventLabel(e: RaftEvent): string {
  if (e.type === 'Tick') return `Tick ${e.ticks ?? 1}`;
  if ('src' in e && typeof e.src === 'string') return `${e.type} from ${e.src}`;
  return e.type;
}

export class Simulation implements HostDriver {
  readonly run: FaultRun;
  private readonly queue = new EventQueue<Item>();
  private readonly hosts = new Map<string, Host>();
  private readonly safety: SafetyChecker;
  private readonly votes = new VoteLedger();
  private readonly timing = new TimingChecker(TICK_MS);
  private readonly cost = new CostChecker();
  private readonly bounds: WaitingBounds;
  private readonly hops: Rng;
  private snapshotsTaken = 0;
  private snapshotsInstalled = 0;
  private readonly crashes: Rng;
  private readonly protocol: string[] = [];
  private nowMs = 0;
  private steps = 0;
  private stalled = false;
  private violation: SimViolation | undefined;
  private over = false;
  private recovered = false;
  private recoveredAtMs = Infinity;
  private lastGuarded: { readonly n: number; readonly logs: readonly RaftLog[] } | undefined;
  /** Requests received and not yet answered, by replica and MID. */
  private readonly held = new Map<string, HeldRequest>();
  /** When, after recovery, a leader first had its whole log committed. */
  private convergedAtMs: number | undefined;
  /** That leader's commit index then: every live replica must reach it (`caughtUp`). */
  private convergedCommit = 0;

  constructor(private readonly opts: SimOptions) {
    const s = opts.scenario;
    this.hops = Rng.stream(s.seed, 'sim-hops');
    this.crashes = Rng.stream(s.seed, 'sim-crashes');
    this.run = new FaultRun(s, {
      send: (address, payload, delayMs) => this.toReplica(address, payload, delayMs),
      kill: (id) => this.kill(id),
      restart: (id) => this.restart(id),
      schedule: (atMs, fn) => this.schedule(atMs, fn),
    }, opts.kv === 'direct' ? directCheckers : simulationCheckers, opts.kv ?? 'protocol',
    opts.limits?.maxSessions ?? defaultConfig.maxSessions);
    const direct = opts.kv === 'direct';
    const ids = this.run.network.all() as readonly NodeId[];
    let config: Config = defaultConfig;
    const made = machineWith(opts.bugs ?? [], opts.rules);
    const machine = opts.machine === undefined ? made : opts.machine(made);
    for (const id of ids) {
      config = { ...defaultConfig, ...TIMING, snapshotEntries: SIM_SNAPSHOT_ENTRIES, id,
        peers: ids.filter((p) => p !== id), absentAsEmpty: !direct, ...opts.limits };
      this.hosts.set(id, new Host(id, { config, tickMs: TICK_MS, machine,
        flushMs: SIM_TIMING.flushMs, disk: SIM_TIMING, diskFailChance: opts.diskFailChance ?? 0,
        diskRng: Rng.stream(s.seed, `sim-disk ${id}`), diskLies: opts.diskLies,
        directRequests: direct }, this));
    }
    this.safety = new SafetyChecker(quorum(config));
    this.bounds = config;
  }

  /** Run to the end of the scenario, or to the first safety violation. */
  execute(): SimResult {
    const start = Rng.stream(this.opts.scenario.seed, 'sim-start');
    for (const host of this.hosts.values()) {
      const at = SIM_TIMING.startMsMin + start.float() * (SIM_TIMING.startMsMax
        - SIM_TIMING.startMsMin);
      this.queue.push(at, { k: 'hello', host });
    }
    const maxSteps = this.opts.maxSteps ?? DEFAULT_MAX_STEPS;
    let atThisInstant = 0;
    while (!this.over && this.violation === undefined && this.steps <= maxSteps
      && !this.settled()) {
      const next = this.queue.pop();
      if (next === undefined) break;
      atThisInstant = next.at === this.nowMs ? atThisInstant + 1 : 0;
      if (atThisInstant > MAX_EVENTS_PER_INSTANT) {
        this.stalled = true;
        break;
      }
      this.nowMs = next.at;
      this.handle(next.item);
    }
    this.run.stop();
    return this.result(maxSteps);
  }

  /**
   * Recovered, converged, quiet for `SETTLE_MS`, and every request a live replica received
   * answered: the rest of `end_wait` would only be heartbeats, so the run ends here.
   */
  private settled(): boolean {
    return this.convergedAtMs !== undefined && this.nowMs >= this.convergedAtMs + SETTLE_MS
      && !this.holding() && this.lagging().length === 0;
  }

  /** Live replicas that have not yet committed what the leader had when the run converged. */
  private lagging(): Host[] {
    return [...this.hosts.values()].filter((h) => h.alive
      && h.state.commitIndex < this.convergedCommit);
  }

  /** Whether a live replica holds a request it has not answered (forgetting the dead's). */
  private holding(): boolean {
    for (const [key, h] of this.held) {
      if (h.host.alive && h.host.incarnation === h.incarnation) return true;
      this.held.delete(key);
    }
    return false;
  }

  private handle(item: Item): void {
    switch (item.k) {
      case 'hello': return this.hello(item.host);
      case 'toRun': return this.run.parsedDatagram(item.value, item.host.id, this.nowMs);
      case 'toReplica': return this.deliver(item.host, item.value);
      case 'call': return item.fn();
      case 'supervisor': return this.restart(item.host.id);
      case 'advance': return this.advance();
      case 'recover':
        this.recovered = true;
        this.recoveredAtMs = this.nowMs;
        this.opts.trace?.(`${this.nowMs.toFixed(3)} recovery: partitions end, replicas restart`);
        return this.run.recover(this.nowMs);
    }
  }

  /** A process starts and says hello; when all have, clients start after `start_wait`. */
  private hello(host: Host): void {
    if (!this.startHost(host)) return;
    const hello = { src: host.id, dst: 'FFFF', leader: 'FFFF', type: 'hello' };
    this.run.datagram(JSON.stringify(hello), host.id, this.nowMs);
    if (this.run.missingHellos().length > 0) return;
    this.run.begin(this.nowMs);
    this.queue.push(this.run.nextDueMs() ?? this.nowMs, { k: 'advance' });
    // Just after the last fault event can fire (they fire at most at `lifetime`).
    const clientsEndMs = (this.run.clientsStartMs ?? this.nowMs)
      + this.opts.scenario.lifetime * 1000 + 1;
    this.queue.push(clientsEndMs, { k: 'recover' });
  }

  private advance(): void {
    this.run.advance(this.nowMs);
    if (this.run.isOver(this.nowMs)) {
      this.over = true;
      return;
    }
    this.queue.push(this.run.nextDueMs() ?? this.nowMs, { k: 'advance' });
  }

  /** Start a process from what its disk holds; a log it refuses is a failure of the run. */
  private startHost(host: Host): boolean {
    const seed = Rng.stream(this.opts.scenario.seed, `replica ${host.id} ${host.incarnation}`)
      .nextUint32();
    try {
      host.start(seed);
    } catch (e) {
      this.protocol.push(`${host.id} could not start from its disk: ${(e as Error).message}`);
      this.over = true;
      return false;
    }
    this.safety.restarted(host.id);
    this.timing.stopped(host.id);
    this.cost.stopped(host.id);
    this.check(this.safety.step(host.state, host.role, 1));
    return true;
  }

  private hop(): number {
    return SIM_TIMING.hopMsMin + this.hops.float() * (SIM_TIMING.hopMsMax - SIM_TIMING.hopMsMin);
  }

  private toReplica(address: string, payload: Payload, delayMs: number): void {
    const host = this.hosts.get(address);
    if (host === undefined) throw new Error(`no replica at ${address}`);
    this.queue.push(this.nowMs + this.hop() + delayMs, { k: 'toReplica', host,
      value: payload.value });
  }

  /** The replica's receive path: its loop decodes and admits every datagram, as over UDP. */
  private deliver(host: Host, value: unknown): void {
    if (host.alive) this.timing.delivered(host.id, value, this.nowMs);
    if (host.alive && isRequest(value)) {
      const key = `${host.id} ${value.MID}`;
      if (!this.held.has(key)) {
        this.held.set(key, { host, incarnation: host.incarnation, atMs: this.nowMs,
          what: `${value.type} ${String(value.key ?? value.prefix)} (${value.MID})` });
      }
    }
    host.receive(value);
  }

  /**
   * Requests a live replica still holds past their deadline (`ANSWER_WITHIN_MS` after the later
   * of their arrival and the end of the faults); those of a process since killed are dropped.
   */
  private overdue(): string[] {
    const out: string[] = [];
    for (const [key, h] of this.held) {
      if (!h.host.alive || h.host.incarnation !== h.incarnation) {
        this.held.delete(key);
        continue;
      }
      const since = Math.max(h.atMs, this.recoveredAtMs);
      if (this.nowMs >= since + ANSWER_WITHIN_MS) {
        out.push(`liveness: ${h.host.id} received ${h.what} at ${h.atMs.toFixed(0)} ms and has ` +
          `not answered it ${((this.nowMs - since) / 1000).toFixed(1)} s after ${h.atMs
            >= this.recoveredAtMs ? 'it arrived' : 'the faults ended'}`);
      }
    }
    return out;
  }

  /** SIGKILL; half the kills (a stream of the seed) also cut the machine's power. */
  private kill(id: string): void {
    const host = this.hosts.get(id) as Host;
    if (!host.alive) return;
    const powerLoss = this.crashes.chance(0.5);
    this.down(host, () => host.kill(powerLoss));
    this.opts.trace?.(`${this.nowMs.toFixed(3)} ${id} killed${powerLoss ? ', power lost' : ''}`);
    this.check(this.safety.durable(this.disks()));
  }

  /** `stop` ends the process; a disk it leaves unreadable is a failure of the run. */
  private down(host: Host, stop: () => void): void {
    try {
      stop();
    } catch (e) {
      this.protocol.push(`${host.id}'s disk cannot be read after a crash: ${(e as Error).message}`);
      this.over = true;
    }
  }

  private restart(id: string): void {
    const host = this.hosts.get(id) as Host;
    if (host.alive || this.over) return;
    if (!this.startHost(host)) return;
    this.opts.trace?.(`${this.nowMs.toFixed(3)} ${id} restarted at term ` +
      `${host.state.currentTerm} with ${lastLogIndex(host.state.log)} entries`);
  }

  /**
   * committedGuarded over the synced disks (`check/safety.ts`), when a disk's log or the committed
   * index changed since the last check (logs are immutable values: a change is a new one).
   */
  private guarded(): Violation | undefined {
    const hosts = [...this.hosts.values()];
    const logs = hosts.map((h) => h.durable().log);
    const n = this.safety.commitIndex;
    const last = this.lastGuarded;
    if (last !== undefined && last.n === n && logs.every((l, k) => l === last.logs[k])) {
      return undefined;
    }
    this.lastGuarded = { n, logs };
    return this.safety.guarded(hosts.map((h) => h.id), logs);
  }

  private disks(): Persisted[] {
    return [...this.hosts.values()].map((h) => h.durable());
  }

  private check(v: Violation | undefined): void {
    if (v !== undefined && this.violation === undefined) {
      this.violation = { ...v, step: this.steps, atMs: this.nowMs };
    }
  }

  /** The entries the run committed, in index order (what the safety checker recorded). */
  committedEntries(): readonly Entry[] {
    return this.safety.committedEntries();
  }

  // HostDriver

  now(): number {
    return this.nowMs;
  }

  schedule(atMs: number, fn: () => void): void {
    this.queue.push(atMs, { k: 'call', fn });
  }

  /**
   * A disk error stopped the replica (fail-stop, no fsync retry); its supervisor restarts it a
   * second later, from what the disk holds.
   */
  failed(host: Host, error: Error): void {
    this.opts.trace?.(`${this.nowMs.toFixed(3)} ${host.id} stopped: disk failed (${error.message})`);
    this.check(this.safety.durable(this.disks()));
    this.queue.push(this.nowMs + SUPERVISOR_RESTART_MS, { k: 'supervisor', host });
  }

  emit(host: Host, message: Message): void {
    if ('MID' in message) this.held.delete(`${host.id} ${message.MID}`);
    this.check(this.votes.sent(message));
    if ('term' in message) this.safety.sent(host.id, message.type, message.term);
    // The core emits only values of the wire types, so the message is its own JSON value (the
    // codec tests show `Message.encode` is the identity on them); the receiver still decodes it.
    this.queue.push(this.nowMs + this.hop(), { k: 'toRun', host, value: message });
  }

  stepped(host: Host, step: LoopStep): void {
    const { event, after: state, logFrom } = step;
    this.steps++;
    this.opts.observe?.(host.id, step);
    if (step.before.log.snapshot !== state.log.snapshot) {
      if (event.type === 'InstallSnapshotRequest') this.snapshotsInstalled++;
      else this.snapshotsTaken++;
    }
    this.opts.trace?.(`${this.nowMs.toFixed(3)} ${host.id} ${eventLabel(event)} -> ` +
      `${step.role} term ${state.currentTerm} commit ${state.commitIndex} ` +
      `last ${lastLogIndex(state.log)}`);
    this.check(this.safety.step(state, step.role, logFrom)
      ?? stepProperties(step.before, event, state, step.role, step.effects)
      ?? this.votes.backs(state, step.role)
      ?? waitingWithinBounds(host.id, state, this.bounds)
      ?? largeWithinBytes(host.id, step.before, event, step.role, state, step.effects, this.bounds)
      ?? progressOrder(state, step.role)
      ?? this.timing.stepped(host.id, step.role, state, step.effects, this.nowMs)
      ?? this.cost.stepped(host.id, step.before, event, step.role, state, step.effects));
    if (this.recovered && this.convergedAtMs === undefined && step.role === 'Leader'
      && state.commitIndex === lastLogIndex(state.log)) {
      this.convergedAtMs = this.nowMs;
      this.convergedCommit = state.commitIndex;
    }
    // a commit that is not durable is named as such before committedGuarded sees its effect
    const fresh = this.safety.takeFresh();
    if (fresh.length > 0) this.check(this.safety.durable(this.disks(), fresh));
    this.check(this.guarded());
  }

  /**
   * [replica-udp.md: a fail or redirect is retried with a new MID] so an attempt answered that way
   * must never take effect: each put (its value is unique to its operation) is committed once. A
   * put in a session [§6.3] is retried after silence with the same request number, so its copies
   * may all be committed; the state machine applies the first only, which the linearizability
   * check sees. Copies with another session or request number are a client's or a replica's bug.
   */
  private appliedOnce(): string[] {
    const seen = new Map<string, string>();
    for (const [offset, e] of this.safety.committedEntries().entries()) {
      if (e.cmd.kind !== 'put') continue;
      const key = `${e.cmd.key}\u0000${e.cmd.value}`;
      const copy = e.cmd.session > 0 ? `${e.cmd.session} ${e.cmd.seq}` : '';
      const first = seen.get(key);
      if (first !== undefined && (copy === '' || first !== copy)) {
        return [`appliedOnce violated: put ${e.cmd.key}=${JSON.stringify(e.cmd.value)} is ` +
          `committed twice (again at index ${offset + 1}): a retried request took effect twice`];
      }
      seen.set(key, copy);
    }
    return [];
  }

  /**
   * Liveness after recovery: within `end_wait` after the faults ended, some leader has committed
   * its whole log (a leader that cannot commit entries of earlier terms, for want of an entry of
   * its own, never does). Followers may lag longer (catching up runs at one batch per round trip,
   * and per heartbeat once a datagram is lost): `caughtUp` gives them the rest of `end_wait`.
   */
  private converged(): string[] {
    if (this.convergedAtMs !== undefined) return [];
    const live = [...this.hosts.values()].filter((h) => h.alive && h.role === 'Leader');
    const leader = live.map((h) => h.state)
      .sort((a, b) => b.currentTerm - a.currentTerm)[0];
    const since = `${this.opts.scenario.end_wait} s after the faults ended`;
    return [leader === undefined ? `convergence: no leader committed its whole log ${since}`
      : `convergence: leader ${leader.config.id} has committed ${leader.commitIndex} of its ` +
        `${lastLogIndex(leader.log)} entries ${since}`];
  }

  /**
   * Catch-up after recovery: by the end of `end_wait`, every live replica has committed what the
   * leader had committed when the run converged. A follower behind it is sent what it lacks (the
   * entries, or the snapshot) batch by batch, and a rejection moves `nextIndex` back to where
   * their logs may match; a follower stuck behind is a replication bug even when a quorum
   * without it commits.
   */
  private caughtUp(): string[] {
    const at = this.convergedAtMs;
    if (at === undefined) return [];
    return this.lagging().slice(0, 2).map((h) => `catch-up: ${h.id} has committed ` +
      `${h.state.commitIndex} of the ${this.convergedCommit} entries committed when the run ` +
      `converged, ${((this.nowMs - at) / 1000).toFixed(1)} s later`);
  }

  private result(maxSteps: number): SimResult {
    const s = this.opts.scenario;
    const bugs = this.opts.bugs ?? [];
    const report = this.run.report(this.nowMs, { tool: 'detsim',
      replicaCommand: `in-process core${bugs.length > 0 ? ` with bugs ${bugs.join(',')}` : ''}`,
      rerun: this.opts.rerun ?? `raftkv detsim --seed ${s.seed}` });
    const failures: string[] = [];
    const v = this.violation;
    if (v !== undefined) {
      failures.push(`${v.invariant} violated at step ${v.step} (${v.atMs.toFixed(3)} ms): ` +
        v.detail);
    }
    if (this.steps > maxSteps) failures.push(`more than ${maxSteps} steps: a message storm`);
    if (this.stalled) {
      failures.push(`more than ${MAX_EVENTS_PER_INSTANT} events at ${this.nowMs} ms: ` +
        'time stood still');
    }
    for (const h of this.hosts.values()) {
      h.finish();
      // every datagram in a simulation comes from a correct replica: a drop is a wire bug
      for (const [kind, n] of h.dropped) {
        this.protocol.push(`${h.id} dropped ${n} datagram(s) of kind ${kind}`);
      }
      if (h.stalledTicks > 0) {
        this.protocol.push(`${h.id} ran ${h.stalledTicks} tick(s) late: a wake was not on time`);
      }
      if (h.refusedSnapshots > 0) {
        this.protocol.push(`${h.id} refused ${h.refusedSnapshots} snapshot(s) put together`);
      }
    }
    failures.push(...this.protocol.slice(0, 5));
    // A cut-short run has an incomplete history: its verdict would be about the cut, not the run.
    if (v === undefined) {
      failures.push(...verdict(report, s).filter((r) => r.kind === 'correctness')
        .map((r) => r.text), ...this.appliedOnce());
      if (this.recovered && this.steps <= maxSteps && !this.stalled) {
        failures.push(...this.converged(), ...this.caughtUp(), ...this.overdue().slice(0, 3));
      }
    }
    let syncs = 0;
    let writesSynced = 0;
    let powerLosses = 0;
    let tornWrites = 0;
    let diskFailures = 0;
    for (const h of this.hosts.values()) {
      syncs += h.syncs;
      writesSynced += h.writesSynced;
      powerLosses += h.disk.powerLosses;
      tornWrites += h.disk.tornWrites;
      diskFailures += h.disk.failures;
    }
    return { report, failures, violation: v, steps: this.steps, simulatedMs: this.nowMs,
      syncs, writesSynced, powerLosses, tornWrites, diskFailures,
      snapshotsTaken: this.snapshotsTaken, snapshotsInstalled: this.snapshotsInstalled,
      history: this.run.history };
  }
}

/** Run one scenario in the deterministic simulation. */
export function simulate(opts: SimOptions): SimResult {
  return new Simulation(opts).execute();
}
