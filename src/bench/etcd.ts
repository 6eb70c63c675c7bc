/**
 * `npm run bench:etcd [-- --reps N --seconds S --clients 1,16,64 --workloads put,get --json FILE
 * --etcd PATH]`: raftkv's direct mode against etcd on this machine, in one run. A benchmark: it
 * measures and asserts nothing, and `npm test` never runs it.
 *
 * Each measurement gets a fresh cluster of 3 members on loopback, each member with its log on the
 * local disk, and both systems sync their logs before they acknowledge (etcd by default; raftkv
 * always: it has no way to skip fsync). Closed-loop clients write 100-byte values over 1,000 keys,
 * or read those keys with linearizable gets (etcd's default `get`, raftkv's default ReadIndex).
 * etcd is driven over native gRPC (npm `etcd3`), one client object per closed-loop client, pointed
 * at the leader; raftkv through its own `KvClient`, one per closed-loop client. The two systems
 * alternate, and so does which goes first, for every workload and repetition.
 *
 * It prints, for each workload and client count, the median over the repetitions of throughput,
 * p50 and p99, the ratio raftkv / etcd, and the CPU this process (the load generator, which shares
 * the machine's cores with the servers) used, as a share of one core; `--json` writes every sample.
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Rng } from '../fault/rng.js';
import { benchArgs, refuse } from './args.js';
import {
  cpuSeconds, findEtcd, INSTALL_HINT, startEtcd, startRaftkv, type Cluster, type System,
  type Workload, KEYS, MEMBERS,
} from './systems.js';

const USAGE = 'usage: npm run bench:etcd -- [--reps N] [--seconds S] [--clients 1,16,64] ' +
  '[--workloads put,get] [--json FILE] [--etcd PATH]';

interface Sample {
  readonly system: System;
  readonly workload: Workload;
  readonly clients: number;
  readonly rep: number;
  readonly ops: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  /** CPU this process used while the clients ran, as a share of one core. */
  readonly generatorCpu: number;
  /** CPU the servers used while the clients ran, in cores (all members together). */
  readonly serverCpu: number;
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;

const median = (xs: readonly number[]): number => percentile([...xs].sort((a, b) => a - b), 0.5);

/**
 * One measurement: `n` closed-loop clients for `seconds` on a fresh cluster. Gets read keys the
 * clients wrote first; every client makes one untimed request before the clock starts (raftkv's
 * registers its session there, etcd's opens its connection).
 */
async function measure(cluster: Cluster, workload: Workload, n: number, seconds: number,
  rep: number, system: System): Promise<Sample> {
  const clients = await cluster.clients(n);
  if (workload === 'get') {
    await Promise.all(clients.map(async (c, i) => {
      for (let k = i; k < KEYS; k += n) await c.put(k);
    }));
  }
  await Promise.all(clients.map((c, i) => c[workload](i)));
  const latencies: number[] = [];
  let errors = 0;
  const cpu0 = process.cpuUsage();
  const server0 = await Promise.all(cluster.pids.map(cpuSeconds));
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(clients.map(async (client, c) => {
    for (let i = 0; performance.now() < end; i++) {
      const k = (c * 7919 + i * 31) % KEYS;
      const t = performance.now();
      try {
        await client[workload](k);
        latencies.push(performance.now() - t);
      } catch {
        errors++;
      }
    }
  }));
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const server1 = await Promise.all(cluster.pids.map(cpuSeconds));
  latencies.sort((a, b) => a - b);
  return {
    system, workload, clients: n, rep, ops: latencies.length, seconds: wall,
    perSecond: latencies.length / wall,
    p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99), errors,
    generatorCpu: (cpu.user + cpu.system) / 1e6 / wall,
    serverCpu: server1.reduce((a, b, k) => a + b - (server0[k] ?? 0), 0) / wall,
  };
}

