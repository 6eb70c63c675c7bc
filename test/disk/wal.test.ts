import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { entriesAfterSnapshot as toArray } from '../../src/core/log.js';
import { applyWrite, emptyPersisted } from '../../src/core/persisted.js';
import type { Persisted } from '../../src/core/state.js';
import {
  CorruptWalError,
  crc32,
  tableCrc32,
  encodeRecord,
  openWal,
  WAL_FILE,
  WAL_LOCK_FILE,
  WalLockedError,
  WAL_HEADER_BYTES,
  WAL_TMP_FILE,
  WalFormatError,
  type Wal,
} from '../../src/disk/wal.js';
import { WAL_FORMAT } from '../../src/wire/wal.js';
import { cli, deadPort, freeBase } from '../support/processes.js';
import { requireBuiltDist } from '../support/dist.js';
import { nodeFileSystem, processAlive } from '../../src/disk/fs.js';
import type { PersistWrite as WalWrite } from '../../src/core/persisted.js';
import type { Entry, LogIndex, NodeId, Snapshot, Term } from '../../src/wire/messages.js';

let dir = '';
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'raftkv-wal-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const entry = (term: number, key: string): Entry => ({
  term: term as Term,
  cmd: { kind: 'put', client: 'C001' as NodeId, session: 0, seq: 0, key, value: `v-${key}` },
});
const write = (currentTerm: number, votedFor: string | null, log?: WalWrite['log']): WalWrite =>
  ({ currentTerm, votedFor: votedFor as NodeId | null, log });

/** Term changes, votes, appends, a truncation inside the log, and writes that keep the log. */
const BATCHES: WalWrite[][] = [
  [write(1, null), write(1, 'A001'), write(1, 'A001', { fromIndex: 1, entries: [entry(1, 'a'),
    entry(1, 'b')] })],
  [write(2, null, { fromIndex: 3, entries: [entry(2, 'c'), entry(2, 'd')] }), write(2, 'A002')],
  [write(3, null, { fromIndex: 2, entries: [entry(3, 'x')] })],
  [write(3, 'A003', { fromIndex: 3, entries: [entry(3, 'y')] })],
];

const view = (p: Persisted) => ({
  currentTerm: p.currentTerm,
  votedFor: p.votedFor,
  log: toArray(p.log).map((e) => `${e.term}:${e.cmd.kind === 'put' ? e.cmd.key : '-'}`),
});
const applied = (writes: readonly WalWrite[]) => view(writes.reduce(applyWrite, emptyPersisted()));
const walFile = (): string => path.join(dir, WAL_FILE);

/** Byte offsets of the records in the file, read from their length fields. */
function recordOffsets(bytes: Buffer): number[] {
  const offsets: number[] = [];
  for (let o = 0; o < bytes.length; o += WAL_HEADER_BYTES + bytes.readUInt32LE(o)) offsets.push(o);
  return offsets;
}

/** `wal.append`, as a promise. */
function append(wal: Wal, writes: readonly WalWrite[]): Promise<void> {
  return new Promise((resolve, reject) => {
    wal.append(writes, (e) => (e === undefined ? resolve() : reject(e)));
  });
}

/** Appends `batches`, one append each, and closes the log. */
async function fill(batches: readonly WalWrite[][], at = dir): Promise<void> {
  const { wal } = openWal(at);
  for (const batch of batches) await append(wal, batch);
  wal.close();
}

function reopen(at = dir) {
  const opened = openWal(at);
  opened.wal.close();
  return opened.recovered;
}

