/**
 * The write-ahead log: durable currentTerm, votedFor and the Raft log [Fig2:State "persistent state
 * on all servers, updated on stable storage before responding to RPCs"].
 *
 * One append-only file, `raft.wal`, of records. A record is a 12-byte header, then its payload:
 *
 *   u32le payloadLength | u32le crc32(payload) | u32le crc32(header bytes 0..7) | payload
 *
 * The payload is one batch of `persist` writes, as UTF-8 JSON (`src/wire/wal.ts`): one record per
 * fdatasync. Recovery replays every
 * record onto a fresh state. A crash mid-append leaves a torn tail, which recovery cuts off; a bad
 * record with a good one after it cannot come from a crash, so recovery refuses to start on it.
 * Opening rewrites the file as one record of the whole state (and a marker after it, see
 * `compact`). [§7] So does every batch that carries a snapshot: the whole state is then the
 * snapshot and the few entries after it, so the file stays about the size of one snapshot plus
 * the entries since it, however long the replica runs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { applyWrite, emptyPersisted, type PersistWrite } from '../core/persisted.js';
import { compactTo, entriesAfterSnapshot, lastLogIndex } from '../core/log.js';
import type { Persisted } from '../core/state.js';
import { decodeWalBatch, encodeWalBatch } from '../wire/wal.js';

export const WAL_FILE = 'raft.wal';
export const WAL_TMP_FILE = 'raft.wal.tmp';
/** Holds the PID of the process that has the log open. */
export const WAL_LOCK_FILE = 'raft.lock';
export const WAL_HEADER_BYTES = 12;

/** One `persist` effect without its tag, as the core emits it. */
export type WalWrite = PersistWrite;

// -------------------------------------------------------------------------------------------------
// CRC-32 (IEEE 802.3, as zlib): `zlib.crc32` only exists from Node 20.15, and engines allows 20.11.
// -------------------------------------------------------------------------------------------------

