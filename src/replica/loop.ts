/**
 * The replica loop: everything a replica does around its statechart, once, for every shell.
 * It decodes each datagram with the wire codecs (counting and dropping bad ones), admits it (which
 * messages may reach the core, from whom), puts snapshot chunks and the fragments of a message too
 * large for a datagram (`wire/fragments.ts`) back together, steps the
 * statechart, ends each batch of client requests with `Flush`, drives the timers, and hands every
 * message and answer to the group commit (`groupCommit.ts`), which lets it leave only once the
 * writes it may depend on are durable.
 *
 * It is parameterised by a clock, a transport and a durability (the write-ahead log):
 * - the simulator-routed shell (`udp.ts`): real time, one UDP socket to the simulator, no disk;
 * - the direct shell (`direct.ts`): real time, UDP to configured peers, the WAL on Node's disk;
 * - the deterministic simulation (`detsim/host.ts`): virtual time, its event queue, the WAL on a
 *   simulated disk that tears writes, loses what was not synced, and fails.
 *
 * Time moves in ticks of `tickMs`. The loop wakes only when a timer is due (`ticksUntilDue`), and
 * delivers the ticks owed before every event, so the state sees exactly what one tick at a time
 * would have shown it. Time the loop missed by running late (a stall) is dropped (`slip`).
 */
import * as E from 'fp-ts/lib/Either.js';
import {
  PeerMessage, PROTOCOL_MAX_KEY_LENGTH, PROTOCOL_MAX_VALUE_LENGTH, type ClientRequest,
  type Fragment, type InstallSnapshotChunk, type Message, type NodeId,
} from '../wire/messages.js';
import { Defragmenter } from '../wire/fragments.js';
import {
  decodeMessage, errorKind, parseDatagram, WIRE_FORMAT, wireFormatOf, type WireError,
} from '../wire/codec.js';
import { Reassembler, toDatagrams, CHUNK_BYTES } from '../wire/chunks.js';
import {
  pureInitial, pureStep, raftMachine, roleOf, type MachineSnapshot, type PureStep, type RaftMachine,
} from '../core/raft.js';
import type { RaftEvent } from '../core/machine.js';
import type { PersistWrite } from '../core/persisted.js';
import { ticksUntilDue } from '../core/timers.js';
import type { Config, Effect, Persisted, RaftState, Role } from '../core/state.js';
import { GroupCommit } from './groupCommit.js';
import type { Address } from './address.js';
import type { Signer } from './auth.js';
import { isStatusRequest } from '../wire/admin.js';

/** A loop that finds a timer overdue by more than this many ticks was stalled (`slip`). */
export const STALL_SLACK_TICKS = 5;

export interface Clock {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** Call `fn` at `atMs`, or as soon after as it can; the returned function cancels it. */
  at(atMs: number, fn: () => void): () => void;
  /** Call `fn` once the datagrams that arrived together have been handled (`setImmediate`). */
  afterBatch(fn: () => void): void;
}

export interface Transport {
  /**
   * A datagram leaves: to `to` (a peer's or a client's address), or, without one, to the network
   * that routes by `dst` (the simulator-routed protocol). `peer`: a message for replicas.
   */
  send(m: Message, to: Address | undefined, peer: boolean): void;
}

/** The disk: the write-ahead log (`disk/wal.ts`) implements it. */
export interface Durability {
  /**
   * Make `writes` durable, in order, then call `done()`; `done(error)` if the disk failed. Never
   * called again before `done`.
   */
  append(writes: readonly PersistWrite[], done: (error?: Error) => void): void;
}

/**
 * Who may reach the core. Without `peers`, the network is trusted to route (the simulator-routed
 * protocol and the simulation): every peer message and client request goes in. With them (direct
 * mode), a peer message only from a configured id at its address, for this replica, and signed
 * if there is a signer; a client request from anyone not using a replica's id, whose address is
 * kept for the answer.
 */
export interface Admission {
  readonly peers?: ReadonlyMap<NodeId, Address>;
  readonly auth?: Signer;
  /**
   * Direct mode's own client requests (`del`, `cas`, `list`) go in. Without it (the simulator-routed
   * protocol, which has only `get` and `put`) they are dropped and counted as `not-in-protocol`,
   * and so is a key or value over that protocol's limits, as `too-large`.
   */
  readonly directRequests?: boolean;
}

