/**
 * The simulation's disk (`src/detsim/disk.ts`), on its own and under the real write-ahead log: what
 * survives a process crash and a power loss, torn writes, renames that need their directory
 * synced, and injected failures.
 */
import { describe, expect, it } from 'vitest';
import type { Entry, NodeId, Term } from '../../src/wire/messages.js';
import { lastLogIndex } from '../../src/core/log.js';
import type { PersistWrite } from '../../src/core/persisted.js';
import { openWal, readWal, type Wal } from '../../src/disk/wal.js';
import { Rng } from '../../src/fault/rng.js';
import { SimDisk } from '../../src/detsim/disk.js';

const TIMING = { writeMs: 0, syncMsMin: 0, syncMsMax: 0 };
const e = (term: number, key: string): Entry => ({ term: term as Term,
  cmd: { kind: 'put', client: 'C001' as NodeId, session: 0, seq: 0, key, value: key } });
const w = (term: number, from: number, key: string): PersistWrite => ({ currentTerm: term,
  votedFor: null, log: { fromIndex: from, entries: [e(term, key)] } });

function rig(seed: number, failChance = 0): { disk: SimDisk; ops: (() => void)[]; wal: Wal } {
  const ops: (() => void)[] = [];
  const disk = new SimDisk((_d, fn) => ops.push(fn), new Rng(seed), TIMING, failChance);
  return { disk, ops, wal: openWal('/d', { fs: disk }).wal };
}

const drain = (ops: (() => void)[]): void => {
  while (ops.length > 0) (ops.shift() as () => void)();
};

describe('[sim disk] what survives', () => {
  it('a power loss keeps every synced batch; the unsynced one is lost or kept whole, never ' +
    'split (the WAL cuts a torn record off)', () => {
    const kept = new Set<number>();
    for (let seed = 1; seed <= 40; seed++) {
      const { disk, ops, wal } = rig(seed);
      wal.append([w(1, 1, 'a')], () => undefined);
      drain(ops);
      wal.append([w(2, 2, 'b'), w(3, 3, 'c')], () => undefined); // one batch, one record
      (ops.shift() as () => void)(); // written; its fdatasync never completes
      disk.powerLoss();
      const after = readWal('/d', disk);
      kept.add(after.currentTerm);
      expect(lastLogIndex(after.log)).toBe(after.currentTerm === 1 ? 1 : 3);
    }
    expect([...kept].sort()).toEqual([1, 3]);
  });

  it('a process crash loses nothing written: the page cache survives', () => {
    const { disk, ops, wal } = rig(1);
    wal.append([w(1, 1, 'a')], () => undefined);
    (ops.shift() as () => void)(); // written, not synced
    disk.processCrash();
    expect(readWal('/d', disk).currentTerm).toBe(1);
  });

  it('a rename is durable only once its directory is synced', () => {
    const disk = new SimDisk(() => undefined, new Rng(1), TIMING);
    disk.mkdirp('/d');
    disk.writeFileSynced('/d/old', Buffer.from('old'));
    disk.syncDir('/d');
    disk.writeFileSynced('/d/tmp', Buffer.from('new'));
    disk.rename('/d/tmp', '/d/old');
    disk.powerLoss();
    expect(disk.readFile('/d/old').toString()).toBe('old');
    disk.writeFileSynced('/d/tmp', Buffer.from('new'));
    disk.rename('/d/tmp', '/d/old');
    disk.syncDir('/d');
    disk.powerLoss();
    expect(disk.readFile('/d/old').toString()).toBe('new');
    expect(disk.exists('/d/tmp')).toBe(false);
  });

  it('fails writes and syncs with EIO or ENOSPC at the chance given; the WAL then refuses every ' +
    'later append', () => {
    const { ops, wal } = rig(2, 1);
    const errors: (string | undefined)[] = [];
    wal.append([w(1, 1, 'a')], (err) => errors.push((err as { code?: string } | undefined)?.code));
    drain(ops);
    expect(errors).toEqual([expect.stringMatching(/^(EIO|ENOSPC)$/)]);
    expect(wal.syncs).toBe(0);
  });

  it('the same seed gives the same disk, byte for byte', () => {
    const run = (): string => {
      const { disk, ops, wal } = rig(9);
      wal.append([w(1, 1, 'a')], () => undefined);
      drain(ops);
      wal.append([w(2, 2, 'b')], () => undefined);
      (ops.shift() as () => void)();
      disk.powerLoss();
      return disk.readFile('/d/raft.wal').toString('hex');
    };
    expect(run()).toBe(run());
  });
});

describe('[sim disk] the checkers catch a disk that lies about fdatasync', () => {
  it('a drive that acknowledges flushes it never made loses acknowledged writes at a power ' +
    'loss, and a mix seed catches it', async () => {
    const { simulate } = await import('../../src/detsim/simulation.js');
    const { mixRun, shippedScenarios } = await import('../../src/detsim/mix.js');
    const shipped = shippedScenarios();
    let caught: { seed: number; failure: string } | undefined;
    for (let seed = 1; seed <= 60 && caught === undefined; seed++) {
      const honest = simulate(mixRun(seed, shipped));
      expect(honest.failures, `seed ${seed} with an honest disk`).toEqual([]);
      const r = simulate({ ...mixRun(seed, shipped), diskLies: true });
      if (r.failures.length > 0) caught = { seed, failure: r.failures[0] as string };
    }
    console.log(`[sim disk] a lying fdatasync caught at seed ${caught?.seed}: ${caught?.failure}`);
    expect(caught?.failure).toMatch(/committedDurable|linearizable|leaderCompleteness|logMatching/);
  }, 120_000);
});
