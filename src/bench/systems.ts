/**
 * The two systems the benchmarks compare, each as a fresh cluster of 3 members on loopback with
 * its log on the local disk: etcd (Debian's `etcd-server`, driven over gRPC by npm `etcd3`) and
 * raftkv's direct mode (driven by `KvClient`). Used by `bench:etcd` and `bench:idle`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KvClient } from '../client/client.js';
import { isRunning, newLayout, startMember, waitForLeader } from '../cluster/cluster.js';
import { freePorts } from '../crash/harness.js';
import type { Rng } from '../fault/rng.js';
import type { NodeId } from '../wire/messages.js';

export const MEMBERS = 3;
export const KEYS = 1000;
export const VALUE = 'v'.repeat(100);
export const INSTALL_HINT = 'etcd not found: install Debian\'s etcd-server (`apt-get install ' +
  'etcd-server`), or pass --etcd PATH';

export type System = 'etcd' | 'raftkv';
export type Workload = 'put' | 'get';

/** One closed-loop client: each call resolves when the system acknowledged it. */
export interface Client {
  readonly put: (k: number) => Promise<void>;
  readonly get: (k: number) => Promise<void>;
}

/** A running cluster of one system: `n` clients of it, and a way to end it all. */
export interface Cluster {
  readonly clients: (n: number) => Promise<Client[]>;
  /** The servers' process ids, for their CPU time. */
  readonly pids: readonly number[];
  readonly end: () => Promise<void>;
}


export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The etcd binary: `--etcd`, else `etcd` on PATH, else undefined. */
export function findEtcd(given: string | undefined): string | undefined {
  const candidates = given !== undefined ? [given]
    : (process.env.PATH ?? '').split(delimiter).filter((d) => d !== '').map((d) => join(d, 'etcd'));
  for (const file of candidates) {
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch { /* not here */ }
  }
  return undefined;
}

/** `n` consecutive TCP ports on 127.0.0.1 that nothing listens on now. */
async function freeTcpPorts(n: number, rng: Rng): Promise<number> {
  const free = (port: number): Promise<boolean> => new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
  for (let tries = 0; tries < 50; tries++) {
    const base = 20_000 + rng.int(30_000);
    let ok = true;
    for (let k = 0; k < n && ok; k++) ok = await free(base + k);
    if (ok) return base;
  }
  throw new Error(`no ${n} free TCP ports`);
}

/** CPU time (user + system) of process `pid` so far, in seconds; 0 once it is gone. */
export async function cpuSeconds(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields from the state on: utime and stime are the 12th and 13th (clock ticks, 100 a second)
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

export async function startEtcd(binary: string, rng: Rng, run: number): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'raftkv-bench-etcd-'));
  const base = await freeTcpPorts(2 * MEMBERS, rng);
  const clientUrl = (k: number): string => `http://127.0.0.1:${base + k}`;
  const peerUrl = (k: number): string => `http://127.0.0.1:${base + MEMBERS + k}`;
  const initial = Array.from({ length: MEMBERS }, (_, k) => `m${k}=${peerUrl(k)}`).join(',');
  const children: ChildProcess[] = [];
  const end = async (): Promise<void> => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null
      ? undefined : new Promise((r) => c.once('exit', r)))));
    rmSync(dir, { recursive: true, force: true });
  };
  for (let k = 0; k < MEMBERS; k++) {
    children.push(spawn(binary, [
      '--name', `m${k}`, '--data-dir', join(dir, `m${k}`),
      '--listen-client-urls', clientUrl(k), '--advertise-client-urls', clientUrl(k),
      '--listen-peer-urls', peerUrl(k), '--initial-advertise-peer-urls', peerUrl(k),
      '--initial-cluster', initial, '--initial-cluster-state', 'new',
      '--initial-cluster-token', `raftkv-bench-${process.pid}-${run}`,
      '--logger', 'zap', '--log-level', 'error',
    ], { stdio: ['ignore', 'ignore', 'ignore'] }));
  }
  const { Etcd3 } = await import('etcd3');
  try {
    // the leader's endpoint: the member whose own id is the leader its status reports
    let leader: string | undefined;
    for (const deadline = Date.now() + 20_000; leader === undefined && Date.now() < deadline;) {
      for (let k = 0; k < MEMBERS && leader === undefined; k++) {
        const probe = new Etcd3({ hosts: clientUrl(k), dialTimeout: 500 });
        try {
          const status = await probe.maintenance.status();
          if (status.leader !== '0' && status.leader === status.header.member_id) {
            leader = clientUrl(k);
          }
        } catch { /* not up yet */ } finally {
          probe.close();
        }
      }
      if (leader === undefined) await sleep(100);
    }
    if (leader === undefined) throw new Error('etcd elected no leader within 20 s');
    const at = leader;
    const opened: InstanceType<typeof Etcd3>[] = [];
    return {
      pids: children.map((c) => c.pid as number),
      clients: async (n) => Array.from({ length: n }, () => {
        const client = new Etcd3({ hosts: at });
        opened.push(client);
        return {
          put: async (k: number) => { await client.put(`k${k}`).value(VALUE); },
          get: async (k: number) => { await client.get(`k${k}`).string(); },
        };
      }),
      end: async () => {
        for (const c of opened) c.close();
        await end();
      },
    };
  } catch (e) {
    await end();
    throw e;
  }
}

export async function startRaftkv(rng: Rng): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'raftkv-bench-raftkv-'));
  const layout = newLayout(dir, MEMBERS, await freePorts(MEMBERS, rng), undefined);
  const end = async (): Promise<void> => {
    for (const m of layout.members) if (isRunning(m)) process.kill(m.pid as number, 'SIGKILL');
    for (let wait = 0; wait < 50 && layout.members.some(isRunning); wait++) await sleep(20);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const m of layout.members) startMember(layout, m);
    if (await waitForLeader(layout, 20_000) === undefined) {
      throw new Error('raftkv elected no leader within 20 s');
    }
  } catch (e) {
    await end();
    throw e;
  }
  const addresses = layout.members.map((m) => m.address);
  const opened: KvClient[] = [];
  return {
    pids: layout.members.map((m) => m.pid as number),
    clients: async (n) => Promise.all(Array.from({ length: n }, async (_, c) => {
      const client = await KvClient.open({ cluster: addresses, timeoutMs: 5000,
        clientId: (0x0100 + c).toString(16).toUpperCase().padStart(4, '0') as NodeId });
      opened.push(client);
      return {
        put: async (k: number) => { await client.put(`k${k}`, VALUE); },
        get: async (k: number) => { await client.get(`k${k}`); },
      };
    })),
    end: async () => {
      for (const c of opened) c.close();
      await end();
    },
  };
}