/** One step of the statechart, for the simulation's checkers. */
export interface LoopStep {
  readonly event: RaftEvent;
  readonly before: RaftState;
  readonly after: RaftState;
  /** The role after the step: the statechart's state. */
  readonly role: Role;
  readonly effects: readonly Effect[];
  /** The first log index the step's writes changed. */
  readonly logFrom: number | undefined;
}

export interface LoopOptions {
  readonly config: Partial<Config> & Pick<Config, 'id' | 'peers'>;
  readonly seed: number;
  /** What the disk held at start-up. */
  readonly persisted?: Persisted;
  /** Test and tool code only: a statechart with a catalog mutant's rules (`mutants/`). */
  readonly machine?: RaftMachine;
  readonly tickMs: number;
  readonly clock: Clock;
  readonly transport: Transport;
  /** None: a replica without storage (the simulator never restarts one); writes are dropped. */
  readonly durability?: Durability;
  readonly admission?: Admission;
  /** [§7] The size snapshots are cut into for the wire (default `CHUNK_BYTES`). */
  readonly chunkBytes?: number;
  /** The disk failed: the replica must stop (no retry). The loop has stopped already. */
  readonly onFatal: (error: Error) => void;
  /** A line for the replica's log (first drops, snapshots installed). */
  readonly log?: (line: string) => void;
  /** After every step (the simulation's checkers). */
  readonly observe?: (step: LoopStep) => void;
  /** A status request arrived (direct mode's admin protocol); `signed` as for peers. */
  readonly status?: (request: unknown, from: Address | undefined, signed: boolean) => void;
}

export interface InstallStats {
  count: number;
  lastBytes: number;
  /** From its first chunk's arrival to the end of the core's step that installed it. */
  lastMs: number;
  /** Snapshots whose chunks, put together, were not a snapshot (the datagrams were accepted). */
  refused: number;
}

/** Every datagram the loop read, and those it handed on; the rest are counted in `dropped`. */
export interface Intake {
  received: number;
  accepted: number;
  /** Of those accepted, the peer messages from configured peers (direct mode only). */
  acceptedFromPeers: number;
}

/** The datagram types only peers send: every peer message, and a snapshot's chunks. */
export const PEER_TYPES: ReadonlySet<string> = new Set([...PeerMessage.tags,
  'InstallSnapshotChunk']);

const isClientRequest = (m: Message): m is ClientRequest => m.type === 'get' || m.type === 'put'
  || m.type === 'del' || m.type === 'cas' || m.type === 'list' || m.type === 'register';

/**
 * A request as the simulator-routed protocol reads it: `session` is direct mode's extension
 * [§6.3], an extra field there, ignored as the protocol lets extra fields be.
 */
function withoutSession(m: ClientRequest): ClientRequest {
  if (!('session' in m) || m.session === undefined) return m;
  const { session: _session, ...rest } = m;
  return rest as ClientRequest;
}

/**
 * The most requests whose client address a replica remembers for its answers (oldest forgotten
 * first): more than the requests it keeps waiting (`OVERLOAD_LIMITS.maxWaitingRequests`).
 */
const MAX_ROUTES = 16_384;

/**
 * Where the answer to a request goes: by its client's id and its MID, not the id alone, so that
 * two clients that picked the same 4-hex id each get their own answers.
 */
const routeOf = (client: string, mid: string): string => `${client} ${mid}`;

export class ReplicaLoop {
  /**
   * The statechart, stepped by its own pure transition: the loop holds its snapshot, and each step
   * returns the next one with the effects it emitted. No actor: its mailbox, observers and error
   * status only repeat what the loop does itself. Measured: the default simulation mix runs 15-18 %
   * faster this way (`node dist/tools/soak.js --seeds 2000 --workers 2`: 532-557 simulated s per
   * wall s against 471), with the same steps; a lone step is 5-30 % faster (`npm run bench`).
   */
  private readonly transition: PureStep;
  private snapshot: MachineSnapshot;
  /** Effects of the initial state's entry, handed on with the first step's. */
  private effects: Effect[];
  private readonly commit: GroupCommit | undefined;
  private readonly chunks = new Reassembler();
  /**
   * Parts of messages too large for a datagram: peers' and clients' apart, so that clients cannot
   * push a leader's AppendEntries out.
   */
  readonly peerFragments = new Defragmenter();
  readonly clientFragments = new Defragmenter();
  /** The address each request came from (`routeOf`), for its answers. */
  private readonly routes = new Map<string, Address>();
  private flushPending = false;
  private stopped = false;
  /** Ticks delivered since start, and when it started. */
  private ticks = 0;
  private startMs: number;
  /** Ticks dropped because the loop ran late (`slip`). */
  stalledTicks = 0;
  /**
   * The tick the scheduled wake is for (Infinity: none), and the latest tick a wake has reached.
   * Time is counted in whole ticks: `(startMs + n * tickMs - startMs) / tickMs` can round to
   * just under `n`, and a wake that delivered no tick would schedule itself again forever.
   */
  private wakeTick = Infinity;
  private reachedTick = 0;
  private cancelWake: (() => void) | undefined;
  private syncing = false;
  /** Resolves `idle()` callers once no append is in flight. */
  private idleWaiters: (() => void)[] = [];
  readonly dropped = new Map<string, number>();
  readonly intake: Intake = { received: 0, accepted: 0, acceptedFromPeers: 0 };
  readonly installs: InstallStats = { count: 0, lastBytes: 0, lastMs: 0, refused: 0 };
  private tooLarge = false;

