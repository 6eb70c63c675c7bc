/**
 * `npm run bench:etcd` is a benchmark and never runs here; what runs is what a user meets before
 * it measures anything: a machine without etcd is told how to install it, and bad options are
 * refused, each with exit 2 and before any process starts.
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
