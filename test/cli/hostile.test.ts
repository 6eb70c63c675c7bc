/**
 * [STYLE §4] Hostile command-line arguments and files: every command of the compiled CLI, run as a
 * user would (in an empty directory), with arguments that are too long (128 KiB), numbers that
 * are not (`NaN`, `1e308`, `-0`, `2^53+1`), `__proto__`, control characters, devices and
 * directories for files. Each run ends within a time bound with exit code 1 or 2 and at most a few
 * lines on stderr, never a stack trace, and starts nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, type Run } from '../support/processes.js';
import { requireBuiltDist } from '../support/dist.js';

const dir = mkdtempSync(join(tmpdir(), 'raftkv-hostile-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The largest single argument Linux passes (MAX_ARG_STRLEN, 128 KiB with its NUL byte). */
const BIG = 'x'.repeat(128 * 1024 - 1);
const HOSTILE_VALUES = [BIG, `--${BIG.slice(2)}`, '__proto__', 'constructor', 'NaN', 'Infinity',
  '1e308',
  '-0', '9007199254740993', '-1', '', '\n', 'a\rb', '\u202e', '/dev/zero', '/', '/proc/self/mem',
  '{"__proto__":1}', '[[[[[[', '🦀'.repeat(1000)];
const COMMANDS = ['replica', 'cluster', 'get', 'put', 'del', 'netsim', 'detsim', 'crashtest',
  'nonsense'];
const FLAGS = ['--id', '--listen', '--peer', '--data-dir', '--secret-file', '--replicas',
  '--base-port', '--timeout', '--cluster', '--seed', '--lifetime', '--rounds', '--torn', '--bug',
  '--mix', '--trace', '--json', '--snapshot-entries', '--', '-h'];
const SUBCOMMANDS = ['up', 'status', 'down', 'kill', 'leader'];

/** Runs the CLI in `dir`; resolves with what it printed, or rejects after `timeoutMs`. */
function run(args: readonly string[], timeoutMs: number): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (b: Buffer) => { stdout += b.toString('utf8'); });
    child.stderr?.on('data', (b: Buffer) => { stderr += b.toString('utf8'); });
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      fail(new Error(`raftkv ${args.map((a) => a.slice(0, 40)).join(' ')}: over ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('close', (code) => { clearTimeout(timer); done({ code, stdout, stderr }); });
  });
}

const STACK = /^\s+at .+(:\d+:\d+\)?|\(native\))$/m;

/** What a refusal must look like: exit 1 or 2, a short stderr, no stack trace, nothing run. */
function expectRefused(args: readonly string[], r: Run): void {
  const what = args.map((a) => a.slice(0, 30)).join(' ');
  expect([1, 2], `${what}: exit ${r.code}\n${r.stderr.slice(0, 500)}`).toContain(r.code);
  expect(r.stderr, what).not.toMatch(STACK);
  // one line saying what is wrong, and for a usage error the usage lines after it
  expect(r.stderr.length, what).toBeLessThan(4000);
  expect(r.stdout, what).not.toMatch(/started|leader [0-9A-F]{4}/);
}

const argsArb: fc.Arbitrary<string[]> = fc.tuple(
  fc.constantFrom(...COMMANDS),
  fc.array(fc.oneof(fc.constantFrom(...FLAGS), fc.constantFrom(...SUBCOMMANDS),
    fc.constantFrom(...HOSTILE_VALUES)), { minLength: 0, maxLength: 4 }),
  fc.constantFrom(...HOSTILE_VALUES),
  fc.nat(5),
).map(([command, rest, hostile, at]) => {
  // at least one hostile value, somewhere after the command
  const args = [...rest];
  args.splice(Math.min(at, args.length), 0, hostile);
  return [command, ...args];
});

describe('[STYLE §4] hostile arguments get a short refusal, never a stack trace', () => {
  it('named cases: long, numeric, prototype and device arguments', async () => {
    requireBuiltDist();
    writeFileSync(join(dir, 'deep.json'), '['.repeat(100_000));
    const cases: string[][] = [
      ['get', BIG], ['put', 'k', BIG], ['get', 'k', '--timeout', 'abc'],
      ['get', 'k', '--timeout', '1e308'], ['get', 'k', '--cluster', BIG],
      ['cluster', 'up', '--replicas', 'NaN'], ['cluster', 'up', '--base-port', '9007199254740993'],
      ['cluster', 'up', '--secret-file', '/dev/zero'], ['cluster', 'up', BIG],
      ['cluster', 'status', '--data-dir', BIG], ['cluster', 'kill', BIG],
      ['cluster', '__proto__'], ['replica', BIG], ['replica', '--id', '0001', '--secret-file', '/'],
      ['netsim', '/dev/zero'], ['netsim', join(dir, 'deep.json')], ['detsim', '/proc/self/mem'],
      ['detsim', join(dir, 'deep.json')], ['detsim', '--mix', '--seed', '-0x1'],
      ['detsim', '--mix', '--seed', '1', '--bug', '__proto__'],
      ['crashtest', '--rounds', '9007199254740993'], ['crashtest', '--torn', 'NaN'],
      ['crashtest', BIG], [BIG],
    ];
    for (const args of cases) expectRefused(args, await run(args, 10_000));
  }, 120_000);

  it('generated: any command with hostile arguments', async () => {
    requireBuiltDist();
    const samples = fc.sample(argsArb, { numRuns: 40, seed: 7 });
    for (const args of samples) expectRefused(args, await run(args, 10_000));
  }, 120_000);
});
