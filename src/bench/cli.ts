/**
 * `npm run bench:cli [-- --runs N]`: the latency of one-shot CLI commands against a direct-mode
 * cluster of 3 real processes on loopback, as a user types them: `node dist/cli.js put|get ...
 * --data-dir D` and `npx raftkv put|get ...`, N runs each, one after another, and the bare process
 * start (`node dist/cli.js --version`) for comparison. A one-shot put registers a session of its
 * own first [§6.3]: the commits per put are counted from the leader's commit index. Measures
 * only; it judges nothing but that every command succeeded.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { queryStatus } from '../client/status.js';
import { CLI_PATH, readLayout } from '../cluster/cluster.js';

function arg(name: string, fallback: number): number {
  const k = process.argv.indexOf(name);
  return k >= 0 ? Number(process.argv[k + 1]) : fallback;
}

const runs = arg('--runs', 20);
const dir = mkdtempSync(join(tmpdir(), 'raftkv-bench-cli-'));
const percentile = (xs: number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? NaN;

/** Run a command to completion: its wall time in ms; throws if it failed. */
function timed(command: string, args: readonly string[]): number {
  const t0 = performance.now();
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 30_000 });
  const ms = performance.now() - t0;
  if (r.status !== 0) {
    throw new Error(`${command} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  }
  return ms;
}

const cli = (...args: string[]): number => timed(process.execPath, [CLI_PATH, ...args]);
const npx = (...args: string[]): number => timed('npx', ['--no-install', 'raftkv', ...args]);

async function commitIndex(): Promise<number> {
  const layout = readLayout(dir);
  const replies = await queryStatus(layout?.members.map((m) => m.address) ?? [], 500);
  return Math.max(...replies.map((r) => r?.commitIndex ?? 0));
}

function row(what: string, ms: number[]): void {
  console.log(`${what.padEnd(36)} p50 ${percentile(ms, 0.5).toFixed(0).padStart(4)} ms  ` +
    `p90 ${percentile(ms, 0.9).toFixed(0).padStart(4)} ms  max ${Math.max(...ms).toFixed(0)} ms`);
}

try {
  let up = false;
  for (let tries = 0; tries < 5 && !up; tries++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    const r = spawnSync(process.execPath, [CLI_PATH, 'cluster', 'up', '--replicas', '3',
      '--base-port', String(base), '--data-dir', dir], { encoding: 'utf8', timeout: 30_000 });
    up = r.status === 0;
  }
  if (!up) throw new Error('cluster up failed five times');
  const d = ['--data-dir', dir];
  const start = Array.from({ length: runs }, () => cli('--version'));
  const before = await commitIndex();
  const puts = Array.from({ length: runs }, (_, k) => cli('put', `k${k}`, `v${k}`, ...d));
  const commits = (await commitIndex() - before) / runs;
  const gets = Array.from({ length: runs }, (_, k) => cli('get', `k${k}`, ...d));
  const npxPuts = Array.from({ length: runs }, (_, k) => npx('put', `n${k}`, `v${k}`, ...d));
  const npxGets = Array.from({ length: runs }, (_, k) => npx('get', `n${k}`, ...d));
  console.log(`one-shot CLI commands, 3 replicas on loopback, ${runs} runs each ` +
    `(${new Date().toISOString().slice(0, 10)}, in ${resolve('.')})`);
  row('node dist/cli.js --version', start);
  row('node dist/cli.js put K V --data-dir', puts);
  row('node dist/cli.js get K --data-dir', gets);
  row('npx raftkv put K V --data-dir', npxPuts);
  row('npx raftkv get K --data-dir', npxGets);
  console.log(`commits per one-shot put: ${commits.toFixed(2)} (a register, then the put)`);
} finally {
  spawnSync(process.execPath, [CLI_PATH, 'cluster', 'down', '--data-dir', dir], { timeout: 20_000 });
  rmSync(dir, { recursive: true, force: true });
}
