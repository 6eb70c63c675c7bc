/**
 * Every shipped scenario against the real compiled replica processes, shortened, three at a time
 * (`--maxConcurrency=3` in `npm test`: each run is mostly waiting, about a quarter of a core):
 * correctness only (no incorrect or duplicate answer, the history check passes, no replica dies
 * unexpectedly, at least half of the gets and of the puts answered). Performance thresholds are
 * the CLI's business, not a test's. Then the verdict must catch deliberately broken replicas.
 * Loopback only; every process is ended by PID (the simulator's own stop, and afterAll).
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBuiltDist } from '../support/dist.js';
import { verdict, type Report, type VerdictReason } from '../../src/fault/report.js';
import { parseScenario, shortened, type Scenario } from '../../src/fault/scenario.js';
import { runNetsim } from '../../src/netsim/netsim.js';

const DIR = 'src/fault/scenarios';
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
/**
 * Seconds of client traffic per scenario; requests and event times scale with it. 10, not less:
 * with 30 % drops an election after a leader kill took 2-6 s in measured runs, and at 6 s a run
 * could end before the new leader answered half of the requests (a CI run failed that way).
 */
const LIFETIME_S = 10;
const LIAR = 'test/netsim/fixtures/liar.mjs';
const OWN_REPLICA = { command: process.execPath, args: ['dist/cli.js', 'replica'] };

const pids = new Set<number>();
let tmp = '';

function load(file: string): Scenario {
  const r = parseScenario(readFileSync(join(DIR, file), 'utf8'));
  if (E.isLeft(r)) throw new Error(`${file}: ${r.left.join('; ')}`);
  const s = shortened(r.right, LIFETIME_S);
  return { ...s, start_wait: Math.max(1.5, s.start_wait) };
}

const correctness = (reasons: readonly VerdictReason[]): string[] =>
  reasons.filter((r) => r.kind !== 'threshold').map((r) => r.text);

function summary(name: string, r: Report): string {
  const c = r.clients;
  const median = r.latency?.medianMs.toFixed(1) ?? '-';
  const leaders = r.leaders.map(([, id]) => id).join(' ');
  const events = r.events.map((e) => e.action.kind).join(' ') || '-';
  return `[netsim] ${name}: ${c.getsAnswered}/${c.gets} gets, ${c.putsAnswered}/${c.puts} puts, ` +
    `${r.network.messages} msgs, ${c.redirects} redirects, median ${median} ms, ` +
    `leaders ${leaders}, events ${events}`;
}

beforeAll(() => {
  requireBuiltDist();
  chmodSync(LIAR, 0o755);
  tmp = mkdtempSync(join(tmpdir(), 'raftkv-netsim-'));
}, 120_000);

afterAll(() => {
  // The simulator stops its replicas itself; this only matters if a test timed out mid-run.
  for (const pid of pids) {
    try { process.kill(-pid, 'SIGKILL'); } catch { /* already gone */ }
  }
  rmSync(tmp, { recursive: true, force: true });
});

describe('[netsim] every shipped scenario, shortened, keeps every answer correct', () => {
  it.for(FILES)('%s', { concurrent: true, timeout: 40_000 }, async (file, { expect }) => {
    const s = load(file);
    const report = await runNetsim({ scenario: s, replica: OWN_REPLICA, rerun: file, quiet: true,
      onSpawn: (pid) => pids.add(pid) });
    console.log(summary(file, report));
    expect(correctness(verdict(report, s))).toEqual([]);
    expect(report.clients.ops).toBe(s.requests);
    expect(report.killed.length).toBe(report.events.filter((e) => e.action.kind === 'kill')
      .length);
  });
});

const tiny: Scenario = { name: 'tiny', lifetime: 1.5, replicas: 3, requests: 40, mix: 0.5,
  drops: 0, seed: 4, start_wait: 0.2, end_wait: 0.3, events: [], clients: 2, keys: 4,
  thresholds: {}, network: {} };

/** Run the CLI, detached, bounded in time; resolves to its exit code and output. */
function cli(args: string[], timeoutMs = 20_000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['dist/cli.js', ...args], { detached: true,
      stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid !== undefined) pids.add(child.pid);
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString('utf8'); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString('utf8'); });
    // SIGTERM lets the simulator stop its replicas before it exits.
    const timer = setTimeout(() => { if (child.pid !== undefined) process.kill(-child.pid,
      'SIGTERM'); }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('[netsim] the verdict catches deliberately broken replicas', () => {
  it('a replica that lies (made-up values, no replication, double answers) fails', async () => {
    const scenarioFile = join(tmp, 'tiny.json');
    const jsonFile = join(tmp, 'liar-report.json');
    writeFileSync(scenarioFile, JSON.stringify(tiny));
    const { code, out } = await cli(['netsim', scenarioFile, '--replica', LIAR, '--quiet',
      '--json', jsonFile]);
    expect(code).toBe(1);
    expect(out).toMatch(/verdict: FAIL/);
    const json = JSON.parse(readFileSync(jsonFile, 'utf8')) as Report & {
      verdict: { passed: boolean; reasons: VerdictReason[] } };
    expect(json.verdict.passed).toBe(false);
    expect(json.clients.incorrect).toBeGreaterThan(0);
    expect(json.clients.duplicates).toBeGreaterThan(0);
    expect(correctness(json.verdict.reasons)).toEqual(expect.arrayContaining([
      expect.stringMatching(/incorrect answers/), expect.stringMatching(/duplicate answers/)]));
  }, 30_000);

  it('a replica that exits on its own fails the run', async () => {
    // node -e <script> <port> <id> <others...>: says hello, then exits with code 3.
    const script = 'const s=require("dgram").createSocket("udp4");const [p,id]=' +
      'process.argv.slice(1);s.bind(0,"127.0.0.1",()=>s.send(JSON.stringify({src:id,' +
      'dst:"FFFF",leader:"FFFF",type:"hello"}),+p,"127.0.0.1",()=>setTimeout(()=>' +
      'process.exit(id==="0001"?3:0),id==="0001"?300:60000)));';
    const report = await runNetsim({ scenario: { ...tiny, requests: 5 }, rerun: 'crash',
      replica: { command: process.execPath, args: ['-e', script] }, quiet: true,
      onSpawn: (pid) => pids.add(pid) });
    expect(report.deaths).toMatchObject([{ id: '0001', how: 'exit code 3' }]);
    expect(correctness(verdict(report, tiny))).toContainEqual(
      'replica 0001 died unexpectedly (exit code 3)');
  }, 30_000);

  it('usage errors and bad scenario files exit with 2 and say why', async () => {
    expect((await cli(['netsim'])).code).toBe(2);
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...tiny, replicas: 2, extra: 1 }));
    const { code, out } = await cli(['netsim', bad]);
    expect(code).toBe(2);
    expect(out).toMatch(/replicas: expected an integer from 3 to 31, got 2/);
    expect(out).toMatch(/extra: unknown field/);
  }, 30_000);
});