const OPTIONS = {
  reps: { type: 'string', default: '5' }, seconds: { type: 'string', default: '5' },
  clients: { type: 'string', default: '1,16,64' }, workloads: { type: 'string', default: 'put,get' },
  json: { type: 'string' }, etcd: { type: 'string' }, help: { type: 'boolean', short: 'h' },
} as const;
const values = benchArgs(OPTIONS, USAGE);
const reps = Number(values.reps);
const seconds = Number(values.seconds);
const counts = (values.clients ?? '').split(',').map(Number);
const workloads = (values.workloads ?? '').split(',') as Workload[];
if (!Number.isInteger(reps) || reps < 1 || !(seconds > 0)
  || counts.some((c) => !Number.isInteger(c) || c < 1 || c > 1024)
  || workloads.some((w) => w !== 'put' && w !== 'get')) refuse(USAGE);
const etcd = findEtcd(values.etcd);
if (etcd === undefined) {
  console.error(INSTALL_HINT);
  process.exit(2);
}

console.log(`raftkv bench:etcd on ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores), ` +
  `Node ${process.version}, ${etcd}; ${MEMBERS} members each, ${reps} repetitions of ${seconds} s`);
const rng = new Rng(Date.now());
const samples: Sample[] = [];
let run = 0;
for (let rep = 1; rep <= reps; rep++) {
  for (const workload of workloads) {
    for (const n of counts) {
      const order: System[] = (rep + n) % 2 === 0 ? ['etcd', 'raftkv'] : ['raftkv', 'etcd'];
      for (const system of order) {
        const cluster = system === 'etcd' ? await startEtcd(etcd, rng, run++) : await startRaftkv(rng);
        try {
          const s = await measure(cluster, workload, n, seconds, rep, system);
          samples.push(s);
          console.log(`  rep ${rep} ${workload} x${String(n).padEnd(3)} ${system.padEnd(6)} ` +
            `${s.perSecond.toFixed(0).padStart(6)}/s p50 ${s.p50Ms.toFixed(2)} ms p99 ` +
            `${s.p99Ms.toFixed(2)} ms, errors ${s.errors}, generator ` +
            `${(100 * s.generatorCpu).toFixed(0)} % of a core, servers ${s.serverCpu.toFixed(2)} cores`);
        } finally {
          await cluster.end();
        }
      }
    }
  }
}

console.log('\nmedians over the repetitions (ratio: raftkv / etcd throughput)');
console.log('workload clients  etcd/s   p50    p99 | raftkv/s   p50    p99 | ratio | generator CPU ' +
  'etcd / raftkv');
const summary = workloads.flatMap((workload) => counts.map((n) => {
  const of = (system: System): Sample[] => samples.filter((s) => s.system === system
    && s.workload === workload && s.clients === n);
  const row = (system: System) => ({
    perSecond: median(of(system).map((s) => s.perSecond)),
    p50Ms: median(of(system).map((s) => s.p50Ms)),
    p99Ms: median(of(system).map((s) => s.p99Ms)),
    generatorCpu: median(of(system).map((s) => s.generatorCpu)),
  });
  const e = row('etcd');
  const r = row('raftkv');
  const ratio = r.perSecond / e.perSecond;
  const ms = (x: number): string => x.toFixed(2).padStart(6);
  console.log(`${workload.padEnd(8)} ${String(n).padStart(7)} ${e.perSecond.toFixed(0).padStart(7)} ` +
    `${ms(e.p50Ms)} ${ms(e.p99Ms)} | ${r.perSecond.toFixed(0).padStart(8)} ${ms(r.p50Ms)} ` +
    `${ms(r.p99Ms)} | ${ratio.toFixed(2).padStart(5)} | ${(100 * e.generatorCpu).toFixed(0)} % / ` +
    `${(100 * r.generatorCpu).toFixed(0)} %`);
  return { workload, clients: n, etcd: e, raftkv: r, ratio };
}));
if (values.json !== undefined) {
  writeFileSync(values.json, `${JSON.stringify({ machine: { cpu: cpus()[0]?.model,
    cores: cpus().length, node: process.version }, etcd, reps, seconds, summary, samples },
  null, 1)}\n`);
  console.log(`written: ${values.json}`);
}
