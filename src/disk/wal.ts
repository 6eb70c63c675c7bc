/**
 * The write-ahead log: durable currentTerm, votedFor and the Raft log [Fig2:State "persistent state
 * on all servers, updated on stable storage before responding to RPCs"].
 *
 * One append-only file, `raft.wal`, of records. A record is a 12-byte header, then its payload:
 *
 *   u32le payloadLength | u32le crc32(payload) | u32le crc32(header bytes 0..7) | payload
 *
 * The payload is one batch of `persist` writes, as UTF-8 JSON with its format number
 * (`src/wire/wal.ts`): one record per fdatasync. A record of a newer format stops recovery
 * (`WalFormatError`); format 1's records (a bare array) are still read. Recovery replays every
 * record onto a fresh state. A crash mid-append leaves a torn tail, which recovery cuts off; a bad
 * record with a good one after it cannot come from a crash, so recovery refuses to start on it.
 * Opening rewrites the file as one record of the whole state (and a marker after it, see
 * `compact`). [§7] So does every batch that carries a snapshot: the whole state is then the
 * snapshot and the few entries after it, so the file stays about the size of one snapshot plus
 * the entries since it, however long the replica runs.
 */
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as E from 'fp-ts/lib/Either.js';
import { applyWrite, emptyPersisted, type PersistWrite } from '../core/persisted.js';
import { compactTo, entriesAfterSnapshot, lastLogIndex } from '../core/log.js';
import type { Persisted } from '../core/state.js';
import { decodeWalBatch, encodeWalBatch, WAL_FORMAT } from '../wire/wal.js';
import { nodeFileSystem, type Fd, type FileSystem } from './fs.js';

export { WalLockedError, WAL_LOCK_FILE } from './fs.js';

export const WAL_FILE = 'raft.wal';
export const WAL_TMP_FILE = 'raft.wal.tmp';
export const WAL_HEADER_BYTES = 12;

// -------------------------------------------------------------------------------------------------
// CRC-32 (IEEE 802.3, as zlib): `zlib.crc32` where Node has it (from 20.15), and a table where it
// does not (engines allows 20.11). Both give the same value: `test/disk/wal.test.ts` compares them.
// -------------------------------------------------------------------------------------------------

const CRC_TABLE = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

/** CRC-32 by table, one byte at a time: the fallback, and the reference for the native one. */
export function tableCrc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) {
    c = (CRC_TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}

const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (nativeCrc32 === undefined) return tableCrc32(bytes, start, end);
  return nativeCrc32(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end));
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

/**
 * The log was written by a newer build (`WAL_FORMAT`): this one must not guess at it. Not
 * corruption: the same directory starts under the build that wrote it.
 */
export class WalFormatError extends Error {
  constructor(readonly file: string, readonly offset: number, readonly format: number) {
    super(`${file}: the record at offset ${offset} has WAL format ${format}, written by a newer ` +
      `raftkv; this build reads formats 1 to ${WAL_FORMAT}. Refusing to start: run the build ` +
      'that wrote it (or a newer one)');
    this.name = 'WalFormatError';
  }
}

/** Log entries the writes carry. */
const entriesOf = (writes: readonly PersistWrite[]): number =>
  writes.reduce((n, w) => n + (w.log?.entries.length ?? 0), 0);

/**
 * One record holding every write of a batch, and the log entries they carry. One record per
 * fdatasync: a crash, power loss included, can tear only the batch being synced, and that batch
 * is the file's tail, so a torn write never looks like a bad record followed by a good one.
 */