const CRC_TABLE = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) {
    c = (CRC_TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}

// -------------------------------------------------------------------------------------------------
// Records
// -------------------------------------------------------------------------------------------------

/** The log holds a record that no crash can explain: the server must not start on it. */
export class CorruptWalError extends Error {
  constructor(readonly file: string, readonly offset: number, readonly reason: string) {
    super(`${file}: corrupt record at offset ${offset} (${reason}); ` +
      'refusing to start on corrupt state');
    this.name = 'CorruptWalError';
  }
}

/** Log entries the writes carry. */
const entriesOf = (writes: readonly WalWrite[]): number =>
  writes.reduce((n, w) => n + (w.log?.entries.length ?? 0), 0);

/**
 * One record holding every write of a batch, and the log entries they carry. One record per
 * fdatasync: a crash, power loss included, can tear only the batch being synced, and that batch
 * is the file's tail, so a torn write never looks like a bad record followed by a good one.
 */
export function encodeRecord(writes: readonly WalWrite[]): { bytes: Buffer; entries: number } {
  const payload = encodeWalBatch(writes);
  const bytes = Buffer.allocUnsafe(WAL_HEADER_BYTES + payload.length);
  bytes.writeUInt32LE(payload.length, 0);
  bytes.writeUInt32LE(crc32(payload), 4);
  bytes.writeUInt32LE(crc32(bytes, 0, 8), 8);
  bytes.set(payload, WAL_HEADER_BYTES);
  return { bytes, entries: entriesOf(writes) };
}

type Probe =
  | { readonly ok: true; readonly payload: Uint8Array; readonly end: number }
  | { readonly ok: false; readonly reason: string };

/** Whether a whole record with good checksums starts at `offset`. */
function probe(bytes: Buffer, offset: number): Probe {
  if (bytes.length - offset < WAL_HEADER_BYTES) return { ok: false, reason: 'partial header' };
  if (crc32(bytes, offset, offset + 8) !== bytes.readUInt32LE(offset + 8)) {
    return { ok: false, reason: 'header checksum mismatch' };
  }
  const start = offset + WAL_HEADER_BYTES;
  const end = start + bytes.readUInt32LE(offset);
  if (end > bytes.length) return { ok: false, reason: 'payload extends past the end of the file' };
  if (crc32(bytes, start, end) !== bytes.readUInt32LE(offset + 4)) {
    return { ok: false, reason: 'payload checksum mismatch' };
  }
  return { ok: true, payload: bytes.subarray(start, end), end };
}

/**
 * Whether a good record starts anywhere after `offset`. An append only ever tears its own end, so
 * a bad record followed by a good one is corruption, not a crash. A false "yes" (a good record
 * forged inside a payload) only makes recovery refuse to start, never drop data; and JSON text
 * never holds the 0x00 byte that the length of any record under 16 MiB carries.
 */
function goodRecordAfter(bytes: Buffer, offset: number): boolean {
  for (let o = offset + 1; o + WAL_HEADER_BYTES <= bytes.length; o++) {
    if (probe(bytes, o).ok) return true;
  }
  return false;
}

interface Scan {
  readonly persisted: Persisted;
  readonly records: number;
  /** Where the good records end: the torn tail, if any, starts here. */
  readonly end: number;
}

/** Replays the records of `bytes` onto a fresh state; throws `CorruptWalError`. */
function scan(bytes: Buffer, file: string): Scan {
  let persisted = emptyPersisted();
  let records = 0;
  let offset = 0;
  while (offset < bytes.length) {
    const record = probe(bytes, offset);
    if (!record.ok) {
      if (goodRecordAfter(bytes, offset)) throw new CorruptWalError(file, offset, record.reason);
      break;
    }
    // Checksums passed, so these are the bytes that were written: a failure here is a bug or a
    // foreign format, never a crash.
    const decoded = decodeWalBatch(record.payload);
    if (E.isLeft(decoded)) throw new CorruptWalError(file, offset, decoded.left);
    for (const write of decoded.right) {
      const from = write.log?.fromIndex;
      const snapshot = write.log?.snapshot;
      const based = snapshot === undefined ? persisted.log : compactTo(persisted.log, snapshot);
      if (from !== undefined && (from <= based.snapshot.index || from > lastLogIndex(based) + 1)) {
        const reason = `log write from index ${from} onto a log of ${based.snapshot.index + 1}` +
          `..${lastLogIndex(based)}`;
        throw new CorruptWalError(file, offset, reason);
      }
      persisted = applyWrite(persisted, write);
    }
    records++;
    offset = record.end;
  }
  return { persisted, records, end: offset };
}

// -------------------------------------------------------------------------------------------------
// Files
// -------------------------------------------------------------------------------------------------

/** A new or renamed directory entry is durable only once its directory is synced. */
function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function makeDir(dir: string): void {
  const first = fs.mkdirSync(dir, { recursive: true });
  if (first === undefined) return;
  const top = path.resolve(first);
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    fsyncDir(path.dirname(d));
    if (d === top || d === path.dirname(d)) break;
  }
}

function truncateFile(file: string, length: number): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.ftruncateSync(fd, length);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Replaces the file by a record of the whole of `p`, then a short record that changes nothing: a
 * crash leaves either the old file or the new one. The second record keeps the first from ever
 * being the last: recovery takes a bad last record for a torn append, and this one holds the
 * server's whole state, which a bit flip must not be able to erase without a word.
 */
function compact(dir: string, p: Persisted): void {
  const tmp = path.join(dir, WAL_TMP_FILE);
  const bytes = wholeState(p);
  const fd = fs.openSync(tmp, 'w');
  try {
    for (let done = 0; done < bytes.length;) done += fs.writeSync(fd, bytes, done);
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path.join(dir, WAL_FILE));
  fsyncDir(dir);
}

