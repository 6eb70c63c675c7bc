/**
 * `npm run bench:snapshot [-- --keys K --value-bytes V --seconds S --clients N]`: snapshots of a
 * direct-mode cluster of 5 real processes on loopback [§7]. Measures; asserts nothing.
 *
 * 1. Install: with one follower killed and a fifth replica not started yet, clients write K
 *    distinct keys of V-byte values twice, so the leader compacts its log past what the follower
 *    has. The follower restarts on its own data directory, and the fifth starts with an empty
 *    one; each catches up by InstallSnapshot. Prints the snapshot's size and chunks, the time from its first chunk to its
 *    installation (the replica's own figure), and from the restart to having applied everything.
 * 2. Memory: clients overwrite those keys for S seconds; every 5 s each replica's resident memory,
 *    WAL size, and log entries held in memory (after its snapshot) are sampled. Flat memory means
 *    they stay bounded while the commit index grows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { KvClient } from '../client/client.js';
import { queryStatus } from '../client/status.js';
import {
  isRunning, newLayout, startMember, waitForLeader, type Layout, type Member,
} from '../cluster/cluster.js';
import { freePorts } from '../crash/harness.js';
import { Rng } from '../fault/rng.js';
import { CHUNK_BYTES } from '../wire/chunks.js';
import type { StatusReply } from '../wire/admin.js';
import type { NodeId } from '../wire/messages.js';

function arg(name: string, fallback: number): number {
  const k = process.argv.indexOf(name);
  return k >= 0 ? Number(process.argv[k + 1]) : fallback;
}

const keys = arg('--keys', 20_000);
const valueBytes = arg('--value-bytes', 100);
const seconds = arg('--seconds', 60);
const clients = arg('--clients', 32);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);

/** N clients putting keys `key(i)` for i in their share of `indexes`, or until `until`. */
async function load(layout: Layout, next: () => number | undefined, value: (i: number) => string):
  Promise<number> {
  const addresses = layout.members.map((m) => m.address);
  let puts = 0;
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    const client = await KvClient.open({ cluster: addresses, timeoutMs: 10_000,
      clientId: (0x0300 + c).toString(16).toUpperCase().padStart(4, '0') as NodeId });
    for (let i = next(); i !== undefined; i = next()) {
      await client.put(`key-${String(i).padStart(8, '0')}`, value(i));
      puts++;
    }
    client.close();
  }));
  return puts;
}

async function status(layout: Layout): Promise<(StatusReply | undefined)[]> {
  return queryStatus(layout.members.map((m) => m.address), 1000);
}

/** Restart `m` and wait until it has applied what the leader had committed at its restart. */
async function catchUp(layout: Layout, m: Member, label: string): Promise<void> {
  const k = layout.members.indexOf(m);
  const target = Math.max(...(await status(layout)).map((s) => s?.commitIndex ?? 0));
  const t0 = performance.now();
  startMember(layout, m);
  for (;;) {
    const s = (await status(layout))[k];
    if (s !== undefined && s.appliedIndex >= target) {
      const caughtUpMs = performance.now() - t0;
      console.log(`${label}: snapshot at ${s.snapshotIndex}, ${mb(s.lastInstallBytes)} MB ` +
        `(${s.lastInstallBytes} bytes, ${Math.ceil(s.lastInstallBytes / CHUNK_BYTES)} chunks), ` +
        `installed ${s.lastInstallMs.toFixed(0)} ms after its first chunk; applied index ` +
        `${target} ${caughtUpMs.toFixed(0)} ms after the restart (process start included); ` +
        `${s.snapshotsInstalled} install(s)`);
      return;
    }
    if (performance.now() - t0 > 60_000) throw new Error(`${label}: no catch-up in 60 s`);
    await sleep(20);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'raftkv-bench-snapshot-'));
const layout = newLayout(dir, 5, await freePorts(5, new Rng(Date.now())), undefined);
try {
  console.log(`5 replicas, ${keys} keys of ${valueBytes} bytes, ${clients} clients, ` +
    `${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, Node ${process.versions.node}`);
  // the fifth replica starts only later, with an empty data directory: a new follower
  const fresh = layout.members[4] as Member;
  for (const m of layout.members) if (m !== fresh) startMember(layout, m);
  const leader = await waitForLeader(layout, 15_000);
  if (leader === undefined) throw new Error('no leader');
  const lagging = layout.members.find((m) => m !== leader && m !== fresh) as Member;
  process.kill(lagging.pid as number, 'SIGKILL');
  while (isRunning(lagging)) await sleep(5);
  let fill = 0;
  const t0 = performance.now();
  const value = (i: number): string => `${String(i).padStart(8, '0')}:`.padEnd(valueBytes, 'v');
  // every key twice: a replica snapshots once as many entries as it has keys follow the last
  await load(layout, () => (fill < 2 * keys ? fill++ % keys : undefined), value);
  console.log(`install: ${2 * keys} puts over ${keys} keys in ` +
    `${((performance.now() - t0) / 1000).toFixed(1)} s with a follower down and one not started`);
  await catchUp(layout, lagging, 'follower restarted on its data directory');
  await catchUp(layout, fresh, 'new follower, empty data directory');

  console.log(`memory: overwriting the ${keys} keys for ${seconds} s; every 5 s, the highest ` +
    'of the five replicas');
  console.log('seconds  commit     log held  wal MB  rss MB (each replica)');
  const end = performance.now() + seconds * 1000;
  const rng = new Rng(7);
  let round = 0;
  const writing = load(layout, () => (performance.now() < end ? rng.int(keys) : undefined),
    (i) => `${round}:${i}`.padEnd(valueBytes, 'w'));
  const t1 = performance.now();
  for (let t = 0; t <= seconds; t += 5) {
    round = t;
    const s = (await status(layout)).filter((x): x is StatusReply => x !== undefined);
    const held = Math.max(...s.map((x) => x.lastLogIndex - x.snapshotIndex));
    console.log(`${String(Math.round((performance.now() - t1) / 1000)).padEnd(8)} ` +
      `${String(Math.max(...s.map((x) => x.commitIndex))).padEnd(10)} ${String(held).padEnd(9)} ` +
      `${mb(Math.max(...s.map((x) => x.walBytes))).padEnd(7)} ` +
      `${s.map((x) => mb(x.rssBytes)).join(' ')}`);
    if (t < seconds) await sleep(Math.max(0, t1 + (t + 5) * 1000 - performance.now()));
  }
  console.log(`memory: ${await writing} puts`);
} finally {
  for (const m of layout.members) if (isRunning(m)) process.kill(m.pid as number, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