  constructor(private readonly opts: LoopOptions) {
    this.startMs = opts.clock.now();
    const durability = opts.durability;
    if (durability !== undefined) {
      this.commit = new GroupCommit({
        emit: (m) => this.emit(m),
        sync: (writes) => {
          this.syncing = true;
          durability.append(writes, (error) => {
            this.syncing = false;
            if (this.stopped) return this.settle();
            if (error !== undefined) return this.fail(error);
            this.commit?.synced();
            this.settle();
          });
        },
      });
    }
    const machine = opts.machine ?? raftMachine;
    this.transition = pureStep(machine);
    [this.snapshot, this.effects] = pureInitial(machine,
      { seed: opts.seed, config: opts.config, persisted: opts.persisted });
    this.scheduleWake();
  }

  get state(): RaftState {
    return this.snapshot.context;
  }

  /** The role: the statechart's state, its only owner. */
  get role(): Role {
    return roleOf(this.snapshot);
  }

  get alive(): boolean {
    return !this.stopped;
  }

  /** Writes issued and not yet durable. */
  get unsynced(): number {
    return this.commit?.unsynced ?? 0;
  }

  /** A datagram's bytes, from `from` (direct mode) or from the routing network. */
  receive(bytes: Buffer, from?: Address): void {
    if (this.stopped) return;
    this.intake.received++;
    const verified = this.opts.admission?.auth?.verify(bytes);
    const parsed = parseDatagram(verified ?? bytes);
    if (E.isLeft(parsed)) return this.bad(parsed.left);
    this.admit(parsed.right, from, verified !== undefined);
  }

  /**
   * A datagram already parsed to its JSON value (the simulation's network carries values), as
   * if its bytes had arrived: counted, decoded, admitted.
   */
  receiveValue(value: unknown, from?: Address): void {
    if (this.stopped) return;
    this.intake.received++;
    this.admit(value, from, false);
  }

  count(kind: string, detail: string): void {
    const n = (this.dropped.get(kind) ?? 0) + 1;
    this.dropped.set(kind, n);
    // the first of each kind is logged; after that only counted, so bad input cannot flood a log
    if (n === 1) this.opts.log?.(`${this.opts.config.id}: dropped a datagram (${kind}): ${detail}`);
  }

  /** Stop: no more steps, timers or output. The caller closes the disk once `idle()` resolves. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.cancelWake?.();
    this.settle();
  }

  /** Resolves once no append is in flight (after `stop`, none starts again). */
  idle(): Promise<void> {
    if (!this.syncing) return Promise.resolve();
    return new Promise((resolve) => { this.idleWaiters.push(resolve); });
  }

