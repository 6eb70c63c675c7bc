/**
 * One replica of the deterministic simulation: the statechart as a live actor, exactly as the
 * replica shells run it, with a clock in virtual ticks and a disk (`disk.ts`). Writes, syncs and
 * held messages go through the shells' own group commit (`replica/commit.ts`): the replica keeps
 * stepping while a sync is in flight, a batch's writes reach the disk when its sync starts, and a
 * message leaves only once every write issued before it is durable. A crash loses the writes not
 * yet synced (a prefix of the batch being synced may survive), and nothing that depended on them
 * was seen.
 * The host does not schedule anything itself: it tells its driver what to schedule, and when.
 */
import { createActor, type Actor } from 'xstate';
import type { InstallSnapshotChunk, Message } from '../wire/messages.js';
import { Reassembler, toDatagrams } from '../wire/chunks.js';
import { raftMachine } from '../core/raft.js';
import type { RaftEvent } from '../core/machine.js';
import { ticksUntilDue } from '../core/timers.js';
import type { Config, Effect, Persisted, RaftState } from '../core/state.js';
import { GroupCommit } from '../replica/commit.js';
import { Disk } from './disk.js';

/**
 * Deviation from the shells' `CHUNK_BYTES`: a simulated store holds a few small keys, so its
 * snapshots are cut into chunks this small, and every one travels as several datagrams that the
 * network drops, duplicates and reorders one by one.
 */
export const SIM_CHUNK_BYTES = 48;

export interface HostDriver {
  /** A message or answer left the replica now. */
  emit(host: Host, message: Message): void;
  /** The disk must complete a sync of writes up to `upTo`: call `synced(upTo)` when it has. */
  startSync(host: Host, upTo: number): void;
  /** Call `wake(generation)` at `atMs`: a timer is due then. */
  wakeAt(host: Host, atMs: number, generation: number): void;
  /** Call `flush()` right after the current batch of arrivals (the shell's setImmediate). */
  flushSoon(host: Host): void;
  /**
   * After every step, for the checkers: the states before and after, the step's effects, and the
   * first log index it changed.
   */
  stepped(host: Host, step: HostStep): void;
}

export interface HostStep {
  readonly event: RaftEvent;
  readonly before: RaftState;
  readonly after: RaftState;
  readonly effects: readonly Effect[];
  readonly logFrom: number | undefined;
}

export class Host {
  readonly disk = new Disk();
  private actor: Actor<typeof raftMachine> | undefined;
  private effects: Effect[] = [];
  /** Events that arrived while the replica was busy, in arrival order. */
  private inbox: RaftEvent[] = [];
  private commit: GroupCommit | undefined;
  private flushPending = false;
  /** Ticks delivered since the process started, and when it started. */
  private ticks = 0;
  private startMs = 0;
  private wakeGeneration = 0;
  /**
   * The tick the scheduled wake is for (Infinity: none), and the latest tick a wake has reached.
   * Virtual time is counted in whole ticks: `(startMs + n * tickMs - startMs) / tickMs` can round
   * to just under `n`, and a wake that delivered no tick would schedule itself again at the same
   * instant forever.
   */
  private wakeTick = Infinity;
  private reachedTick = 0;
  /** Counts processes of this replica: a restart is a new incarnation. */
  incarnation = 0;
  /** Snapshot chunks collected by this process. */
  private chunks = new Reassembler();

  constructor(readonly id: string, private readonly config: Config,
    private readonly tickMs: number, private readonly driver: HostDriver) {}

  get alive(): boolean {
    return this.actor !== undefined;
  }

  get state(): RaftState {
    if (this.actor === undefined) throw new Error(`${this.id} is not running`);
    return this.actor.getSnapshot().context;
  }

  /** Start a process at `nowMs`, from what the disk holds (a restart), with its own seed. */
  start(nowMs: number, seed: number, persisted?: Persisted): void {
    this.incarnation++;
    this.inbox = [];
    this.chunks = new Reassembler();
    this.commit = this.newCommit();
    this.flushPending = false;
    this.ticks = 0;
    this.startMs = nowMs;
    this.wakeTick = Infinity;
    this.reachedTick = 0;
    const actor = createActor(raftMachine, { input: { config: this.config, seed, persisted } });
    actor.on('*', (e: Effect) => { this.effects.push(e); });
    actor.start();
    this.actor = actor;
    this.scheduleWake();
  }