/** The records of a compacted file: the whole of `p` (its snapshot included), then a marker. */
function wholeState(p: Persisted): Buffer {
  const hard = { currentTerm: p.currentTerm, votedFor: p.votedFor };
  const snap = p.log.snapshot;
  const whole: WalWrite = { ...hard, log: { ...(snap.index > 0 ? { snapshot: snap } : {}),
    fromIndex: snap.index + 1, entries: entriesAfterSnapshot(p.log) } };
  return Buffer.concat([encodeRecord([whole]).bytes,
    encodeRecord([{ ...hard, log: undefined }]).bytes]);
}

export interface Recovered {
  readonly persisted: Persisted;
  /** Good records read, before compaction. */
  readonly records: number;
  /** Bytes of torn tail cut off. */
  readonly tornBytes: number;
  readonly file: string;
}

/** The write path of `Wal.append`, injectable so that a test can fail it (ENOSPC, EIO). */
export interface WalIo {
  /** Writes at the end of the file; resolves with the bytes written. */
  write(fd: number, bytes: Uint8Array, offset: number, length: number): Promise<number>;
  fdatasync(fd: number): Promise<void>;
}

const nodeIo: WalIo = {
  write: (fd, bytes, offset, length) => new Promise((resolve, reject) => {
    fs.write(fd, bytes, offset, length, null, (e, n) => (e ? reject(e) : resolve(n)));
  }),
  fdatasync: (fd) => new Promise((resolve, reject) => {
    fs.fdatasync(fd, (e) => (e ? reject(e) : resolve()));
  }),
};

export interface WalOptions {
  readonly io?: Partial<WalIo>;
}

/** Another process (or another open log in this one) has the directory. */
export class WalLockedError extends Error {
  constructor(readonly dir: string, readonly pid: number) {
    super(`${dir} is in use by process ${pid}: one replica per data directory`);
    this.name = 'WalLockedError';
  }
}

/** Directories whose log this process has open. */
const lockedHere = new Set<string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One process per data directory: a second one would compact the file under the first, which
 * would go on syncing into a file that no longer has a name and lose every later write. A lock
 * left by a process that died (kill -9) is taken over.
 */
function lock(dir: string): void {
  const at = path.join(dir, WAL_LOCK_FILE);
  const key = path.resolve(dir);
  const owner = Number.parseInt(fs.existsSync(at) ? fs.readFileSync(at, 'utf8') : '', 10);
  if (lockedHere.has(key)) throw new WalLockedError(dir, process.pid);
  if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
    throw new WalLockedError(dir, owner);
  }
  fs.writeFileSync(at, String(process.pid));
  lockedHere.add(key);
}

function unlock(dir: string): void {
  lockedHere.delete(path.resolve(dir));
  fs.rmSync(path.join(dir, WAL_LOCK_FILE), { force: true });
}

/**
 * Recovers the state kept in `dir` (created if missing; empty means a fresh server), cuts off a
 * torn tail, compacts the file, and opens it for appends. Synchronous: it runs at start-up,
 * before the replica handles anything. Throws `CorruptWalError` on corrupt state, and
 * `WalLockedError` when a live process has the directory.
 */
export function openWal(dir: string, options: WalOptions = {}):
  { wal: Wal; recovered: Recovered } {
  makeDir(dir);
  lock(dir);
  try {
    return recover(dir, options);
  } catch (e) {
    unlock(dir);
    throw e;
  }
}

function recover(dir: string, options: WalOptions): { wal: Wal; recovered: Recovered } {
  const file = path.join(dir, WAL_FILE);
  // A leftover temporary file is a compaction whose rename never happened: raft.wal still holds
  // the whole state.
  fs.rmSync(path.join(dir, WAL_TMP_FILE), { force: true });
  const existed = fs.existsSync(file);
  const bytes = existed ? fs.readFileSync(file) : Buffer.alloc(0);
  const { persisted, records, end } = scan(bytes, file);
  const tornBytes = bytes.length - end;
  // Compaction rewrites the file, so it drops a torn tail too.
  if (records > 0) compact(dir, persisted);
  else if (tornBytes > 0) truncateFile(file, end);
  const fd = fs.openSync(file, 'a');
  if (!existed) fsyncDir(dir);
  const wal = new Wal(dir, file, fd, { ...nodeIo, ...options.io }, persisted);
  return { wal, recovered: { persisted, records, tornBytes, file } };
}

