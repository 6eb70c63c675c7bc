/**
 * The file operations the write-ahead log (`wal.ts`) uses, and nothing else: so that the same log
 * code runs on Node's file system in a replica process and on the deterministic simulation's
 * disk (`detsim/disk.ts`), which can tear writes, lose what was not synced, and fail.
 * Start-up operations are synchronous (nothing is served before recovery ends); the group
 * commit's path (`write`, `fdatasync`) calls back, as Node does, never before it returns.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export type Fd = number;
export type Done = (error: Error | null) => void;

export interface FileSystem {
  /** Create `dir` and its missing parents, each made durable in its parent directory. */
  mkdirp(dir: string): void;
  exists(file: string): boolean;
  readFile(file: string): Buffer;
  /** Remove `file` if it exists. */
  remove(file: string): void;
  rename(from: string, to: string): void;
  /** A new or renamed directory entry is durable only once its directory is synced. */
  syncDir(dir: string): void;
  /** Cut `file` to `length` bytes, durably. */
  truncate(file: string, length: number): void;
  /** Create or replace `file` with `bytes`, durably (not its directory entry: `syncDir`). */
  writeFileSynced(file: string, bytes: Uint8Array): void;
  /** Open for appends at the end (`a`), or a new empty file (`w`). */
  open(file: string, mode: 'a' | 'w'): Fd;
  close(fd: Fd): void;
  size(fd: Fd): number;
  /** Append `length` bytes of `bytes` from `offset`; calls back with the bytes written. */
  write(fd: Fd, bytes: Uint8Array, offset: number, length: number,
    done: (error: Error | null, written: number) => void): void;
  fdatasync(fd: Fd, done: Done): void;
  /** One process per data directory; throws `WalLockedError` (wal.ts) when it is taken. */
  lock(dir: string): void;
  unlock(dir: string): void;
}

/** Another process (or another open log in this one) has the directory. */
export class WalLockedError extends Error {
  constructor(readonly dir: string, readonly pid: number) {
    super(`${dir} is in use by process ${pid}: one replica per data directory`);
    this.name = 'WalLockedError';
  }
}

/** Holds the PID of the process that has the log open. */
export const WAL_LOCK_FILE = 'raft.lock';

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Does process `pid` still run? A signal test alone says yes for a zombie: a replica killed with
 * SIGKILL whose parent has exited stays one until something reaps it, and its lock or its layout
 * entry must not outlive it. Where `/proc` can tell, a zombie (state Z or X) is dead.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (e) {
    // gone between the two looks, or no /proc here: the signal test is all there is
    return (e as NodeJS.ErrnoException).code !== 'ENOENT' || !fs.existsSync('/proc/self/stat');
  }
  // "pid (comm) S ...": comm may hold spaces and parentheses, so the state follows the last ')'
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

/** Directories whose log this process has open. */
const lockedHere = new Set<string>();

/** Node's file system. */
export const nodeFileSystem: FileSystem = {
  mkdirp: (dir) => {
    const first = fs.mkdirSync(dir, { recursive: true });
    if (first === undefined) return;
    const top = path.resolve(first);
    for (let d = path.resolve(dir); ; d = path.dirname(d)) {
      fsyncDir(path.dirname(d));
      if (d === top || d === path.dirname(d)) break;
    }
  },
  exists: (file) => fs.existsSync(file),
  readFile: (file) => fs.readFileSync(file),
  remove: (file) => fs.rmSync(file, { force: true }),
  rename: (from, to) => fs.renameSync(from, to),
  syncDir: fsyncDir,
  truncate: (file, length) => {
    const fd = fs.openSync(file, 'r+');
    try {
      fs.ftruncateSync(fd, length);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  },
  writeFileSynced: (file, bytes) => {
    const fd = fs.openSync(file, 'w');
    try {
      for (let done = 0; done < bytes.length;) done += fs.writeSync(fd, bytes, done);
      fs.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  },
  open: (file, mode) => fs.openSync(file, mode),
  close: (fd) => fs.closeSync(fd),
  size: (fd) => fs.fstatSync(fd).size,
  write: (fd, bytes, offset, length, done) => {
    fs.write(fd, bytes, offset, length, null, (e, n) => done(e, n));
  },
  fdatasync: (fd, done) => fs.fdatasync(fd, done),
  /**
   * A second process on the directory would compact the file under the first, which would go on
   * syncing into a file that no longer has a name and lose every later write. A lock left by a
   * process that died (kill -9) is taken over.
   */
  lock: (dir) => {
    const at = path.join(dir, WAL_LOCK_FILE);
    const key = path.resolve(dir);
    const owner = Number.parseInt(fs.existsSync(at) ? fs.readFileSync(at, 'utf8') : '', 10);
    if (lockedHere.has(key)) throw new WalLockedError(dir, process.pid);
    if (Number.isInteger(owner) && owner !== process.pid && processAlive(owner)) {
      throw new WalLockedError(dir, owner);
    }
    fs.writeFileSync(at, String(process.pid));
    lockedHere.add(key);
  },
  unlock: (dir) => {
    lockedHere.delete(path.resolve(dir));
    fs.rmSync(path.join(dir, WAL_LOCK_FILE), { force: true });
  },
};
