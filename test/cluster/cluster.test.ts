/**
 * `raftkv cluster` and the client commands end to end: the compiled CLI (`dist/cli.js`) starts
 * three real replica processes on loopback, serves a put and a get, survives the leader's
 * SIGKILL, and restarts what died. Every command is bounded; afterAll runs `cluster down` and then
 * ends, by PID, any replica that the layout or a command's output recorded and that still runs.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBuiltDist } from '../support/dist.js';
import { readLayout } from '../../src/cluster/cluster.js';

const CLI = resolve('dist/cli.js');
const ROLE = /^(Follower|PreCandidate|Candidate|Leader)$/;

interface Run { readonly code: number | null; readonly stdout: string; readonly stderr: string }

/** Runs the CLI; a command still running after `timeoutMs` is killed by its PID and fails. */
function cli(args: readonly string[], timeoutMs: number): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString('utf8'); });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString('utf8'); });
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      fail(new Error(`raftkv ${args.join(' ')}: still running after ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); fail(e); });
    child.on('close', (code) => { clearTimeout(timer); done({ code, stdout, stderr }); });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function bindable(port: number): Promise<boolean> {
  const s = createSocket('udp4');
  const ok = await new Promise<boolean>((done) => {
    s.once('error', () => done(false));
    s.bind(port, '127.0.0.1', () => done(true));
  });
  if (ok) await new Promise<void>((done) => s.close(() => done()));
  return ok;
}

/** A base port in 20000-40000 whose `n` ports are free on loopback now (at most 50 probes). */
async function freeBase(n: number): Promise<number> {
  for (let probe = 0; probe < 50; probe++) {
    const base = 20_000 + Math.floor(Math.random() * (20_000 - n));
    let free = true;
    for (let k = 0; k < n && free; k++) free = await bindable(base + k);
    if (free) return base;
  }
  throw new Error('no free base port found in 50 probes');
}

/** A loopback port where nothing listens right now: bound, read, closed. */
async function deadPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((done) => s.bind(0, '127.0.0.1', done));
  const port = s.address().port;
  await new Promise<void>((done) => s.close(() => done()));
  return port;
}

/** Every replica PID a command printed (`started, pid N`, `killed (SIGKILL), pid N`). */
const pids = new Set<number>();
const remember = (out: string): void => {
  for (const m of out.matchAll(/pid (\d+)/g)) pids.add(Number(m[1]));
};

let dir = '';
let base = 0;
const withDir = (...args: string[]): string[] => [...args, '--data-dir', dir];

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Only a process that is still one of our replicas: a recycled PID is left alone. */
function isOurReplica(pid: number): boolean {
  if (!alive(pid)) return false;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes(CLI) && cmdline.includes(dir);
  } catch {
    return false;
  }
}

beforeAll(async () => {
  requireBuiltDist();
  dir = mkdtempSync(join(tmpdir(), 'raftkv-cluster-'));
  base = await freeBase(3);
});

afterAll(async () => {
  if (dir === '') return;
  try {
    await cli(withDir('cluster', 'down'), 10_000);
  } finally {
    for (const m of readLayout(dir)?.members ?? []) if (m.pid !== undefined) pids.add(m.pid);
    for (let wait = 0; wait < 40 && [...pids].some(isOurReplica); wait++) await sleep(50);
    for (const pid of pids) if (isOurReplica(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}, 20_000);

describe('[cluster] raftkv cluster and client commands, three real processes', () => {
  let leader = '';
  let killedPid = 0;

  it('`cluster up` starts three replicas and prints the leader', async () => {
    const r = await cli(withDir('cluster', 'up', '--replicas', '3', '--base-port', String(base)),
      15_000);
    remember(r.stdout);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.match(/^[0-9A-F]{4} started, pid \d+, 127\.0\.0\.1:\d+/gm)?.length).toBe(3);
    for (let k = 0; k < 3; k++) expect(r.stdout).toContain(`127.0.0.1:${base + k}`);
    leader = /^leader ([0-9A-F]{4})$/m.exec(r.stdout)?.[1] ?? '';
    expect(leader, r.stdout).toMatch(/^000[0-2]$/);
  }, 20_000);

  it('`put k v` exits 0 and `get k` prints v', async () => {
    const put = await cli(withDir('put', 'k', 'v'), 8000);
    expect(put.code, put.stderr).toBe(0);
    expect(put.stdout).toBe('');
    const get = await cli(withDir('get', 'k'), 8000);
    expect(get.code, get.stderr).toBe(0);
    expect(get.stdout).toBe('v\n');
  }, 20_000);

  it('after `cluster kill leader`, `get k` still prints v [§5.2 a new leader]', async () => {
    const kill = await cli(withDir('cluster', 'kill', 'leader'), 8000);
    remember(kill.stdout);
    expect(kill.code, kill.stderr).toBe(0);
    const m = /^([0-9A-F]{4}) killed \(SIGKILL\), pid (\d+)$/m.exec(kill.stdout);
    expect(m?.[1], kill.stdout).toBe(leader);
    killedPid = Number(m?.[2]);
    for (let wait = 0; wait < 40 && alive(killedPid); wait++) await sleep(50);
    expect(alive(killedPid)).toBe(false);
    const get = await cli(withDir('get', 'k', '--timeout', '8000'), 12_000);
    expect(get.code, get.stderr).toBe(0);
    expect(get.stdout).toBe('v\n');
  }, 20_000);

  it('`cluster up` again restarts only the killed replica, under a new pid, and `cluster ' +
    'status` shows all three with a role', async () => {
    const up = await cli(withDir('cluster', 'up'), 15_000);
    remember(up.stdout);
    expect(up.code, up.stderr).toBe(0);
    const started = [...up.stdout.matchAll(/^([0-9A-F]{4}) started, pid (\d+)/gm)];
    expect(started.map((s) => s[1])).toEqual([leader]);
    expect(Number(started[0]?.[2])).not.toBe(killedPid);
    expect(up.stdout.match(/already running/g)?.length).toBe(2);
    let rows: string[][] = [];
    for (let attempt = 0; attempt < 20; attempt++) {
      const status = await cli(withDir('cluster', 'status'), 5000);
      expect(status.code, status.stderr).toBe(0);
      rows = status.stdout.trim().split('\n').slice(1).map((line) => line.split(/\s+/));
      if (rows.length === 3 && rows.every((r) => ROLE.test(r[3] ?? ''))) break;
      await sleep(200);
    }
    expect(rows.map((r) => r[0])).toEqual(['0000', '0001', '0002']);
    for (const r of rows) {
      expect(r[3], r.join(' ')).toMatch(ROLE);
      expect(r[2], r.join(' ')).toMatch(/^\d+$/); // a live pid, not '-'
    }
    expect(rows.filter((r) => r[3] === 'Leader').length).toBe(1);
  }, 20_000);

  it('a get against dead ports exits 1 with "no leader answered"', async () => {
    const dead = [await deadPort(), await deadPort()].map((p) => `127.0.0.1:${p}`);
    const r = await cli(['get', 'k', '--cluster', dead.join(','), '--timeout', '300'], 5000);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('no leader answered within 300 ms');
    expect(r.stderr).toContain(dead[0]);
  }, 10_000);
});