  /** SIGKILL: volatile state, the inbox and every held message are gone. */
  kill(): void {
    this.actor?.stop();
    this.actor = undefined;
    this.inbox = [];
    this.commit = undefined;
  }

  /** An event arrives now (a decoded datagram, or the shell's Flush). */
  arrive(event: RaftEvent, nowMs: number): void {
    if (!this.alive) return;
    this.inbox.push(event);
    this.pump(nowMs);
  }

  /** A snapshot chunk arrives now; the snapshot arrives once it is whole. */
  arriveChunk(chunk: InstallSnapshotChunk, nowMs: number): string | undefined {
    if (!this.alive) return undefined;
    const r = this.chunks.accept(chunk, nowMs);
    if (r.kind === 'invalid' || r.kind === 'invalid-chunk') return r.detail;
    if (r.kind === 'complete') this.arrive(r.message, nowMs);
    return undefined;
  }

  wake(generation: number, nowMs: number): void {
    if (generation !== this.wakeGeneration || !this.alive) return;
    this.reachedTick = Math.max(this.reachedTick, this.wakeTick);
    this.wakeTick = Infinity;
    this.pump(nowMs);
  }

  flush(nowMs: number): void {
    this.flushPending = false;
    this.arrive({ type: 'Flush' }, nowMs);
  }

  /** The sync of the disk's writes up to `upTo` completed: what waited for it leaves. */
  synced(upTo: number): void {
    if (!this.alive) return;
    this.disk.syncedUpTo(upTo);
    this.commit?.synced();
  }

  /** The disk is the simulated one; what is written, synced and held is the shells' rule. */
  private newCommit(): GroupCommit {
    return new GroupCommit({
      // [§7] a snapshot leaves as chunks, as from the replica shells (`wire/chunks.ts`)
      emit: (message) => {
        for (const m of toDatagrams(message, SIM_CHUNK_BYTES)) this.driver.emit(this, m);
      },
      sync: (writes) => {
        for (const w of writes) this.disk.write(w);
        this.disk.endBatch();
        this.driver.startSync(this, this.disk.lastSeq);
      },
    });
  }

  /** Ticks owed first (each `Tick` never jumps past a due timer), then the inbox. */
  private pump(nowMs: number): void {
    while (this.alive) {
      const owed = Math.max(Math.floor((nowMs - this.startMs) / this.tickMs), this.reachedTick)
        - this.ticks;
      if (owed > 0) {
        const ticks = Math.min(owed, ticksUntilDue(this.state));
        this.ticks += ticks;
        this.step({ type: 'Tick', ticks });
        continue;
      }
      const next = this.inbox.shift();
      if (next === undefined) break;
      this.step(next);
    }
    if (this.alive) this.scheduleWake();
  }

  private step(event: RaftEvent): void {
    const before = this.state;
    (this.actor as Actor<typeof raftMachine>).send(event);
    const effects = this.effects;
    this.effects = [];
    let logFrom: number | undefined;
    for (const e of effects) {
      if (e.type === 'persist' && e.log !== undefined) {
        logFrom = Math.min(logFrom ?? Infinity, e.log.fromIndex);
      }
    }
    this.commit?.take(effects);
    this.driver.stepped(this, { event, before, after: this.state, effects, logFrom });
    if ((event.type === 'get' || event.type === 'put') && !this.flushPending) {
      this.flushPending = true;
      this.driver.flushSoon(this);
    }
  }

  private scheduleWake(): void {
    const dueTick = this.ticks + ticksUntilDue(this.state);
    if (dueTick === this.wakeTick) return;
    this.wakeTick = dueTick;
    this.driver.wakeAt(this, this.startMs + dueTick * this.tickMs, ++this.wakeGeneration);
  }
}