export function encodeRecord(writes: readonly PersistWrite[]): { bytes: Buffer; entries: number } {
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
    if (E.isLeft(decoded)) {
      const { newer, detail } = decoded.left;
      if (newer !== undefined) throw new WalFormatError(file, offset, newer);
      throw new CorruptWalError(file, offset, detail);
    }
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

/**
 * Replaces the file by a record of the whole of `p`, then a short record that changes nothing: a
 * crash leaves either the old file or the new one. The second record keeps the first from ever
 * being the last: recovery takes a bad last record for a torn append, and this one holds the
 * server's whole state, which a bit flip must not be able to erase without a word.
 */
function compact(fs: FileSystem, dir: string, p: Persisted): void {
  const tmp = path.join(dir, WAL_TMP_FILE);
  fs.writeFileSynced(tmp, wholeState(p));
  fs.rename(tmp, path.join(dir, WAL_FILE));
  fs.syncDir(dir);
}

/** The records of a compacted file: the whole of `p` (its snapshot included), then a marker. */
function wholeState(p: Persisted): Buffer {
  const hard = { currentTerm: p.currentTerm, votedFor: p.votedFor };
  const snap = p.log.snapshot;
  const whole: PersistWrite = { ...hard, log: { ...(snap.index > 0 ? { snapshot: snap } : {}),
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

export interface WalOptions {
  /** Default: Node's. The simulation passes its disk; a test, one that fails (ENOSPC, EIO). */
  readonly fs?: FileSystem;
}

/** What `dir` holds, as recovery would read it, without changing anything; throws as `openWal`. */
export function readWal(dir: string, fs: FileSystem = nodeFileSystem): Persisted {
  const file = path.join(dir, WAL_FILE);
  return fs.exists(file) ? scan(fs.readFile(file), file).persisted : emptyPersisted();
}

/**
 * Recovers the state kept in `dir` (created if missing; empty means a fresh server), cuts off a
 * torn tail, compacts the file, and opens it for appends. Synchronous: it runs at start-up,
 * before the replica handles anything. Throws `CorruptWalError` on corrupt state, and
 * `WalLockedError` when a live process has the directory.
 */
export function openWal(dir: string, options: WalOptions = {}):
  { wal: Wal; recovered: Recovered } {
  const fs = options.fs ?? nodeFileSystem;
  fs.mkdirp(dir);
  fs.lock(dir);
  try {
    return recover(fs, dir);
  } catch (e) {
    fs.unlock(dir);
    throw e;
  }
}

function recover(fs: FileSystem, dir: string): { wal: Wal; recovered: Recovered } {
  const file = path.join(dir, WAL_FILE);
  // A leftover temporary file is a compaction whose rename never happened: raft.wal still holds
  // the whole state.
  fs.remove(path.join(dir, WAL_TMP_FILE));
  const existed = fs.exists(file);
  const bytes = existed ? fs.readFile(file) : Buffer.alloc(0);
  const { persisted, records, end } = scan(bytes, file);
  const tornBytes = bytes.length - end;
  // Compaction rewrites the file, so it drops a torn tail too.
  if (records > 0) compact(fs, dir, persisted);
  else if (tornBytes > 0) fs.truncate(file, end);
  const fd = fs.open(file, 'a');
  if (!existed) fs.syncDir(dir);
  const wal = new Wal(fs, dir, file, fd, persisted);
  return { wal, recovered: { persisted, records, tornBytes, file } };
}

/**
 * The open log. Appends are group commits: one write and one fdatasync per batch (`append`),
 * the durability a replica loop runs over (`replica/loop.ts`).
 */
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
  private failure: Error | undefined;
  private closed = false;

  /**
   * `state` is what the file holds: kept up to date with every batch, to rewrite the file from
   * when a snapshot comes. It shares its entries with the core's log, so it costs little.
   */
  constructor(private readonly fs: FileSystem, private readonly dir: string, readonly file: string,
    private fd: Fd, private state: Persisted = emptyPersisted()) {}

  /** What the appends completed so far made durable. */
  get durable(): Persisted {
    return this.state;
  }

  /**
   * Makes `writes` durable, in order, then calls `done()`. The caller must wait for each append
   * before the next one (it batches what arrives meanwhile into the next); an overlapping call is
   * a bug and throws. A failed write or sync calls `done(error)` with the fs error (ENOSPC, EIO),
   * and so does every later append: a partial record could otherwise end up followed by good
   * ones, which recovery would take for corruption. The caller is expected to stop: no retry.
   */
  append(writes: readonly PersistWrite[], done: (error?: Error) => void): void {
    if (this.inFlight) throw new Error(`${this.file}: append while another append is in flight`);
    if (this.closed) {
      const closed = new Error(`${this.file}: append after close`);
      queueMicrotask(() => done(closed));
      return;
    }
    if (this.failure !== undefined) {
      const failure = this.failure;
      queueMicrotask(() => done(failure));
      return;
    }
    if (writes.length === 0) {
      queueMicrotask(() => done());
      return;
    }
    this.inFlight = true;
    const state = writes.reduce(applyWrite, this.state);
    const snapshot = writes.some((w) => w.log?.snapshot !== undefined);
    const { bytes, entries } = snapshot
      ? { bytes: wholeState(state), entries: entriesOf(writes) } : encodeRecord(writes);
    const finish = (error: Error | null): void => {
      this.inFlight = false;
      if (this.closed) return;
      if (error !== null) {
        this.failure = error;
        done(error);
        return;
      }
      this.state = state;
      this.syncs++;
      this.writesSynced += writes.length;
      this.entriesSynced += entries;
      this.bytesSynced += bytes.length;
      done();
    };
    if (snapshot) this.rewrite(bytes, finish);
    else this.writeAll(this.fd, bytes, finish);
  }

  private writeAll(fd: Fd, bytes: Buffer, done: (error: Error | null) => void, from = 0): void {
    // closed meanwhile: the descriptor may already name another file
    if (this.closed) return done(new Error(`${this.file}: closed during an append`));
    if (from >= bytes.length) {
      this.fs.fdatasync(fd, done);
      return;
    }
    this.fs.write(fd, bytes, from, bytes.length - from, (e, n) => {
      if (e !== null) done(e);
      else if (n <= 0) done(new Error(`${this.file}: write made no progress`));
      else this.writeAll(fd, bytes, done, from + n);
    });
  }

  /**
   * [§7] The file becomes `bytes` (the whole state, from its new snapshot on), atomically: written
   * and synced under a temporary name, renamed over the log, the directory synced. A crash leaves
   * the old file or the new one, so the batch is durable whole or not at all, as an append is.
   */
  private rewrite(bytes: Buffer, done: (error: Error | null) => void): void {
    const tmp = path.join(this.dir, WAL_TMP_FILE);
    let fd: Fd;
    try {
      fd = this.fs.open(tmp, 'w');
    } catch (e) {
      done(e as Error);
      return;
    }
    this.writeAll(fd, bytes, (error) => {
      let failure: Error | null = error;
      try {
        this.fs.close(fd);
        if (failure === null && !this.closed) {
          this.fs.rename(tmp, this.file);
          this.fs.syncDir(this.dir);
          const fresh = this.fs.open(this.file, 'a');
          this.fs.close(this.fd);
          this.fd = fresh;
          this.rewrites++;
        }
      } catch (e) {
        failure = e as Error;
      }
      done(failure); // once, outside the try: a throwing callback is not a second failure
    });
  }

  /** The file's size now. */
  fileBytes(): number {
    return this.fs.size(this.fd);
  }

  /**
   * Stop: an append in flight completes on its own, but calls back no more. The directory is
   * unlocked for the next process.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.fs.close(this.fd);
    this.fs.unlock(this.dir);
  }
}