/** The open log. Appends are group commits: one write and one fdatasync per batch. */
export class Wal {
  /** Figures: fdatasyncs completed, and the records, log entries and bytes they made durable. */
  syncs = 0;
  writesSynced = 0;
  entriesSynced = 0;
  bytesSynced = 0;
  private inFlight = false;
  /** Rewrites of the whole file, one per batch that carried a snapshot [§7]. */
  rewrites = 0;
  /** The error that failed an append: the file's tail is unknown from then on. */
  private failure: { readonly error: unknown } | undefined;

  /**
   * `state` is what the file holds: kept up to date with every batch, to rewrite the file from
   * when a snapshot comes. It shares its entries with the core's log, so it costs little.
   */
  constructor(private readonly dir: string, readonly file: string, private fd: number,
    private readonly io: WalIo, private state: Persisted = emptyPersisted()) {}

  /**
   * Makes `writes` durable, in order; resolves once they are. The caller must wait for each
   * append before the next one (it batches what arrives meanwhile into the next); an overlapping
   * call is a bug and throws. A failed write or sync rejects with the fs error (ENOSPC, EIO), and
   * so does every later append: a partial record could otherwise end up followed by good ones,
   * which recovery would take for corruption. The caller is expected to exit.
   */
  append(writes: readonly WalWrite[]): Promise<void> {
    if (this.inFlight) throw new Error(`${this.file}: append while another append is in flight`);
    if (this.failure !== undefined) return Promise.reject(this.failure.error);
    if (writes.length === 0) return Promise.resolve();
    this.inFlight = true;
    return this.commit(writes).finally(() => {
      this.inFlight = false;
    });
  }

  private async commit(writes: readonly WalWrite[]): Promise<void> {
    const state = writes.reduce(applyWrite, this.state);
    const snapshot = writes.some((w) => w.log?.snapshot !== undefined);
    const { bytes, entries } = snapshot
      ? { bytes: wholeState(state), entries: entriesOf(writes) } : encodeRecord(writes);
    try {
      if (snapshot) await this.rewrite(bytes);
      else await this.writeAll(this.fd, bytes);
    } catch (error) {
      this.failure = { error };
      throw error;
    }
    this.state = state;
    this.syncs++;
    this.writesSynced += writes.length;
    this.entriesSynced += entries;
    this.bytesSynced += bytes.length;
  }

  private async writeAll(fd: number, bytes: Buffer): Promise<void> {
    for (let done = 0; done < bytes.length;) {
      const n = await this.io.write(fd, bytes, done, bytes.length - done);
      if (n <= 0) throw new Error(`${this.file}: write made no progress`);
      done += n;
    }
    await this.io.fdatasync(fd);
  }

  /**
   * [§7] The file becomes `bytes` (the whole state, from its new snapshot on), atomically: written
   * and synced under a temporary name, renamed over the log, the directory synced. A crash leaves
   * the old file or the new one, so the batch is durable whole or not at all, as an append is.
   */
  private async rewrite(bytes: Buffer): Promise<void> {
    const tmp = path.join(this.dir, WAL_TMP_FILE);
    const fd = fs.openSync(tmp, 'w');
    try {
      await this.writeAll(fd, bytes);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.file);
    fsyncDir(this.dir);
    fs.closeSync(this.fd);
    this.fd = fs.openSync(this.file, 'a');
    this.rewrites++;
  }

  /** The file's size now. */
  fileBytes(): number {
    return fs.fstatSync(this.fd).size;
  }

  close(): void {
    fs.closeSync(this.fd);
    unlock(this.dir);
  }
}
