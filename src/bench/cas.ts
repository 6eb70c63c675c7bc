/**
 * `npm run bench:cas [-- --clients N --seconds S --replicas N]`: N closed-loop clients contend on
 * one key of a direct-mode cluster of real processes on loopback (each replica syncing its
 * write-ahead log). Each client reads the key, then compare-and-swaps it from what it read to a
 * value of its own, again and again. Prints attempts and swaps per second, latency, and the
 * linearizability verdict of the whole history (gets, and cas with the value each found), from
 * the checker of `fault/linearizability.ts` with the register starting absent. Measures; the
 * verdict is the only thing it judges (exit 1 if the history is not linearizable).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { KvClient, TimeoutError, type Found } from '../client/client.js';
import { isRunning, newLayout, startMember, waitForLeader } from '../cluster/cluster.js';
import { freePorts } from '../crash/harness.js';
import { checkRegisterHistory, type RegisterOp } from '../fault/linearizability.js';
import { Rng } from '../fault/rng.js';
import type { NodeId } from '../wire/messages.js';

function arg(name: string, fallback: number): number {
  const k = process.argv.indexOf(name);
  return k >= 0 ? Number(process.argv[k + 1]) : fallback;
}

const clients = arg('--clients', 16);
const seconds = arg('--seconds', 10);
const replicas = arg('--replicas', 3);
const KEY = 'contended';
const dir = mkdtempSync(join(tmpdir(), 'raftkv-bench-cas-'));
const layout = newLayout(dir, replicas, await freePorts(replicas, new Rng(Date.now())), undefined);
const percentile = (xs: number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? NaN;
const valueOf = (f: Found): string | null => (f.found ? f.value : null);
let failed = false;
try {
  for (const m of layout.members) startMember(layout, m);
  if (await waitForLeader(layout, 15_000) === undefined) throw new Error('no leader');
  const addresses = layout.members.map((m) => m.address);
  const ops: RegisterOp[] = [];
  const casMs: number[] = [];
  let swaps = 0;
  let unanswered = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const now = (): number => performance.now() - t0;
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    const client = await KvClient.open({ cluster: addresses, timeoutMs: 5000,
      clientId: (0x0300 + c).toString(16).toUpperCase().padStart(4, '0') as NodeId });
    let seen: string | null = null;
    for (let n = 0; performance.now() < end; n++) {
      const value = `c${c}-${n}`;
      const call = now();
      try {
        if (n % 4 === 0) { // now and then a fresh read, as a client that lost track would do
          seen = valueOf(await client.get(KEY));
          ops.push({ id: `c${c}-get${n}`, key: KEY, kind: 'get', read: seen, call, ret: now() });
          continue;
        }
        const r = await client.cas(KEY, seen, value);
        const ret = now();
        casMs.push(ret - call);
        ops.push({ id: value, key: KEY, kind: 'cas', expected: seen, value, call, ret,
          read: valueOf(r.previous) });
        if (r.swapped) swaps++;
        seen = r.swapped ? value : valueOf(r.previous);
      } catch (e) {
        if (!(e instanceof TimeoutError)) throw e;
        unanswered++;
        if (n % 4 !== 0) {
          ops.push({ id: value, key: KEY, kind: 'cas', expected: seen, value, call,
            ret: Infinity });
        }
      }
    }
    client.close();
  }));
  const wall = (performance.now() - t0) / 1000;
  const c0 = performance.now();
  const check = checkRegisterHistory(ops, { initial: null });
  const checkMs = performance.now() - c0;
  console.log(`${replicas} replicas, ${clients} clients contending on one key for ${seconds} s, ` +
    `${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, Node ${process.versions.node}`);
  console.log(`cas: ${casMs.length} answered in ${wall.toFixed(1)} s = ` +
    `${(casMs.length / wall).toFixed(0)}/s, of which ${swaps} swapped ` +
    `(${(swaps / wall).toFixed(0)}/s); latency ms p50 ${percentile(casMs, 0.5).toFixed(2)}, ` +
    `p99 ${percentile(casMs, 0.99).toFixed(2)}; ${unanswered} unanswered`);
  const key = check.keys[0];
  console.log(`linearizability: ${check.result} (${key?.ops ?? 0} ops, ${key?.method ?? '-'}, ` +
    `${(key?.steps ?? 0).toLocaleString('en')} steps, ${checkMs.toFixed(0)} ms)` +
    `${key?.reason === undefined ? '' : `: ${key.reason}`}`);
  failed = check.result !== 'ok';
} finally {
  for (const m of layout.members) if (isRunning(m)) process.kill(m.pid as number, 'SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