describe('[Fig2:State] the write-ahead log', () => {
  it('crc32 is the IEEE CRC-32 of zlib, by table and natively, over a whole buffer or a range', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(tableCrc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    const sample = Buffer.from('{"currentTerm":7,"votedFor":null,"log":"\u00e9\u4e2d"}');
    for (let start = 0; start < 6; start++) {
      for (const end of [sample.length, sample.length - 3, start]) {
        expect(crc32(sample, start, end)).toBe(tableCrc32(sample, start, end));
      }
    }
    if (typeof zlib.crc32 === 'function') expect(crc32(sample)).toBe(zlib.crc32(sample));
  });

  it('recovers exactly the state the writes produce, across batches', async () => {
    await fill(BATCHES);
    const recovered = reopen();
    expect(recovered.records).toBe(4); // one record per batch
    expect(recovered.tornBytes).toBe(0);
    expect(recovered.file).toBe(walFile());
    expect(view(recovered.persisted)).toEqual({
      currentTerm: 3, votedFor: 'A003', log: ['1:a', '3:x', '3:y'],
    });
    expect(view(recovered.persisted)).toEqual(applied(BATCHES.flat()));
  });

  it('group commit: one append of N writes is one write and one sync', async () => {
    const writes = BATCHES.flat();
    const calls: string[] = [];
    const { wal } = openWal(dir, {
      fs: { ...nodeFileSystem,
        // calls back later, as Node does (the file system's contract)
        write: (fd, bytes, offset, length, done) => {
          calls.push('write');
          const n = fs.writeSync(fd, bytes, offset, length);
          setImmediate(() => done(null, n));
        },
        fdatasync: (fd, done) => {
          calls.push('fdatasync');
          fs.fdatasyncSync(fd);
          setImmediate(() => done(null));
        },
      },
    });
    await append(wal, writes);
    expect(calls).toEqual(['write', 'fdatasync']);
    expect([wal.syncs, wal.writesSynced, wal.entriesSynced]).toEqual([1, 7, 6]);
    expect(wal.bytesSynced).toBe(fs.statSync(walFile()).size);
    await append(wal, [write(4, null)]);
    expect([wal.syncs, wal.writesSynced, wal.entriesSynced]).toEqual([2, 8, 6]);
    const pending = append(wal, [write(5, null)]);
    expect(() => wal.append([write(6, null)], () => undefined)).toThrow(/in flight/);
    await pending;
    expect([wal.syncs, wal.writesSynced]).toEqual([3, 9]);
    wal.close();
  });

  it('cuts off a torn tail at any cut inside the last record, then appends', async () => {
    await fill(BATCHES);
    const whole = fs.readFileSync(walFile());
    const last = recordOffsets(whole).at(-1) as number;
    const cuts = [1, 5, 11, 12, 13, (last + whole.length) >> 1, whole.length - 1];
    for (const cut of cuts) {
      const at = path.join(dir, `cut-${cut}`);
      fs.mkdirSync(at);
      fs.writeFileSync(path.join(at, WAL_FILE), whole.subarray(0, cut > 13 ? cut : last + cut));
      const recovered = reopen(at);
      expect(recovered.records).toBe(3);
      expect(recovered.tornBytes).toBe((cut > 13 ? cut : last + cut) - last);
      expect(view(recovered.persisted)).toEqual(applied(BATCHES.slice(0, 3).flat()));
      expect(recordOffsets(fs.readFileSync(path.join(at, WAL_FILE))).length).toBe(2); // compacted
      await fill([[write(9, 'A009')]], at);
      expect(view(reopen(at).persisted)).toEqual(
        applied([...BATCHES.slice(0, 3).flat(), write(9, 'A009')]));
    }
  });

  it('truncates a torn first record in place (a fresh server crashed in its first append)',
    async () => {
      await fill([[write(1, 'A001')]]);
      fs.truncateSync(walFile(), 5);
      const recovered = reopen();
      expect([recovered.records, recovered.tornBytes]).toEqual([0, 5]);
      expect(view(recovered.persisted)).toEqual({ currentTerm: 0, votedFor: null, log: [] });
      expect(fs.statSync(walFile()).size).toBe(0);
    });

  it('refuses a bit flip in the compacted whole-state record: a marker record follows it',
    async () => {
      await fill(BATCHES);
      reopen(); // compacts: the whole state, then a marker
      const bytes = fs.readFileSync(walFile());
      expect(recordOffsets(bytes).length).toBe(2);
      bytes[WAL_HEADER_BYTES + 7] = (bytes[WAL_HEADER_BYTES + 7] as number) ^ 0x10;
      fs.writeFileSync(walFile(), bytes);
      expect(() => openWal(dir)).toThrow(
        new RegExp(`${WAL_FILE}: corrupt record at offset 0 \\(payload checksum mismatch\\)`));
    });

  it.each([
    ['payload', WAL_HEADER_BYTES + 3, 'payload checksum mismatch'],
    ['length field', 0, 'header checksum mismatch'],
    ['header checksum', 9, 'header checksum mismatch'],
  ])('refuses to start on a bit flip in a middle record\'s %s', async (_, at, reason) => {
    await fill(BATCHES);
    const bytes = fs.readFileSync(walFile());
    const bad = recordOffsets(bytes)[2] as number;
    bytes[bad + at] = (bytes[bad + at] as number) ^ 0x04;
    fs.writeFileSync(walFile(), bytes);
    const error = (() => {
      try {
        openWal(dir);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(CorruptWalError);
    expect(error).toMatchObject({ file: walFile(), offset: bad, reason });
    expect((error as Error).message).toBe(`${walFile()}: corrupt record at offset ${bad} ` +
      `(${reason}); refusing to start on corrupt state`);
    expect(fs.readFileSync(walFile())).toEqual(bytes);
  });

  it('treats a bit flip in the last record as a torn tail', async () => {
    await fill(BATCHES);
    const bytes = fs.readFileSync(walFile());
    const last = recordOffsets(bytes).at(-1) as number;
    bytes[last + WAL_HEADER_BYTES + 1] = (bytes[last + WAL_HEADER_BYTES + 1] as number) ^ 0x80;
    fs.writeFileSync(walFile(), bytes);
    const recovered = reopen();
    expect([recovered.records, recovered.tornBytes]).toEqual([3, bytes.length - last]);
    expect(view(recovered.persisted)).toEqual(applied(BATCHES.slice(0, 3).flat()));
  });

  it('refuses a record whose checksums pass but whose payload is not a write', async () => {
    await fill([[write(1, null)]]);
    const good = fs.readFileSync(walFile());
    const payload = Buffer.from('[{"currentTerm":-1,"votedFor":null}]');
    const header = Buffer.alloc(WAL_HEADER_BYTES);
    header.writeUInt32LE(payload.length, 0);
    header.writeUInt32LE(crc32(payload), 4);
    header.writeUInt32LE(crc32(header, 0, 8), 8);
    fs.writeFileSync(walFile(), Buffer.concat([good, header, payload]));
    expect(() => openWal(dir)).toThrow(new RegExp(`offset ${good.length} \\(invalid payload ` +
      'at 0\\.currentTerm\\)'));
  });

  it('reads formats 1 (bare arrays, before formats were numbered) and 2, and rewrites them as ' +
    `format ${WAL_FORMAT} on open`, async () => {
    // what a build before WAL_FORMAT wrote: the same framing, each payload a bare array
    const v1 = Buffer.concat(BATCHES.map((batch) => {
      const payload = Buffer.from(JSON.stringify(batch));
      const header = Buffer.alloc(WAL_HEADER_BYTES);
      header.writeUInt32LE(payload.length, 0);
      header.writeUInt32LE(crc32(payload), 4);
      header.writeUInt32LE(crc32(header, 0, 8), 8);
      return Buffer.concat([header, payload]);
    }));
    // and format 2's records (`{"v": 2, "writes"}`: no configurations) after them
    const payload2 = Buffer.from(JSON.stringify({ v: 2, writes: [write(9, 'A009')] }));
    const header2 = Buffer.alloc(WAL_HEADER_BYTES);
    header2.writeUInt32LE(payload2.length, 0);
    header2.writeUInt32LE(crc32(payload2), 4);
    header2.writeUInt32LE(crc32(header2, 0, 8), 8);
    fs.writeFileSync(walFile(), Buffer.concat([v1, header2, payload2]));
    const all = [...BATCHES.flat(), write(9, 'A009')];
    expect(view(reopen().persisted)).toEqual(applied(all));
    const bytes = fs.readFileSync(walFile());
    const formats = recordOffsets(bytes).map((o) => (JSON.parse(bytes.subarray(
      o + WAL_HEADER_BYTES, o + WAL_HEADER_BYTES + bytes.readUInt32LE(o)).toString()) as
      { v?: number }).v);
    expect(formats).toEqual([WAL_FORMAT, WAL_FORMAT]);
    expect(view(reopen().persisted)).toEqual(applied(all));
  });

  it('refuses a record of a newer format, naming the file, offset and format, and leaves the ' +
    'file as it is', async () => {
    await fill([[write(1, null)]]);
    const good = fs.readFileSync(walFile());
    const payload =
      Buffer.from(`{"v":${WAL_FORMAT + 1},"writes":[{"currentTerm":2,"members":[]}]}`);
    const header = Buffer.alloc(WAL_HEADER_BYTES);
    header.writeUInt32LE(payload.length, 0);
    header.writeUInt32LE(crc32(payload), 4);
    header.writeUInt32LE(crc32(header, 0, 8), 8);
    fs.writeFileSync(walFile(), Buffer.concat([good, header, payload]));
    const bytes = fs.readFileSync(walFile());
    expect(() => openWal(dir)).toThrow(WalFormatError);
    expect(() => openWal(dir)).toThrow(new RegExp('raft\\.wal: the record at offset ' +
      `${good.length} has WAL format ${WAL_FORMAT + 1}, written by a newer raftkv; this build ` +
      `reads formats 1 to ${WAL_FORMAT}`));
    expect(fs.readFileSync(walFile())).toEqual(bytes);
    // a record that claims a format but not a valid one is corrupt, not newer
    const bad = Buffer.from('{"v":"2","writes":[]}');
    header.writeUInt32LE(bad.length, 0);
    header.writeUInt32LE(crc32(bad), 4);
    header.writeUInt32LE(crc32(header, 0, 8), 8);
    fs.writeFileSync(walFile(), Buffer.concat([good, header, bad]));
    expect(() => openWal(dir)).toThrow(CorruptWalError);
  });

  it('`raftkv replica` on a directory a newer build wrote exits 1, saying why', async () => {
    requireBuiltDist();
    const payload = Buffer.from(`{"v":${WAL_FORMAT + 1},"writes":[]}`);
    const header = Buffer.alloc(WAL_HEADER_BYTES);
    header.writeUInt32LE(payload.length, 0);
    header.writeUInt32LE(crc32(payload), 4);
    header.writeUInt32LE(crc32(header, 0, 8), 8);
    fs.writeFileSync(walFile(), Buffer.concat([header, payload]));
    const [listen, peer] = [await freeBase(1), await deadPort()];
    const r = await cli(['replica', '--id', '0000', '--listen', `127.0.0.1:${listen}`, '--peer',
      `0001=127.0.0.1:${peer}`, '--data-dir', dir], 15_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^0000: cannot start: .*raft\\.wal: the record at ` +
      `offset 0 has WAL format ${WAL_FORMAT + 1}, written by a newer raftkv`, 'm'));
  }, 20_000);

  it('refuses a log write that would leave a gap in the log', () => {
    const gap = write(1, null, { fromIndex: 2, entries: [entry(1, 'a')] });
    fs.writeFileSync(walFile(), encodeRecord([gap]).bytes);
    expect(() => openWal(dir)).toThrow(/offset 0 \(log write from index 2 onto a log of 1\.\.0\)/);
  });

  it('starts fresh on a missing directory, an empty one, or an empty file', () => {
    const fresh = { currentTerm: 0, votedFor: null, log: [] };
    const nested = path.join(dir, 'a', 'b');
    for (const at of [nested, dir]) {
      const recovered = reopen(at);
      expect([view(recovered.persisted), recovered.records, recovered.tornBytes])
        .toEqual([fresh, 0, 0]);
      expect(fs.statSync(path.join(at, WAL_FILE)).size).toBe(0);
    }
    expect(view(reopen(dir).persisted)).toEqual(fresh);
  });

  it('removes and ignores a leftover raft.wal.tmp', async () => {
    await fill([[write(4, 'A004')]]);
    fs.writeFileSync(path.join(dir, WAL_TMP_FILE), encodeRecord([write(99, null)]).bytes);
    expect(view(reopen().persisted)).toEqual({ currentTerm: 4, votedFor: 'A004', log: [] });
    expect(fs.existsSync(path.join(dir, WAL_TMP_FILE))).toBe(false);
  });

  const ops = ['write', 'fdatasync'] as const;
  it.each(ops)('rejects with ENOSPC from %s, then on every append', async (op) => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    // Fails once only: the second append must still refuse, as the file's tail is unknown.
    let failed = false;
    const failOnce = (): boolean => {
      if (failed) return false;
      failed = true;
      return true;
    };
    const { wal } = openWal(dir, {
      fs: op === 'write'
        ? { ...nodeFileSystem, write: (fd, b, o, n, done) => (failOnce() ? done(enospc, 0)
          : done(null, fs.writeSync(fd, b, o, n))) }
        : { ...nodeFileSystem, fdatasync: (fd, done) => {
          if (failOnce()) return done(enospc);
          fs.fdatasyncSync(fd);
          done(null);
        } },
    });
    await expect(append(wal, [write(1, null)])).rejects.toBe(enospc);
    await expect(append(wal, [write(2, null)])).rejects.toBe(enospc);
    expect([wal.syncs, wal.writesSynced, wal.bytesSynced]).toEqual([0, 0, 0]);
    wal.close();
  });

  it('a write torn by ENOSPC is cut off at the next start', async () => {
    await fill([[write(1, 'A001')]]);
    const enospc = Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' });
    const { wal } = openWal(dir, {
      fs: { ...nodeFileSystem,
        write: (fd, bytes, offset, length, done) => (offset > 0 ? done(enospc, 0)
          : done(null, fs.writeSync(fd, bytes, offset, length >> 1))),
      },
    });
    const before = fs.statSync(walFile()).size; // after the compaction on open
    const batch = [write(2, null, { fromIndex: 1, entries: [entry(2, 'a')] }), write(2, 'A002')];
    await expect(append(wal, batch)).rejects.toBe(enospc);
    wal.close();
    const torn = fs.statSync(walFile()).size - before;
    expect(torn).toBe(encodeRecord(batch).bytes.length >> 1);
    const recovered = reopen();
    expect([recovered.records, recovered.tornBytes]).toEqual([2, torn]);
    expect(view(recovered.persisted)).toEqual({ currentTerm: 1, votedFor: 'A001', log: [] });
  });

  it('compacts to one record and a marker on open; reopening gives the same state', async () => {
    const writes = Array.from({ length: 60 }, (_, k) => write(1 + (k >> 3), k % 2 ? 'A001' : null,
      { fromIndex: k + 1, entries: [entry(1, `${k}`)] }));
    await fill(writes.map((w) => [w]));
    const first = reopen();
    expect(first.records).toBe(60);
    expect(recordOffsets(fs.readFileSync(walFile())).length).toBe(2);
    const second = reopen();
    expect(second.records).toBe(2);
    expect(view(second.persisted)).toEqual(view(first.persisted));
    expect(view(second.persisted)).toEqual(applied(writes));
    expect(view(second.persisted).log).toHaveLength(60);
  });

  it('an append after close fails, and one in flight when the log closes stops writing', async () => {
    const { wal } = openWal(dir);
    wal.close();
    await expect(append(wal, [write(1, null)])).rejects.toThrow(/append after close/);
    const writes: number[] = [];
    const opened = openWal(dir, { fs: { ...nodeFileSystem,
      // as Node does: the write is issued at once, its completion reported later
      write: (fd, bytes, offset, length, done) => {
        writes.push(length);
        const n = fs.writeSync(fd, bytes, offset, length >> 1);
        setImmediate(() => done(null, n));
      } } });
    let called = 0;
    opened.wal.append([write(2, null, { fromIndex: 1, entries: [entry(2, 'a')] })],
      () => { called++; });
    opened.wal.close(); // the first half is being written; the second must never be
    await new Promise((r) => setTimeout(r, 20));
    expect(writes.length).toBe(1);
    expect(called).toBe(0); // a closed log calls back no more
  });

  it('one process per data directory: a second open is refused while the first is open', () => {
    const { wal } = openWal(dir);
    expect(() => openWal(dir)).toThrow(WalLockedError);
    wal.close();
    expect(fs.existsSync(path.join(dir, WAL_LOCK_FILE))).toBe(false);
    reopen(); // free again
  });

  it('a lock of a live process is refused, naming it; a dead process\'s lock is taken over', () => {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, WAL_LOCK_FILE), String(process.ppid)); // alive: our parent
    expect(() => openWal(dir)).toThrow(`in use by process ${process.ppid}`);
    fs.writeFileSync(path.join(dir, WAL_LOCK_FILE), '2147483646'); // no such process
    const { wal } = openWal(dir);
    expect(fs.readFileSync(path.join(dir, WAL_LOCK_FILE), 'utf8')).toBe(String(process.pid));
    wal.close();
  });

  it('a lock held by a zombie is taken over: a killed replica nobody has reaped yet is dead', async () => {
    // sh starts a short sleep, prints its PID, then becomes a long sleep that never reaps it
    const parent = spawn('sh', ['-c', 'sleep 0.05 & echo $!; exec sleep 30'],
      { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const child = await new Promise<number>((done) => {
        parent.stdout.once('data', (b: Buffer) => done(Number(b.toString().trim())));
      });
      expect(Number.isInteger(child) && child > 0, `child PID ${child}`).toBe(true);
      const stat = (): string => fs.readFileSync(`/proc/${child}/stat`, 'utf8');
      for (let i = 0; i < 100 && !/\) Z /.test(stat()); i++) await new Promise((r) => setTimeout(r, 20));
      expect(stat()).toMatch(/\) Z /); // a zombie indeed
      expect(() => process.kill(child, 0)).not.toThrow(); // which a signal test calls alive
      expect(processAlive(child)).toBe(false);
      expect(processAlive(parent.pid ?? 0)).toBe(true);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, WAL_LOCK_FILE), String(child));
      const { wal } = openWal(dir);
      expect(fs.readFileSync(path.join(dir, WAL_LOCK_FILE), 'utf8')).toBe(String(process.pid));
      wal.close();
    } finally {
      parent.kill('SIGKILL');
    }
  });
});

describe('[§7] snapshots in the write-ahead log', () => {
  const snapshot = (index: number, term: number): Snapshot =>
    ({ index: index as LogIndex, term: term as Term, kv: [['a', 'v-a'], ['b', 'v-b']],
      sessions: [[3, { seq: 4, value: 'v', last: 3 as LogIndex }]],
      terms: [{ index: 1 as LogIndex, term: 1 as Term }] });

  it('a batch with a snapshot rewrites the file to the snapshot and the entries after it', async () => {
    const { wal } = openWal(dir);
    const entries = Array.from({ length: 200 }, (_, i) => entry(1, `k${i}`));
    await append(wal, [write(1, 'A001', { fromIndex: 1, entries })]);
    const before = fs.statSync(walFile()).size;
    await append(wal, [write(1, 'A001', { snapshot: snapshot(199, 1), fromIndex: 200,
      entries: [entry(1, 'k199')] }), write(2, null, { fromIndex: 201, entries: [entry(2, 'n')] })]);
    await append(wal, [write(2, 'A002')]); // appends go on after the rewrite
    wal.close();
    expect(wal.rewrites).toBe(1);
    expect(fs.statSync(walFile()).size).toBeLessThan(before / 10);
    expect(fs.existsSync(path.join(dir, WAL_TMP_FILE))).toBe(false);
    const r = reopen();
    expect(r.persisted.log.snapshot).toEqual(snapshot(199, 1));
    expect(view(r.persisted)).toEqual({ currentTerm: 2, votedFor: 'A002',
      log: ['1:k199', '2:n'] });
  });

  it('[§6.3] refuses, and leaves as it is, a log written before sessions were registered: its ' +
    'entries name no session', async () => {
    const old = { term: 1 as Term, cmd: { kind: 'put', client: 'C001' as NodeId, seq: 3, key: 'k',
      value: 'v' } } as unknown as Entry;
    await fill([[write(1, null, { fromIndex: 1, entries: [old] })]]);
    const bytes = fs.readFileSync(walFile());
    expect(() => openWal(dir)).toThrow(/corrupt record at offset \d+ \(.*session.*\)/);
    expect(fs.readFileSync(walFile())).toEqual(bytes);
  });

  it('keeps the snapshot across compaction on open, and refuses a bit flip in it', async () => {
    await fill([[write(1, null, { snapshot: snapshot(10, 1), fromIndex: 11, entries: [] })]]);
    expect(reopen().persisted.log.snapshot).toEqual(snapshot(10, 1));
    const bytes = fs.readFileSync(walFile());
    bytes[WAL_HEADER_BYTES + 20] = (bytes[WAL_HEADER_BYTES + 20] as number) ^ 0x04;
    fs.writeFileSync(walFile(), bytes);
    expect(() => openWal(dir)).toThrow(CorruptWalError);
  });

  it('a failed rewrite fails the append and every later one', async () => {
    const { wal } = openWal(dir, { fs: { ...nodeFileSystem, fdatasync: (_fd, done) =>
      done(Object.assign(new Error('no space'), { code: 'ENOSPC' })) } });
    await expect(append(wal, [write(1, null, { snapshot: snapshot(3, 1), fromIndex: 4,
      entries: [] })])).rejects.toThrow('no space');
    await expect(append(wal, [write(1, 'A001')])).rejects.toThrow('no space');
    wal.close();
    expect(reopen().persisted.log.snapshot.index).toBe(0); // the old file is what counts
  });
});
