/**
 * One replica of the deterministic simulation: the real replica loop (`replica/loop.ts`), with
 * group commit and the real write-ahead log (`disk/wal.ts`), over a simulated disk (`disk.ts`)
 * that outlives its processes. The host supplies only what a shell supplies: virtual time from
 * the simulation's event queue, a transport into the simulated network, and the disk.
 * A kill is a SIGKILL, sometimes with a power loss: what was not synced may then be lost or torn,
 * and the restarted process recovers from what the disk holds, through the WAL's own recovery.
 */
import type { Message } from '../wire/messages.js';
import type { RaftMachine } from '../core/raft.js';
import type { Config, Persisted, RaftState, Role } from '../core/state.js';
import { openWal, readWal, type Recovered, type Wal } from '../disk/wal.js';
import { ReplicaLoop, type LoopStep } from '../replica/loop.js';
import type { Rng } from '../fault/rng.js';
import { SimDisk, type DiskTiming } from './disk.js';

/**
 * Deviation from the shells' `CHUNK_BYTES`: a simulated store holds a few small keys, so its
 * snapshots are cut into chunks this small, and every one travels as several datagrams that the
 * network drops, duplicates and reorders one by one.
 */
export const SIM_CHUNK_BYTES = 48;

/** Every simulated replica keeps its log here, on its own disk. */
export const SIM_DATA_DIR = '/data';

export interface HostDriver {
  now(): number;
  /** Call `fn` at `atMs` of virtual time. */
  schedule(atMs: number, fn: () => void): void;
  /** A datagram left the replica now. */
  emit(host: Host, message: Message): void;
  /** After every step, for the checkers. */
  stepped(host: Host, step: LoopStep): void;
  /** The replica stopped itself: its disk failed (it fails stop, as a process exits). */
  failed(host: Host, error: Error): void;
}

export interface HostOptions {
  readonly config: Config;
  readonly tickMs: number;
  readonly machine: RaftMachine;
  /** From spawn to the end-of-batch flush (`setImmediate`). */
  readonly flushMs: number;
  readonly disk: DiskTiming;
  /** Chance that a write or fdatasync fails (EIO, ENOSPC). */
  readonly diskFailChance: number;
  /** The disk's stream: latencies, torn writes, failures. */
  readonly diskRng: Rng;
  /** A broken disk whose fdatasync makes nothing durable (`SimDisk`), for the checkers. */
  readonly diskLies?: boolean;
  /** Admit direct mode's own requests (del, cas), as a direct-mode replica does. */
  readonly directRequests?: boolean;
}

export class Host {
  readonly disk: SimDisk;
  private loop: ReplicaLoop | undefined;
  private wal: Wal | undefined;
  /** What the disk held after the last crash, as recovery reads it. */
  private afterCrash: Persisted;
  /** Counts processes of this replica: a restart is a new incarnation. */
  incarnation = 0;
  /** Group-commit figures, over every incarnation. */
  private pastSyncs = 0;
  private pastWritesSynced = 0;
  /** Datagrams the loops dropped, and snapshots refused: never expected in a simulation. */
  readonly dropped = new Map<string, number>();
  refusedSnapshots = 0;
  /** Ticks the loop dropped as late (`ReplicaLoop.slip`): virtual time wakes it on time, so 0. */
  stalledTicks = 0;

  constructor(readonly id: string, private readonly opts: HostOptions,
    private readonly driver: HostDriver) {
    this.disk = new SimDisk((delayMs, fn) => driver.schedule(driver.now() + delayMs, fn),
      opts.diskRng, opts.disk, opts.diskFailChance, opts.diskLies === true);
    this.afterCrash = readWal(SIM_DATA_DIR, this.disk);
  }

  get alive(): boolean {
    return this.loop?.alive === true;
  }

  get state(): RaftState {
    if (this.loop === undefined) throw new Error(`${this.id} is not running`);
    return this.loop.state;
  }

  /** The role: the statechart's state. */
  get role(): Role {
    if (this.loop === undefined) throw new Error(`${this.id} is not running`);
    return this.loop.role;
  }

  /** What is on disk for sure: every synced write (the last crash's survivors, while down). */
  durable(): Persisted {
    return this.alive && this.wal !== undefined ? this.wal.durable : this.afterCrash;
  }

  get syncs(): number {
    return this.pastSyncs + (this.wal?.syncs ?? 0);
  }

  get writesSynced(): number {
    return this.pastWritesSynced + (this.wal?.writesSynced ?? 0);
  }

  /** Start a process now, from what the disk holds; throws `CorruptWalError` as a replica would. */
  start(seed: number): Recovered {
    this.incarnation++;
    const { wal, recovered } = openWal(SIM_DATA_DIR, { fs: this.disk });
    this.wal = wal;
    const driver = this.driver;
    const loop = new ReplicaLoop({
      config: this.opts.config,
      seed,
      persisted: recovered.persisted,
      machine: this.opts.machine,
      tickMs: this.opts.tickMs,
      chunkBytes: SIM_CHUNK_BYTES,
      ...(this.opts.directRequests === true ? { admission: { directRequests: true } } : {}),
      clock: {
        now: () => driver.now(),
        at: (atMs, fn) => {
          let live = true;
          driver.schedule(atMs, () => { if (live) fn(); });
          return () => { live = false; };
        },
        afterBatch: (fn) => driver.schedule(driver.now() + this.opts.flushMs, fn),
      },
      transport: { send: (m) => driver.emit(this, m) },
      durability: wal,
      onFatal: (error) => {
        this.down(false);
        driver.failed(this, error);
      },
      observe: (step) => driver.stepped(this, step),
    });
    this.loop = loop;
    return recovered;
  }

  /** SIGKILL, with a power loss or without: volatile state and every held message are gone. */
  kill(powerLoss: boolean): void {
    if (!this.alive) return;
    this.down(powerLoss);
  }

  /** A datagram's parsed value arrives now. */
  receive(value: unknown): void {
    this.loop?.receiveValue(value);
  }

  private down(powerLoss: boolean): void {
    const loop = this.loop;
    if (loop !== undefined) {
      loop.stop();
      for (const [kind, n] of loop.dropped) this.dropped.set(kind, (this.dropped.get(kind) ?? 0) + n);
      this.refusedSnapshots += loop.installs.refused;
      this.stalledTicks += loop.stalledTicks;
    }
    this.pastSyncs += this.wal?.syncs ?? 0;
    this.pastWritesSynced += this.wal?.writesSynced ?? 0;
    this.wal = undefined;
    if (powerLoss) this.disk.powerLoss();
    else this.disk.processCrash();
    this.afterCrash = readWal(SIM_DATA_DIR, this.disk);
  }

  /** The figures of the running process, for the run's end. */
  finish(): void {
    const loop = this.loop;
    if (loop === undefined || !loop.alive) return;
    for (const [kind, n] of loop.dropped) this.dropped.set(kind, (this.dropped.get(kind) ?? 0) + n);
    this.refusedSnapshots += loop.installs.refused;
    this.stalledTicks += loop.stalledTicks;
  }
}
