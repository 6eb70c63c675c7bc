/**
 * `npm run bench:memory [-- --puts N --keys K --clients C --replicas R]`: a replica's memory over a
 * long run. A fresh direct-mode cluster (default 3 replicas, each run with `--loop-delay`) takes
 * N puts (default 1,000,000) of 100-byte values to K keys (default 20,000) from C closed-loop
 * clients (default 32). Every 500 ms each replica's resident memory is read from `/proc`.
 *
 * It prints, per replica: the peak RSS; the peak in the first and in the last quarter of the run
 * after warm-up (the first 10 % of the puts), and their ratio (flat memory: within 10 %); the
 * longest the replica's event loop was held up (its status, `--loop-delay`: snapshots of K keys
 * are taken every 2,000 entries, so a snapshot that blocked the loop shows here); and the
 * snapshots' index. A benchmark: it measures and asserts nothing.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { KvClient } from '../client/client.js';
import { queryStatus } from '../client/status.js';
import {
  isRunning, newLayout, REPLICA_COMMAND, startMember, waitForLeader,
} from '../cluster/cluster.js';
import { freePorts } from '../crash/harness.js';
import { Rng } from '../fault/rng.js';
import { benchArgs, wholeOption } from './args.js';
import type { NodeId } from '../wire/messages.js';

const USAGE = 'usage: npm run bench:memory -- [--puts N] [--keys K] [--clients C] [--replicas R]';
const OPTIONS = {
  puts: { type: 'string', default: '1000000' }, keys: { type: 'string', default: '20000' },
  clients: { type: 'string', default: '32' }, replicas: { type: 'string', default: '3' },
  help: { type: 'boolean', short: 'h' },
} as const;
const values = benchArgs(OPTIONS, USAGE);
const puts = wholeOption(USAGE, values.puts, 1, 1e9);
const keys = wholeOption(USAGE, values.keys, 1, 1e7);
const clients = wholeOption(USAGE, values.clients, 1, 1024);
const replicas = wholeOption(USAGE, values.replicas, 2, 15);
const WARM_UP = 0.1;
const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resident memory of `pid` in bytes, from `/proc`; 0 once it is gone. */
function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? 0 : Number(m[1]) * 1024;
  } catch {
    return 0;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'raftkv-bench-memory-'));
const layout = newLayout(dir, replicas, await freePorts(replicas, new Rng(Date.now())), undefined);
try {
  console.log(`raftkv bench:memory: ${replicas} replicas, ${puts} puts of 100 bytes to ${keys} ` +
    `keys from ${clients} clients, ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, ` +
    `Node ${process.versions.node}`);
  for (const m of layout.members) startMember(layout, m, [...REPLICA_COMMAND, '--loop-delay']);
  if (await waitForLeader(layout, 20_000) === undefined) throw new Error('no leader');
  const addresses = layout.members.map((m) => m.address);
  const pids = layout.members.map((m) => m.pid as number);
  const samples: { done: number; rss: number[] }[] = [];
  let issued = 0;
  let done = 0;
  let failed = 0;
  const rng = new Rng(11);
  const value = 'm'.repeat(100);
  const t0 = performance.now();
  let writing = true;
  const sampler = (async (): Promise<void> => {
    while (writing) {
      samples.push({ done, rss: pids.map(rssOf) });
      await sleep(500);
    }
  })();
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    const client = await KvClient.open({ cluster: addresses, timeoutMs: 10_000,
      clientId: (0x0400 + c).toString(16).toUpperCase().padStart(4, '0') as NodeId });
    while (issued < puts) {
      issued++;
      try {
        await client.put(`key-${String(rng.int(keys)).padStart(6, '0')}`, value);
        done++;
      } catch {
        failed++;
      }
      if (done % 100_000 === 0 && done > 0) {
        console.log(`  ${done} puts, ${((performance.now() - t0) / 1000).toFixed(0)} s, RSS MB ` +
          `${(samples.at(-1)?.rss ?? []).map(mb).join(' ')}`);
      }
    }
    client.close();
  }));
  writing = false;
  await sampler;
  const wall = (performance.now() - t0) / 1000;
  const status = await queryStatus(addresses, 2000);
  console.log(`${done} puts in ${wall.toFixed(0)} s (${(done / wall).toFixed(0)}/s), ` +
    `${failed} failed`);
  const after = samples.filter((s) => s.done >= WARM_UP * puts);
  const q = Math.floor(after.length / 4);
  console.log('replica  role      peak RSS MB  first quarter  last quarter  last/first  ' +
    'loop delay max ms  snapshot index');
  layout.members.forEach((m, k) => {
    const at = (xs: typeof samples): number => Math.max(...xs.map((s) => s.rss[k] ?? 0));
    const first = at(after.slice(0, q));
    const last = at(after.slice(after.length - q));
    const s = status[k];
    const delay = s?.loopDelayMaxUs;
    console.log(`${m.id}     ${(s?.role ?? '?').padEnd(9)} ${mb(at(samples)).padStart(11)}  ` +
      `${mb(first).padStart(13)}  ${mb(last).padStart(12)}  ${(last / first).toFixed(3).padStart(10)}  ` +
      `${(delay === null || delay === undefined ? '?' : (delay / 1000).toFixed(1)).padStart(17)}  ` +
      `${s?.snapshotIndex ?? '?'}`);
  });
} finally {
  for (const m of layout.members) if (isRunning(m)) process.kill(m.pid as number, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
