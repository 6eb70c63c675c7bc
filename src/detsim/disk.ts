/**
 * The deterministic simulation's disk: a `FileSystem` (`disk/fs.ts`) in memory, under which a
 * replica runs the real write-ahead log (`disk/wal.ts`). It keeps, for every file, what is in the
 * page cache and how much of it is durable, and for every name, the file it names now and the one
 * it names durably (a rename is durable once its directory is synced).
 * - A process crash (SIGKILL) loses nothing the process wrote: the page cache survives.
 * - A power loss keeps the durable bytes of every file, plus none, all, or a random prefix (a torn
 *   write) of what was appended after them, and reverts names to their durable files.
 * - A write or an fdatasync can fail with EIO or ENOSPC, at the chance the run sets.
 * Writes land in the page cache at once and call back after `writeMs`; an fdatasync makes the
 * bytes written before it durable after a latency drawn from the seed. Nothing here reads a clock
 * or `Math.random`.
 */
import * as path from 'node:path';
import type { Done, Fd, FileSystem } from '../disk/fs.js';
import { WalLockedError } from '../disk/fs.js';
import type { Rng } from '../fault/rng.js';

export interface DiskTiming {
  readonly writeMs: number;
  readonly syncMsMin: number;
  readonly syncMsMax: number;
}

interface Inode {
  chunks: Buffer[];
  length: number;
  /** The first `durable` bytes survive a power loss. */
  durable: number;
}

export type Schedule = (delayMs: number, fn: () => void) => void;

export class SimDisk implements FileSystem {
  private readonly names = new Map<string, Inode>();
  private readonly durableNames = new Map<string, Inode>();
  private readonly dirs = new Set<string>(['/']);
  private readonly fds = new Map<Fd, Inode>();
  private nextFd = 3;
  private locked = false;
  /** Bumped by every power loss: callbacks of operations issued before it do nothing. */
  private epoch = 0;
  /** Figures for the run's report. */
  syncs = 0;
  failures = 0;
  powerLosses = 0;
  tornWrites = 0;

  /**
   * `lies`: a broken disk for the checkers to catch (tool code only): fdatasync reports success
   * and makes nothing durable, as a drive with a volatile write cache that ignores flushes.
   */
  constructor(private readonly schedule: Schedule, private readonly rng: Rng,
    private readonly timing: DiskTiming, private readonly failChance = 0,
    private readonly lies = false) {}

  mkdirp(dir: string): void {
    for (let d = path.resolve(dir); !this.dirs.has(d); d = path.dirname(d)) this.dirs.add(d);
  }

  exists(file: string): boolean {
    return this.names.has(file);
  }

  readFile(file: string): Buffer {
    return contents(this.inode(file));
  }

  remove(file: string): void {
    this.names.delete(file);
  }

  rename(from: string, to: string): void {
    this.names.set(to, this.inode(from));
    this.names.delete(from);
  }

  syncDir(dir: string): void {
    const d = path.resolve(dir);
    for (const name of [...this.durableNames.keys()]) {
      if (path.dirname(name) === d && !this.names.has(name)) this.durableNames.delete(name);
    }
    for (const [name, inode] of this.names) {
      if (path.dirname(name) === d) this.durableNames.set(name, inode);
    }
  }

  truncate(file: string, length: number): void {
    const inode = this.inode(file);
    const bytes = contents(inode).subarray(0, length);
    Object.assign(inode, { chunks: [Buffer.from(bytes)], length: bytes.length,
      durable: bytes.length });
  }

  writeFileSynced(file: string, bytes: Uint8Array): void {
    const copy = Buffer.from(bytes);
    this.names.set(file, { chunks: [copy], length: copy.length, durable: copy.length });
  }

  open(file: string, mode: 'a' | 'w'): Fd {
    let inode = this.names.get(file);
    if (inode === undefined || mode === 'w') {
      inode = { chunks: [], length: 0, durable: 0 };
      this.names.set(file, inode);
    }
    const fd = this.nextFd++;
    this.fds.set(fd, inode);
    return fd;
  }

