/**
 * `npm run bench:cluster [-- --clients N --seconds S --replicas N --cpu-prof DIR]`: a direct-mode
 * cluster of real processes on loopback, each with its write-ahead log on the local disk, under N
 * closed-loop clients doing puts. Prints throughput, latency, and the group-commit figures each
 * replica reports (fdatasyncs, log entries per fdatasync, fdatasyncs per second). Measures;
 * asserts nothing. `--cpu-prof DIR` runs each replica under `node --cpu-prof`; the replicas end
 * with SIGTERM, so each writes its profile into DIR, named by its pid, which the report prints.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { KvClient } from '../client/client.js';
import { queryStatus } from '../client/status.js';
import {
  isRunning, newLayout, REPLICA_COMMAND, startMember, waitForLeader,
} from '../cluster/cluster.js';
import { freePorts } from '../crash/harness.js';
import { Rng } from '../fault/rng.js';
import { benchArgs, refuse, wholeOption } from './args.js';
import type { NodeId } from '../wire/messages.js';

const USAGE = 'usage: npm run bench:cluster -- [--clients N] [--seconds S] [--replicas N] ' +
  '[--cpu-prof DIR]';
const values = benchArgs({
  clients: { type: 'string', default: '32' }, seconds: { type: 'string', default: '10' },
  replicas: { type: 'string', default: '5' }, 'cpu-prof': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
}, USAGE);
const clients = wholeOption(USAGE, values.clients, 1, 1024);
const seconds = wholeOption(USAGE, values.seconds, 1, 86_400);
const replicas = wholeOption(USAGE, values.replicas, 2, 15);
const profileDir = values['cpu-prof'];
if (profileDir === '' || profileDir?.startsWith('-') === true) refuse(USAGE);
const command = profileDir === undefined ? REPLICA_COMMAND
  : ['--cpu-prof', `--cpu-prof-dir=${resolve(profileDir)}`, ...REPLICA_COMMAND];
const dir = mkdtempSync(join(tmpdir(), 'raftkv-bench-'));
const layout = newLayout(dir, replicas, await freePorts(replicas, new Rng(Date.now())), undefined);
const percentile = (xs: number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? NaN;
try {
  for (const m of layout.members) startMember(layout, m, command);
  if (await waitForLeader(layout, 15_000) === undefined) throw new Error('no leader');
  const addresses = layout.members.map((m) => m.address);
  const before = await queryStatus(addresses);
  const latencies: number[] = [];
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    const client = await KvClient.open({ cluster: addresses, timeoutMs: 5000,
      clientId: (0x0200 + c).toString(16).toUpperCase().padStart(4, '0') as NodeId });
    for (let n = 0; performance.now() < end; n++) {
      const t = performance.now();
      await client.put(`k${(c * 7 + n) % 100}`, `c${c}-${n}`);
      latencies.push(performance.now() - t);
    }
    client.close();
  }));
  const wall = (performance.now() - t0) / 1000;
  const after = await queryStatus(addresses);
  console.log(`${replicas} replicas, ${clients} clients doing puts for ${seconds} s, ` +
    `${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, Node ${process.versions.node}`);
  console.log(`puts: ${latencies.length} in ${wall.toFixed(1)} s = ` +
    `${(latencies.length / wall).toFixed(0)}/s; latency ms p50 ${percentile(latencies, 0.5)
      .toFixed(2)}, p99 ${percentile(latencies, 0.99).toFixed(2)}`);
  layout.members.forEach((m, k) => {
    const a = after[k];
    const b = before[k];
    if (a === undefined || b === undefined) return console.log(`${m.id}: no status`);
    const syncs = a.syncs - b.syncs;
    const entries = a.entriesSynced - b.entriesSynced;
    const perSecond = (syncs / wall).toFixed(0);
    console.log(`${m.id} pid ${m.pid} ${a.role.padEnd(8)} fdatasyncs ${syncs} (${perSecond}/s), ` +
      `log entries ${entries}, ${(entries / Math.max(1, syncs)).toFixed(2)} entries per fdatasync`);
  });
} finally {
  // SIGTERM first: a replica run with NODE_OPTIONS=--cpu-prof writes its profile as it exits
  for (const m of layout.members) if (isRunning(m)) process.kill(m.pid as number, 'SIGTERM');
  for (let wait = 0; wait < 100 && layout.members.some(isRunning); wait++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const m of layout.members) if (isRunning(m)) process.kill(m.pid as number, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
