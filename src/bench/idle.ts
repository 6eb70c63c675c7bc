/**
 * `npm run bench:idle [-- --seconds 60 --etcd PATH]`: what an idle cluster costs. A fresh raftkv
 * cluster of 3 members (and, where etcd is installed, a fresh etcd cluster of 3 beside it, one
 * after the other) elects a leader, settles for 2 s, and then sits without clients; each member's
 * CPU time (user + system, from `/proc/<pid>/stat`) over the window is printed as a share of one
 * core. A benchmark: it measures and asserts nothing.
 */
import { cpus } from 'node:os';
import { Rng } from '../fault/rng.js';
import { benchArgs, refuse } from './args.js';
import { cpuSeconds, findEtcd, sleep, startEtcd, startRaftkv, type Cluster } from './systems.js';

const USAGE = 'usage: npm run bench:idle -- [--seconds S] [--etcd PATH]';
const OPTIONS = {
  seconds: { type: 'string', default: '60' }, etcd: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;
const values = benchArgs(OPTIONS, USAGE);
const seconds = Number(values.seconds);
if (!(seconds > 0)) refuse(USAGE);

/** Each member's CPU over `seconds` of idling, as a share of one core. */
async function idle(cluster: Cluster): Promise<number[]> {
  await sleep(2000);
  const before = await Promise.all(cluster.pids.map(cpuSeconds));
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const after = await Promise.all(cluster.pids.map(cpuSeconds));
  const wall = (performance.now() - t0) / 1000;
  return after.map((a, k) => (a - (before[k] ?? 0)) / wall);
}

console.log(`raftkv bench:idle on ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores), ` +
  `Node ${process.version}: 3 members each, idle for ${seconds} s`);
const rng = new Rng(Date.now());
const etcd = findEtcd(values.etcd);
const systems: [string, () => Promise<Cluster>][] = [['raftkv', () => startRaftkv(rng)]];
if (etcd !== undefined) systems.push(['etcd', () => startEtcd(etcd, rng, 0)]);
else console.log('etcd: not installed, measured raftkv only');
for (const [name, start] of systems) {
  const cluster = await start();
  try {
    const shares = await idle(cluster);
    console.log(`${name.padEnd(6)} per member: ${shares.map((s) => `${(100 * s).toFixed(2)} %`)
      .join(', ')} of a core (mean ${(100 * shares.reduce((a, b) => a + b, 0) / shares.length)
      .toFixed(2)} %)`);
  } finally {
    await cluster.end();
  }
}