  close(fd: Fd): void {
    this.fds.delete(fd);
  }

  size(fd: Fd): number {
    return this.fds.get(fd)?.length ?? 0;
  }

  write(fd: Fd, bytes: Uint8Array, offset: number, length: number,
    done: (error: Error | null, written: number) => void): void {
    const inode = this.fds.get(fd);
    const failure = inode === undefined ? ebadf() : this.failure('write');
    if (failure === undefined && inode !== undefined) {
      inode.chunks.push(Buffer.from(bytes.subarray(offset, offset + length)));
      inode.length += length;
    }
    this.later(this.timing.writeMs, () => done(failure ?? null, failure === undefined ? length : 0));
  }

  fdatasync(fd: Fd, done: Done): void {
    const inode = this.fds.get(fd);
    const failure = inode === undefined ? ebadf() : this.failure('fdatasync');
    const upTo = inode?.length ?? 0;
    const t = this.timing;
    this.later(t.syncMsMin + this.rng.float() * (t.syncMsMax - t.syncMsMin), () => {
      if (failure === undefined && inode !== undefined && !this.lies) {
        inode.durable = Math.max(inode.durable, Math.min(upTo, inode.length));
        this.syncs++;
      }
      done(failure ?? null);
    });
  }

  lock(dir: string): void {
    if (this.locked) throw new WalLockedError(dir, 0);
    this.locked = true;
  }

  unlock(): void {
    this.locked = false;
  }

  /**
   * The process died (SIGKILL): open files close, the lock is released; the page cache, and so
   * everything written, survives.
   */
  processCrash(): void {
    this.fds.clear();
    this.locked = false;
    this.epoch++;
  }

  /**
   * The machine lost power: besides a process crash, every file keeps its durable bytes and a
   * random prefix of the bytes after them (a torn write), and every name reverts to its durable
   * file.
   */
  powerLoss(): void {
    this.processCrash();
    this.powerLosses++;
    const inodes = new Set([...this.names.values(), ...this.durableNames.values()]);
    for (const inode of inodes) {
      const bytes = contents(inode);
      const unsynced = bytes.length - inode.durable;
      // none of the unsynced bytes reached the platter, all of them, or a torn prefix
      const fate = unsynced > 0 ? this.rng.int(3) : 0;
      const kept = fate === 0 ? 0 : fate === 1 ? unsynced : this.rng.int(unsynced + 1);
      this.tornWrites += kept > 0 && kept < unsynced ? 1 : 0;
      const survives = bytes.subarray(0, inode.durable + kept);
      Object.assign(inode, { chunks: [Buffer.from(survives)], length: survives.length,
        durable: survives.length });
    }
    this.names.clear();
    for (const [name, inode] of this.durableNames) this.names.set(name, inode);
  }

  private inode(file: string): Inode {
    const inode = this.names.get(file);
    if (inode === undefined) {
      throw Object.assign(new Error(`ENOENT: no such file, '${file}'`), { code: 'ENOENT' });
    }
    return inode;
  }

  /** A failure drawn from the seed, at `failChance`: EIO or ENOSPC. */
  private failure(op: string): Error | undefined {
    if (this.failChance <= 0 || !this.rng.chance(this.failChance)) return undefined;
    this.failures++;
    const code = this.rng.chance(0.5) ? 'EIO' : 'ENOSPC';
    const what = code === 'EIO' ? 'i/o error' : 'no space left on device';
    return Object.assign(new Error(`${code}: ${what}, ${op}`), { code });
  }

  private later(delayMs: number, fn: () => void): void {
    const epoch = this.epoch;
    this.schedule(delayMs, () => { if (epoch === this.epoch) fn(); });
  }
}

function contents(inode: Inode): Buffer {
  if (inode.chunks.length !== 1) inode.chunks = [Buffer.concat(inode.chunks, inode.length)];
  return inode.chunks[0] as Buffer;
}

function ebadf(): Error {
  return Object.assign(new Error('EBADF: bad file descriptor'), { code: 'EBADF' });
}