  private settle(): void {
    if (this.syncing) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private fail(error: Error): void {
    this.stop();
    this.opts.onFatal(error);
  }

  private bad(e: WireError): void {
    this.count(errorKind(e), e.detail);
  }

  private admit(value: unknown, from: Address | undefined, signed: boolean): void {
    const status = this.opts.status;
    if (status !== undefined && isStatusRequest(value)) return status(value, from, signed);
    if (this.opts.admission?.directRequests === true && !this.knownFormat(value)) return;
    const decoded = decodeMessage(value);
    if (E.isLeft(decoded)) return this.bad(decoded.left);
    const m = decoded.right;
    if (m.type === 'Fragment') return this.fragment(m, from, signed);
    this.admitMessage(m, from, signed, false);
  }

  /**
   * Direct mode: whether the datagram's wire format (`WIRE_FORMAT`) is one this build reads. A
   * newer one is counted apart, naming the sender: it says a peer or client was upgraded first.
   */
  private knownFormat(value: unknown): boolean {
    const format = wireFormatOf(value);
    if (format === undefined) {
      this.count('invalid', 'v: expected a wire format number');
      return false;
    }
    if (format <= WIRE_FORMAT) return true;
    // hostile until decoded: only strings are shown (an object's toString may throw), clipped
    const shown = (x: unknown): string => (typeof x === 'string' ? x.slice(0, 40) : '?');
    const { type, src } = value as { type?: unknown; src?: unknown };
    this.count('newer-format', `${shown(type)} from ${shown(src)} in wire format ${format}; ` +
      `this replica reads formats 1 to ${WIRE_FORMAT}: upgrade it`);
    return false;
  }

  /**
   * `counted`: its datagrams were counted as accepted already (the fragments of a message).
   * Whether it was admitted.
   */
  private admitMessage(m: Message, from: Address | undefined, signed: boolean, counted: boolean):
    boolean {
    if (PEER_TYPES.has(m.type)) {
      const peer = m as PeerMessage | InstallSnapshotChunk;
      if (!this.admitPeer(peer, from, signed)) return false;
      this.feed(peer, this.opts.admission?.peers !== undefined, counted);
      return true;
    }
    if (isClientRequest(m)) {
      if (!this.admitClient(m, from)) return false;
      this.feed(this.opts.admission?.directRequests === true ? m : withoutSession(m), false,
        counted);
      return true;
    }
    this.count('not-a-request', `${m.type} from ${m.src}`);
    return false;
  }

  /**
   * A part of a message too large for one datagram: kept until its message is whole, which is
   * then admitted as if it had arrived in one piece (signed only if every part was). The
   * simulator-routed protocol has none (its messages fit a datagram). A part that claims a peer
   * must come from its address, signed if there is a secret, and be for this replica; a client's
   * parts are told apart by the address they came from, not the id they claim. Every part counts
   * as accepted once it joins its message; if the whole message is then refused, its last part
   * is counted among the drops instead, so that `received = accepted + dropped` stays exact.
   */
  private fragment(f: Fragment, from: Address | undefined, signed: boolean): void {
    const a = this.opts.admission;
    if (a?.directRequests !== true) return this.count('not-in-protocol', `Fragment from ${f.src}`);
    const peer = a.peers?.get(f.src);
    if (peer !== undefined) {
      if (from === undefined || peer.host !== from.host || peer.port !== from.port) {
        return this.count('unknown-peer', `Fragment from ${f.src} at ${this.where(from)}`);
      }
      if (a.auth !== undefined && !signed) {
        return this.count('bad-mac', `Fragment from ${f.src} without a valid MAC`);
      }
      if (f.dst !== this.opts.config.id && f.dst !== 'FFFF') {
        return this.count('wrong-dst', `Fragment from ${f.src} for ${f.dst}`);
      }
    }
    const pool = peer !== undefined ? this.peerFragments : this.clientFragments;
    const r = pool.accept(f, signed, from === undefined ? f.src : this.where(from));
    if (r.kind === 'invalid') return this.count('invalid', `fragments from ${f.src}: ${r.detail}`);
    this.intake.accepted++;
    if (peer !== undefined) this.intake.acceptedFromPeers++;
    if (r.kind === 'partial') return;
    const refused = (): void => {
      this.intake.accepted--;
      if (peer !== undefined) this.intake.acceptedFromPeers--;
    };
    // the message inside names its format too (a sender stamps it before cutting it up)
    if (!this.knownFormat(r.value)) {
      refused();
      return;
    }
    const whole = decodeMessage(r.value);
    if (E.isLeft(whole)) {
      refused();
      return this.bad(whole.left);
    }
    const m = whole.right;
    if (m.type === 'Fragment' || m.src !== f.src) {
      refused();
      return this.count('invalid', `fragments from ${f.src} carry a ${m.type} from ${m.src}`);
    }
    if (!this.admitMessage(m, from, r.signed, true)) refused();
  }

  private where(from: Address | undefined): string {
    return from === undefined ? 'the network' : `${from.host}:${from.port}`;
  }

  private admitPeer(m: PeerMessage | InstallSnapshotChunk, from: Address | undefined,
    signed: boolean): boolean {
    const a = this.opts.admission;
    if (a?.peers === undefined) return true;
    const peer = a.peers.get(m.src);
    if (peer === undefined || from === undefined || peer.host !== from.host
      || peer.port !== from.port) {
      this.count('unknown-peer', `${m.type} from ${m.src} at ${this.where(from)}`);
      return false;
    }
    if (a.auth !== undefined && !signed) {
      this.count('bad-mac', `${m.type} from ${m.src} without a valid MAC`);
      return false;
    }
    // a signed message replayed to another replica must not count there (a vote, an ack)
    if (m.dst !== this.opts.config.id && m.dst !== 'FFFF') {
      this.count('wrong-dst', `${m.type} from ${m.src} for ${m.dst}`);
      return false;
    }
    return true;
  }

  private admitClient(m: ClientRequest, from: Address | undefined): boolean {
    if (this.opts.admission?.directRequests !== true) {
      if (m.type === 'del' || m.type === 'cas' || m.type === 'list' || m.type === 'register') {
        this.count('not-in-protocol', `${m.type} from ${m.src}`);
        return false;
      }
      const valueLength = m.type === 'put' ? m.value.length : 0;
      if (m.key.length > PROTOCOL_MAX_KEY_LENGTH || valueLength > PROTOCOL_MAX_VALUE_LENGTH) {
        this.count('too-large', `${m.type} from ${m.src}: a key of ${m.key.length} or a value ` +
          `of ${valueLength} characters, over the protocol's ${PROTOCOL_MAX_KEY_LENGTH} and ` +
          `${PROTOCOL_MAX_VALUE_LENGTH}`);
        return false;
      }
    }
    // [§6.3] a write in a session names its request number: without one, the session would
    // take it for a copy of a request already applied, and answer ok for nothing
    if ('session' in m && m.session !== undefined && (m.seq ?? 0) === 0
      && this.opts.admission?.directRequests === true) {
      this.count('invalid', `${m.type} from ${m.src}: session ${m.session} without a seq`);
      return false;
    }
    const peers = this.opts.admission?.peers;
    if (peers === undefined || from === undefined) return true;
    if (m.src === this.opts.config.id || peers.has(m.src) || m.src === 'FFFF') {
      this.count('bad-client-id', `${m.type} from ${this.where(from)} as ${m.src}`);
      return false;
    }
    const route = routeOf(m.src, m.MID);
    this.routes.delete(route);
    this.routes.set(route, from);
    if (this.routes.size > MAX_ROUTES) this.routes.delete(this.routes.keys().next().value as string);
    return true;
  }

  /** An admitted message: a snapshot chunk waits for its snapshot, anything else is stepped. */
  private feed(m: PeerMessage | ClientRequest | InstallSnapshotChunk, fromPeer: boolean,
    counted = false): void {
    if (m.type === 'InstallSnapshotChunk') return this.chunk(m, fromPeer);
    if (!counted) {
      this.intake.accepted++;
      if (fromPeer) this.intake.acceptedFromPeers++;
    }
    this.pump(m);
    if (isClientRequest(m) && !this.flushPending) {
      // Requests that arrive together leave together: one AppendEntries per peer for the batch.
      this.flushPending = true;
      this.opts.clock.afterBatch(() => {
        this.flushPending = false;
        if (!this.stopped) this.pump({ type: 'Flush' });
      });
    }
  }

  private chunk(m: InstallSnapshotChunk, fromPeer: boolean): void {
    const nowMs = this.opts.clock.now();
    const r = this.chunks.accept(m, nowMs);
    if (r.kind === 'invalid-chunk') return this.count('invalid', `chunk from ${m.src}: ${r.detail}`);
    this.intake.accepted++;
    if (fromPeer) this.intake.acceptedFromPeers++;
    if (r.kind === 'invalid') {
      this.installs.refused++;
      if (this.installs.refused === 1) {
        this.opts.log?.(`${this.opts.config.id}: refused a snapshot from ${m.src}: ${r.detail}`);
      }
    }
    if (r.kind !== 'complete') return;
    const before = this.state.log.snapshot;
    this.pump(r.message);
    if (this.stopped || this.state.log.snapshot === before) return; // nothing new in it
    Object.assign(this.installs, { count: this.installs.count + 1, lastBytes: r.bytes,
      lastMs: this.opts.clock.now() - r.startedMs });
    this.opts.log?.(`${this.opts.config.id}: installed a snapshot at ` +
      `${r.message.lastIncludedIndex} from ${m.src}: ${r.bytes} bytes in ${r.chunks} chunks, ` +
      `${this.installs.lastMs.toFixed(1)} ms`);
  }

  /** Ticks owed first (a `Tick` never jumps past a due timer), then `event`, if any. */
  private pump(event?: RaftEvent): void {
    for (;;) {
      if (this.stopped) return;
      const nowTick = Math.max(
        Math.floor((this.opts.clock.now() - this.startMs) / this.opts.tickMs), this.reachedTick);
      const owed = nowTick - this.ticks;
      if (owed <= 0) break;
      const due = ticksUntilDue(this.state, this.role);
      if (owed > due + STALL_SLACK_TICKS) {
        this.slip(nowTick, this.ticks + due - 1);
        continue;
      }
      const ticks = Math.min(owed, due);
      this.ticks += ticks;
      this.step({ type: 'Tick', ticks });
    }
    if (event !== undefined) this.step(event);
    this.scheduleWake();
  }

  /**
   * The loop ran late: a timer fell due more than `STALL_SLACK_TICKS` ago (the process was
   * stopped, or a pause held it). The time it missed is dropped, as a Go ticker drops the ticks
   * its reader missed (etcd ticks that way): the replica's clock stops one tick short of the due
   * timer, so the datagrams that queued up during the stall are read before the timer fires, a
   * tick later. Otherwise a leader back from a pause would run CheckQuorum before reading the
   * acknowledgements waiting for it, and step down for nothing. Timers decide liveness only
   * (no lease reads depend on them), so a slower clock never weakens safety.
   */
  private slip(nowTick: number, keep: number): void {
    const missed = nowTick - keep;
    this.startMs += missed * this.opts.tickMs;
    this.reachedTick = Math.min(this.reachedTick, keep);
    this.stalledTicks += missed;
    // the wake scheduled for tick n is now due later: `scheduleWake` sets it again
    this.cancelWake?.();
    this.cancelWake = undefined;
    this.wakeTick = Infinity;
  }

  private step(event: RaftEvent): void {
    if (this.stopped) return;
    const before = this.state;
    const [next, emitted] = this.transition(this.snapshot, event);
    this.snapshot = next;
    let effects = emitted;
    if (this.effects.length > 0) {
      effects = [...this.effects, ...emitted];
      this.effects = [];
    }
    const observe = this.opts.observe;
    if (observe !== undefined) {
      let logFrom: number | undefined;
      for (const e of effects) {
        if (e.type === 'persist' && e.log !== undefined) {
          logFrom = Math.min(logFrom ?? Infinity, e.log.fromIndex);
        }
      }
      observe({ event, before, after: this.state, role: this.role, effects, logFrom });
    }
    if (effects.length === 0) return;
    if (this.commit !== undefined) this.commit.take(effects);
    else for (const e of effects) if (e.type === 'send' || e.type === 'reply') this.emit(e.message);
  }

  private scheduleWake(): void {
    if (this.stopped) return;
    const dueTick = this.ticks + ticksUntilDue(this.state, this.role);
    if (dueTick === this.wakeTick) return;
    this.cancelWake?.();
    this.wakeTick = dueTick;
    this.cancelWake = this.opts.clock.at(this.startMs + dueTick * this.opts.tickMs, () => {
      this.cancelWake = undefined;
      this.reachedTick = Math.max(this.reachedTick, this.wakeTick);
      this.wakeTick = Infinity;
      this.pump();
    });
  }

  /** A message or answer may leave: [§7] a snapshot as chunks that each fit in a datagram. */
  private emit(whole: Message): void {
    if (this.stopped) return;
    const datagrams = toDatagrams(whole, this.opts.chunkBytes ?? CHUNK_BYTES);
    if (datagrams.length === 0 && !this.tooLarge) {
      this.tooLarge = true; // said once: the state outgrew MAX_SNAPSHOT_CHUNKS chunks
      this.opts.log?.(`${this.opts.config.id}: a snapshot too large to send (${whole.type} to ` +
        `${whole.dst})`);
    }
    const peers = this.opts.admission?.peers;
    for (const m of datagrams) {
      const peer = m.dst === 'FFFF' || PEER_TYPES.has(m.type);
      if (peers === undefined) this.opts.transport.send(m, undefined, peer);
      else if (m.dst === 'FFFF') for (const to of peers.values()) this.opts.transport.send(m, to, true);
      else if (peers.has(m.dst)) this.opts.transport.send(m, peers.get(m.dst), true);
      else if ('MID' in m) {
        const client = this.routes.get(routeOf(m.dst, m.MID));
        if (client !== undefined) this.opts.transport.send(m, client, false);
      }
    }
  }
}
