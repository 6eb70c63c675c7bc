/**
 * The benchmarks (`bench:etcd`, `bench:memory`, `bench:idle`, `bench:cluster`) never run here;
 * what runs is what a user meets before they measure anything: a machine without etcd is told how
 * to install it, and bad options are refused, each with exit 2 and before any process starts.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { requireBuiltDist } from '../support/dist.js';

const run = (...args: string[]) => spawnSync(process.execPath, ['dist/bench/etcd.js', ...args],
  { encoding: 'utf8', timeout: 30_000 });

describe('npm run bench:etcd', () => {
  it('without an etcd binary says how to install one, and exits 2', () => {
    requireBuiltDist();
    const r = run('--etcd', '/nonexistent/etcd');
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.trim()).toBe('etcd not found: install Debian\'s etcd-server ' +
      '(`apt-get install etcd-server`), or pass --etcd PATH');
    expect(r.stdout).toBe('');
  });

  it('refuses bad options with its usage, and --help prints it with exit 0', () => {
    requireBuiltDist();
    for (const bad of [['--reps', '0'], ['--seconds', 'x'], ['--clients', '1,0'],
      ['--workloads', 'put,scan'], ['--bogus']]) {
      const r = run(...bad);
      expect(r.status, bad.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^usage: npm run bench:etcd -- /m);
    }
    const help = run('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: npm run bench:etcd -- /);
  });
});

describe('npm run bench:memory, bench:idle and bench:cluster', () => {
  it('refuse bad options with their usage before starting anything, and print it for --help', () => {
    requireBuiltDist();
    const script = (name: string, ...args: string[]) => spawnSync(process.execPath,
      [`dist/bench/${name}.js`, ...args], { encoding: 'utf8', timeout: 30_000 });
    for (const [name, bad] of [['memory', ['--puts', '0']], ['memory', ['--replicas', '1']],
      ['memory', ['--bogus']], ['idle', ['--seconds', '-1']], ['idle', ['--bogus']],
      // a profile directory must be given: without one, profiles would land in the checkout
      ['cluster', ['--cpu-prof']], ['cluster', ['--cpu-prof', '--clients', '4']],
      ['cluster', ['--clients', 'x']], ['cluster', ['--replicas', '1']]] as const) {
      const r = script(name, ...bad);
      expect(r.status, `${name} ${bad.join(' ')}`).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^usage: npm run bench:${name} -- `, 'm'));
    }
    for (const name of ['memory', 'idle', 'cluster']) {
      const r = script(name, '--help');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^usage: npm run bench:${name} -- `));
    }
  });
});
