/**
 * Real processes for the end-to-end suites: the compiled CLI run as a user types it, free loopback
 * ports, and a local direct-mode cluster (`raftkv cluster up`) that is always ended by the PIDs
 * its layout and its commands recorded, never by name. Every wait is bounded.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readLayout } from '../../src/cluster/cluster.js';
import { requireBuiltDist } from './dist.js';
import { processAlive } from '../../src/disk/fs.js';

export const CLI = resolve('dist/cli.js');

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI; a command still running after `timeoutMs` is killed by its PID and fails. */
export function cli(args: readonly string[], timeoutMs: number, input?: string): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args],
      { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    // decoded by the stream: a character split between two chunks stays whole
    child.stdout?.setEncoding('utf8').on('data', (text: string) => { stdout += text; });
    child.stderr?.setEncoding('utf8').on('data', (text: string) => { stderr += text; });
    if (input !== undefined) child.stdin?.end(input);
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      const what = args.join(' ').slice(0, 200);
      fail(new Error(`raftkv ${what}: still running after ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); fail(e); });
    child.on('close', (code) => { clearTimeout(timer); done({ code, stdout, stderr }); });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

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
export async function freeBase(n: number): Promise<number> {
  for (let probe = 0; probe < 50; probe++) {
    const base = 20_000 + Math.floor(Math.random() * (20_000 - n));
    let free = true;
    for (let k = 0; k < n && free; k++) free = await bindable(base + k);
    if (free) return base;
  }
  throw new Error('no free base port found in 50 probes');
}

/** A loopback port where nothing listens right now: bound, read, closed. */
export async function deadPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((done) => s.bind(0, '127.0.0.1', done));
  const port = s.address().port;
  await new Promise<void>((done) => s.close(() => done()));
  return port;
}

/** A zombie counts as ended: see `processAlive`. */
export const alive = processAlive;

/**
 * A local cluster in a fresh directory. `end()` runs `cluster down`, then SIGKILLs, by PID, any
 * replica of this directory that the layout or a command's output recorded and that still runs.
 */
export class LocalCluster {
  readonly pids = new Set<number>();
  private constructor(readonly dir: string, readonly secretFile: string | undefined) {}

  static create(prefix: string, secret?: string): LocalCluster {
    requireBuiltDist();
    const dir = mkdtempSync(join(tmpdir(), prefix));
    let secretFile: string | undefined;
    if (secret !== undefined) {
      secretFile = join(dir, 'secret');
      writeFileSync(secretFile, secret);
    }
    return new LocalCluster(dir, secretFile);
  }

  /** `args` with `--data-dir` of this cluster. */
  withDir(...args: string[]): string[] {
    return [...args, '--data-dir', this.dir];
  }

  /** Runs a command against this cluster, remembering every PID it prints. */
  async run(args: readonly string[], timeoutMs: number): Promise<Run> {
    const r = await cli(this.withDir(...args), timeoutMs);
    this.remember(r.stdout);
    return r;
  }

  remember(out: string): void {
    for (const m of out.matchAll(/pid (\d+)/g)) this.pids.add(Number(m[1]));
  }

  /** `cluster up` with `n` replicas on free ports (and the secret, if any), and `extra`. */
  async up(n: number, timeoutMs = 20_000, extra: readonly string[] = []): Promise<Run> {
    const base = await freeBase(n);
    const secret = this.secretFile === undefined ? [] : ['--secret-file', this.secretFile];
    return this.run(['cluster', 'up', '--replicas', String(n), '--base-port', String(base),
      ...secret, ...extra], timeoutMs);
  }

  /** Only a process that is still one of this cluster's replicas: a recycled PID is left alone. */
  isOurReplica(pid: number): boolean {
    if (!alive(pid)) return false;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return cmdline.includes(CLI) && cmdline.includes(this.dir);
    } catch {
      return false;
    }
  }

  async end(): Promise<void> {
    try {
      await cli(this.withDir('cluster', 'down'), 10_000);
    } finally {
      try {
        for (const m of readLayout(this.dir)?.members ?? []) {
          if (m.pid !== undefined) this.pids.add(m.pid);
        }
      } catch { /* a layout the test broke on purpose: the printed PIDs remain */ }
      for (let wait = 0; wait < 40 && [...this.pids].some((p) => this.isOurReplica(p)); wait++) {
        await sleep(50);
      }
      for (const pid of this.pids) if (this.isOurReplica(pid)) process.kill(pid, 'SIGKILL');
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
