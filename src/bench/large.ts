/**
 * `npm run bench:large [-- --rounds N --replicas N --kib K]`: one client writes and reads back a
 * value of K KiB (default 1024, the largest) N times against a direct-mode cluster of real
 * processes on loopback, each replica syncing its write-ahead log. Prints each operation's time
 * (p50, max) and its datagrams: those the client sent and received (a large message travels as
 * fragments) and those every replica received, from their status counters (the AppendEntries
 * that carry the value to the followers, and their acknowledgements). Measures; it checks only
 * that every get returned the value written (exit 1 otherwise).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { KvClient } from '../client/client.js';
import { queryStatus } from '../client/status.js';
import { isRunning, newLayout, startMember, waitForLeader } from '../cluster/cluster.js';
import { freePorts } from '../crash/harness.js';
import { Rng } from '../fault/rng.js';
import { wireTexts } from '../wire/fragments.js';
import type { Message, NodeId } from '../wire/messages.js';

function arg(name: string, fallback: number): number {
  const k = process.argv.indexOf(name);
  return k >= 0 ? Number(process.argv[k + 1]) : fallback;
}

const rounds = arg('--rounds', 20);
const replicas = arg('--replicas', 3);
const units = arg('--kib', 1024) * 1024;
const dir = mkdtempSync(join(tmpdir(), 'raftkv-bench-large-'));
const layout = newLayout(dir, replicas, await freePorts(replicas, new Rng(Date.now())), undefined);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  ?? NaN;
/** The datagrams a message of this shape takes on the wire. */
const datagrams = (m: object): number => wireTexts({ src: '8000', dst: '0000', leader: 'FFFF',
  MID: '8000.1.1', seq: 1, ...m } as Message, 0).length;
let failed = false;
try {
  for (const m of layout.members) startMember(layout, m);
  if (await waitForLeader(layout, 15_000) === undefined) throw new Error('no leader');
  const addresses = layout.members.map((m) => m.address);
  const received = async (): Promise<number> => (await queryStatus(addresses, 1000))
    .reduce((n, r) => n + (r?.received ?? 0), 0);
  const client = await KvClient.open({ cluster: addresses, timeoutMs: 20_000,
    clientId: '0400' as NodeId });
  const putMs: number[] = [];
  const getMs: number[] = [];
  const putReplica: number[] = [];
  const getReplica: number[] = [];
  for (let n = 0; n < rounds; n++) {
    // a different value each round, of 1- and 2-byte UTF-8 characters
    const value = `${n}`.padEnd(units, n % 2 === 0 ? 'x' : '\u00e9');
    const key = `large/${n % 4}`;
    let before = await received();
    let t = performance.now();
    await client.put(key, value);
    putMs.push(performance.now() - t);
    // followers acknowledge after the leader answered: let the round settle before counting
    await new Promise((r) => setTimeout(r, 100));
    putReplica.push(await received() - before - 1); // the status request itself is not counted
    before = await received();
    t = performance.now();
    const got = await client.get(key);
    getMs.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 100));
    getReplica.push(await received() - before - 1);
    if (!got.found || got.value !== value) {
      console.error(`round ${n}: get ${key} did not return the value written`);
      failed = true;
    }
  }
  client.close();
  const sample = 'x'.repeat(units);
  console.log(`${replicas} replicas, one client, ${rounds} rounds of a ${units / 1024} KiB value, ` +
    `${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, Node ${process.versions.node}`);
  console.log(`put: p50 ${median(putMs).toFixed(1)} ms, max ${Math.max(...putMs).toFixed(1)} ms; ` +
    `the client sends ${datagrams({ type: 'put', key: 'large/0', value: sample })} datagrams ` +
    `and gets 1; replicas receive ${median(putReplica)} datagrams (median)`);
  console.log(`get: p50 ${median(getMs).toFixed(1)} ms, max ${Math.max(...getMs).toFixed(1)} ms; ` +
    `the client sends 1 datagram and gets ` +
    `${datagrams({ type: 'ok', value: sample })}; replicas receive ${median(getReplica)} ` +
    'datagrams (median: the request, and the read round\'s heartbeats and acknowledgements)');
} finally {
  for (const m of layout.members) if (isRunning(m)) process.kill(m.pid as number, 'SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
