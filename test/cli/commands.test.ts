/**
 * The command line as a user types it: help for every command, the version, and a clear error
 * naming every malformed argument, before any replica is contacted. (The cluster and client
 * commands against running replicas are `test/cluster/cluster.test.ts`.)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, deadPort, type Run } from '../support/processes.js';
import { requireBuiltDist } from '../support/dist.js';
import { GROUPS } from '../../src/usage.js';
import { MAX_KEY_LENGTH, MAX_VALUE_LENGTH } from '../../src/wire/messages.js';
import { shippedScenarioNames } from '../../src/shipped.js';

/** A README line run as typed: `npx raftkv ...` in the project directory. */
function typed(line: string, timeoutMs = 30_000): Promise<Run> {
  const [command, ...args] = line.split(' ');
  return new Promise((done, fail) => {
    const child = spawn(command as string, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString('utf8'); });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString('utf8'); });
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      fail(new Error(`${line}: still running after ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('close', (code) => { clearTimeout(timer); done({ code, stdout, stderr }); });
  });
}

const COMMANDS = GROUPS.flatMap((g) => g.commands.map((c) => c.name));

describe('[cli] help and version', () => {
  it('`npx raftkv --help` lists every command under the task it serves, exit 0', async () => {
    requireBuiltDist();
    const r = await typed('npx raftkv --help');
    expect(r.code, r.stderr).toBe(0);
    for (const g of GROUPS) expect(r.stdout).toContain(`${g.task}:`);
    for (const name of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    // `-h` and `help` say the same
    for (const args of [['-h'], ['help']]) {
      const same = await cli(args, 10_000);
      expect(same.code).toBe(0);
      expect(same.stdout).toBe(r.stdout);
    }
  }, 60_000);

  it('`npx raftkv help put` shows one command: usage, options and exit codes, exit 0', async () => {
    requireBuiltDist();
    const r = await typed('npx raftkv help put');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('raftkv put KEY - [options]');
    expect(r.stdout).toMatch(/^ {2}--value-file FILE +the value is the file's contents/m);
    expect(r.stdout).toContain('exits 0 only when the leader answered');
    // the limits, as the wire enforces them (usage.ts writes them out: it imports nothing)
    expect(r.stdout.replace(/\s+/g, ' ')).toContain(`Keys are at most ` +
      `${MAX_KEY_LENGTH.toLocaleString('en-US')} characters and values ` +
      `${MAX_VALUE_LENGTH.toLocaleString('en-US')} (1 MiB)`);
    // and `raftkv put --help` is the same page
    const same = await cli(['put', '--help'], 10_000);
    expect(same.code).toBe(0);
    expect(same.stdout).toBe(r.stdout);
  }, 60_000);

  it('every command has its own --help and -h, exit 0, and `--` keeps a later --help a value',
    async () => {
      requireBuiltDist();
      for (const name of COMMANDS) {
        for (const flag of ['--help', '-h']) {
          const r = await cli([name, flag], 10_000);
          expect(r.code, `${name} ${flag}: ${r.stderr}`).toBe(0);
          expect(r.stdout).toMatch(new RegExp(`^raftkv ${name}: `));
          expect(r.stdout).toMatch(new RegExp(`^ {2}raftkv ${name} `, 'm'));
        }
      }
      // after `--`, --help is a key: the client looks for a cluster, it prints no help
      const dir = mkdtempSync(join(tmpdir(), 'raftkv-cli-'));
      const r = await cli(['get', '--data-dir', dir, '--', '--help'], 10_000);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('no cluster recorded in');
    }, 120_000);

  it('`npx raftkv --version` prints the package version', async () => {
    requireBuiltDist();
    const r = await typed('npx raftkv --version');
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`raftkv ${pkg.version}\n`);
  }, 60_000);

  it('no command, an unknown command, or help on an unknown one: exit 2, the commands listed',
    async () => {
      requireBuiltDist();
      for (const [args, said] of [[[], 'no command given'], [['bogus'], 'unknown command "bogus"'],
        [['help', 'bogus'], 'no command "bogus"']] as const) {
        const r = await cli(args, 10_000);
        expect(r.code, args.join(' ')).toBe(2);
        expect(r.stdout).toBe('');
        expect(r.stderr).toContain(said);
        expect(r.stderr).toContain('Read and write keys:');
      }
    }, 60_000);
});

describe('[cli] every malformed argument is named, at once, before any replica is asked', () => {
  /** A command that must fail with exit 2 and say `said`, within a second or two. */
  async function refused(args: readonly string[], said: string | RegExp): Promise<void> {
    const t0 = Date.now();
    const r = await cli(args, 10_000);
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(typeof said === 'string' ? new RegExp(escape(said)) : said);
    expect(r.stderr).toMatch(/^usage: raftkv /m);
    // never a timeout: the client's default timeout is 5 s
    expect(Date.now() - t0).toBeLessThan(4000);
  }
  const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  it('client commands: options, values, value files and standard input over the limit',
    async () => {
    requireBuiltDist();
    const dead = `127.0.0.1:${await deadPort()}`;
    const dir = mkdtempSync(join(tmpdir(), 'raftkv-cli-'));
    const big = join(dir, 'big');
    writeFileSync(big, 'x'.repeat(MAX_VALUE_LENGTH + 1));
    await refused(['get', 'k', '--timeout', 'abc', '--cluster', dead],
      'bad --timeout "abc": expected a whole number');
    await refused(['get', '--cluster', dead], 'expected KEY, got 0 arguments');
    await refused(['put', 'k', '--cluster', dead],
      'expected KEY VALUE (or KEY - for standard input');
    await refused(['put', 'k', '--value-file', join(dir, 'none'), '--cluster', dead],
      /cannot read value file ".*none": ENOENT/);
    await refused(['put', 'k', '--value-file', big, '--cluster', dead],
      `has ${MAX_VALUE_LENGTH + 1} characters: the limit is ${MAX_VALUE_LENGTH}`);
    // (a value over the limit cannot be one argument: Linux takes at most 128 KiB per argument;
    // a file and standard input carry it, both refused below)
    await refused(['put', 'k'.repeat(MAX_KEY_LENGTH + 1), 'v', '--cluster', dead],
      `a key of ${MAX_KEY_LENGTH + 1} characters: the limit is ${MAX_KEY_LENGTH}`);
    await refused(['get', 'k', '--value-file', big, '--cluster', dead],
      '--value-file is an option of put and cas only');
    await refused(['get', 'k', '--if-absent', '--cluster', dead], '--if-absent is an option of put only');
    await refused(['cas', 'k', '--cluster', dead], 'expected KEY EXPECTED NEW, got 1 argument');
    await refused(['cas', 'k', 'old', '--cluster', dead],
      'expected KEY EXPECTED NEW (or KEY EXPECTED - for standard input');
    await refused(['del', 'k', 'extra', '--cluster', dead], 'expected KEY, got 2 arguments');
    await refused(['get', 'k', '--cluster', 'nowhere'], 'bad --cluster "nowhere"');
    await refused(['ls', 'a', 'b', '--cluster', dead], 'expected at most PREFIX, got 2 arguments');
    await refused(['ls', '--limit', '0', '--cluster', dead], 'bad --limit "0"');
    await refused(['ls', 'x'.repeat(MAX_KEY_LENGTH + 1), '--cluster', dead],
      `a prefix of ${MAX_KEY_LENGTH + 1} characters`);
    await refused(['get', 'k', '--limit', '3', '--cluster', dead], '--limit is an option of ls only');
    await refused(['ls', '--if-absent', '--cluster', dead], '--if-absent are options of put');
    await refused(['get', 'k', '--colour', 'red'], "Unknown option '--colour'");
    // a value on standard input over the limit: refused once read, nothing sent
    const t0 = Date.now();
    const stdin = await cli(['put', 'k', '-', '--cluster', dead], 10_000,
      'y'.repeat(MAX_VALUE_LENGTH + 1));
    expect(stdin.code).toBe(2);
    expect(stdin.stderr).toContain(`the value on standard input has more than ${MAX_VALUE_LENGTH} ` +
      `characters: the limit is ${MAX_VALUE_LENGTH}`);
    expect(Date.now() - t0).toBeLessThan(4000);
  }, 60_000);

  it('cluster, replica and the simulators: sizes, options and scenario names', async () => {
    requireBuiltDist();
    const dir = mkdtempSync(join(tmpdir(), 'raftkv-cli-'));
    await refused(['cluster', 'up', '--replicas', '1', '--data-dir', dir],
      'bad --replicas "1": expected a whole number from 2 to 15');
    await refused(['cluster', 'up', '--base-port', 'x', '--data-dir', dir], 'bad --base-port "x"');
    await refused(['cluster', 'frobnicate', '--data-dir', dir], 'unknown subcommand "frobnicate"');
    await refused(['replica', '--id', '0000', '--bogus', '1'], "Unknown option '--bogus'");
    await refused(['replica', '--id', '0000', '--listen', '127.0.0.1:1', '--data-dir', dir,
      '--peer', '0001=nowhere'], 'bad --peer "0001=nowhere": expected ID=HOST:PORT');
    const names = shippedScenarioNames();
    for (const command of ['netsim', 'detsim']) {
      await refused([command, 'no-such-scenario'],
        `no scenario file "no-such-scenario" and no shipped scenario of that name; shipped: ` +
        names.join(', '));
      await refused([command, 'kill-leader-1', '--lifetime', '0'], 'bad --lifetime "0"');
      await refused([command, 'kill-leader-1', '--seed', '1.5'], 'bad --seed "1.5"');
    }
  }, 60_000);

  it('a shipped scenario is run by its name: `raftkv detsim kill-leader-1`', async () => {
    requireBuiltDist();
    const r = await cli(['detsim', 'kill-leader-1', '--lifetime', '2'], 30_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^raftkv detsim: /m);
    expect(r.stdout).toContain('kill-leader-1');
  }, 40_000);
});
