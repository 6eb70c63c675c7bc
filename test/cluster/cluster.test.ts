/**
 * `raftkv cluster` and the client commands end to end: the compiled CLI (`dist/cli.js`) starts
 * three real replica processes on loopback, serves a put and a get, survives the leader's
 * SIGKILL, and restarts what died. Every command is bounded; afterAll runs `cluster down` and then
 * ends, by PID, any replica that the layout or a command's output recorded and that still runs.
 */
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, cli, deadPort, freeBase, LocalCluster, sleep } from '../support/processes.js';
import { readLayout } from '../../src/cluster/cluster.js';

const ROLE = /^(Follower|PreCandidate|Candidate|Leader)$/;

let cluster: LocalCluster;
let base = 0;

beforeAll(async () => {
  cluster = LocalCluster.create('raftkv-cluster-');
  base = await freeBase(3);
});
afterAll(async () => { await cluster.end(); }, 20_000);

describe('[cluster] raftkv cluster and client commands, three real processes', () => {
  let leader = '';
  let killedPid = 0;

  it('`cluster up` starts three replicas and prints the leader', async () => {
    const r = await cluster.run(['cluster', 'up', '--replicas', '3', '--base-port', String(base)],
      15_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.match(/^[0-9A-F]{4} started, pid \d+, 127\.0\.0\.1:\d+/gm)?.length).toBe(3);
    for (let k = 0; k < 3; k++) expect(r.stdout).toContain(`127.0.0.1:${base + k}`);
    leader = /^leader ([0-9A-F]{4}): all 3 replicas answer and follow it$/m
      .exec(r.stdout)?.[1] ?? '';
    expect(leader, r.stdout).toMatch(/^000[0-2]$/);
    // recorded, so that one-shot commands through --data-dir go to it first
    expect(readLayout(cluster.dir)?.leader).toBe(leader);
  }, 20_000);

  it('`put k v` exits 0 and `get k` prints v', async () => {
    const put = await cluster.run(['put', 'k', 'v'], 8000);
    expect(put.code, put.stderr).toBe(0);
    expect(put.stdout).toBe('');
    const get = await cluster.run(['get', 'k'], 8000);
    expect(get.code, get.stderr).toBe(0);
    expect(get.stdout).toBe('v\n');
  }, 20_000);

  it('`del`, `cas` and `put --if-absent` as typed: an absent key prints nothing and exits 3, ' +
    'unlike the empty value; a failed comparison prints the current value and exits 3; ' +
    '`--json` gives { found, value }', async () => {
    const run = async (...args: string[]): Promise<[number | null, string]> => {
      const r = await cluster.run(args, 8000);
      expect(r.stderr, args.join(' ')).toBe('');
      return [r.code, r.stdout];
    };
    expect(await run('get', 'gone')).toEqual([3, '']);
    expect(await run('get', 'gone', '--json')).toEqual([3, '{"found":false}\n']);
    expect(await run('put', 'blank', '')).toEqual([0, '']);
    expect(await run('get', 'blank')).toEqual([0, '\n']);
    expect(await run('get', 'blank', '--json')).toEqual([0, '{"found":true,"value":""}\n']);
    expect(await run('put', 'c', 'one', '--if-absent')).toEqual([0, '']);
    expect(await run('put', 'c', 'two', '--if-absent')).toEqual([3, 'one\n']);
    expect(await run('cas', 'c', 'zero', 'two', '--json')).toEqual([3,
      '{"swapped":false,"found":true,"value":"one"}\n']);
    expect(await run('cas', 'c', 'one', 'two')).toEqual([0, '']);
    expect(await run('get', 'c')).toEqual([0, 'two\n']);
    expect(await run('del', 'c')).toEqual([0, '1\n']);
    expect(await run('del', 'c', '--json')).toEqual([0, '{"found":false}\n']);
    expect(await run('get', 'c')).toEqual([3, '']);
  }, 60_000);

  it('`ls PREFIX` lists the keys with the prefix in order; `--limit` stops and says where to go ' +
    'on, `--after` goes on, `--json` gives the values', async () => {
    for (const [k, v] of [['user/cy', '3'], ['user/ann', '1'], ['user/bob', '2'], ['userx', 'x']]) {
      const put = await cluster.run(['put', k as string, v as string], 8000);
      expect(put.code, put.stderr).toBe(0);
    }
    const all = await cluster.run(['ls', 'user/'], 8000);
    expect([all.code, all.stdout, all.stderr]).toEqual([0, 'user/ann\nuser/bob\nuser/cy\n', '']);
    const two = await cluster.run(['ls', 'user/', '--limit', '2'], 8000);
    expect([two.code, two.stdout]).toEqual([0, 'user/ann\nuser/bob\n']);
    expect(two.stderr).toBe('raftkv ls: more keys after "user/bob": list on with --after ' +
      '"user/bob"\n');
    const rest = await cluster.run(['ls', 'user/', '--after', 'user/bob', '--json'], 8000);
    expect([rest.code, rest.stdout]).toEqual([0,
      '{"pairs":[{"key":"user/cy","value":"3"}]}\n']);
    const cut = await cluster.run(['ls', 'user', '--limit', '1', '--json'], 8000);
    expect(cut.stdout).toBe('{"pairs":[{"key":"user/ann","value":"1"}],"next":"user/ann"}\n');
    const none = await cluster.run(['ls', 'nobody/'], 8000);
    expect([none.code, none.stdout, none.stderr]).toEqual([0, '', '']);
    // every key, in order: the ones earlier tests wrote too (`c` was deleted)
    const every = await cluster.run(['ls'], 8000);
    expect(every.stdout.split('\n')).toEqual(expect.arrayContaining(['blank', 'k', 'user/ann',
      'userx']));
    expect(every.stdout.split('\n')).not.toContain('c');
    const lines = every.stdout.trim().split('\n');
    expect(lines).toEqual([...lines].sort());
  }, 60_000);

  it('values from standard input (`put KEY -`) and from a file (`--value-file`), byte for byte; ' +
    '`--` lets a key start with a dash', async () => {
    const text = 'two lines\nand a tab\t, no newline at the end';
    const stdin = await cli(cluster.withDir('put', 'from-stdin', '-'), 8000, text);
    expect(stdin.code, stdin.stderr).toBe(0);
    const file = join(cluster.dir, 'value.txt');
    writeFileSync(file, `${text}\n`);
    const fromFile = await cluster.run(['put', 'from-file', '--value-file', file], 8000);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    const dashed = await cli(['put', '--data-dir', cluster.dir, '--', '-dash', '-value'], 8000);
    expect(dashed.code, dashed.stderr).toBe(0);
    expect((await cluster.run(['get', 'from-stdin'], 8000)).stdout).toBe(`${text}\n`);
    expect((await cluster.run(['get', 'from-file'], 8000)).stdout).toBe(`${text}\n\n`);
    expect((await cli(['get', '--data-dir', cluster.dir, '--', '-dash'], 8000)).stdout)
      .toBe('-value\n');
  }, 30_000);

  it('`--cluster` with one follower\'s address finds the leader: the redirect names it, and the ' +
    'follower\'s status lists every member\'s address', async () => {
    const layout = readLayout(cluster.dir);
    const follower = layout?.members.find((m) => m.id !== leader);
    expect(follower).toBeDefined();
    const at = `${follower?.address.host}:${follower?.address.port}`;
    const get = await cli(['get', 'k', '--cluster', at, '--timeout', '3000'], 8000);
    expect(get.code, get.stderr).toBe(0);
    expect(get.stdout).toBe('v\n');
  }, 15_000);

  it('after `cluster kill leader`, `get k` still prints v [§5.2 a new leader]', async () => {
    const kill = await cluster.run(['cluster', 'kill', 'leader'], 8000);
    expect(kill.code, kill.stderr).toBe(0);
    const m = /^([0-9A-F]{4}) killed \(SIGKILL\), pid (\d+)$/m.exec(kill.stdout);
    expect(m?.[1], kill.stdout).toBe(leader);
    killedPid = Number(m?.[2]);
    for (let wait = 0; wait < 40 && alive(killedPid); wait++) await sleep(50);
    expect(alive(killedPid)).toBe(false);
    const get = await cluster.run(['get', 'k', '--timeout', '8000'], 12_000);
    expect(get.code, get.stderr).toBe(0);
    expect(get.stdout).toBe('v\n');
    // the client noted the new leader in the layout, for the next command
    const now = readLayout(cluster.dir)?.leader;
    expect(now).toMatch(/^000[0-2]$/);
    expect(now).not.toBe(leader);
  }, 20_000);

  it('`cluster up` again restarts only the killed replica, under a new pid, and `cluster ' +
    'status` shows all three with a role', async () => {
    const up = await cluster.run(['cluster', 'up'], 15_000);
    expect(up.code, up.stderr).toBe(0);
    const started = [...up.stdout.matchAll(/^([0-9A-F]{4}) started, pid (\d+)/gm)];
    expect(started.map((s) => s[1])).toEqual([leader]);
    expect(Number(started[0]?.[2])).not.toBe(killedPid);
    expect(up.stdout.match(/already running/g)?.length).toBe(2);
    let rows: string[][] = [];
    for (let attempt = 0; attempt < 20; attempt++) {
      const status = await cluster.run(['cluster', 'status'], 5000);
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

  it('`cluster down` ends every replica of the directory, by its recorded pid', async () => {
    const pids = readLayout(cluster.dir)?.members.map((m) => m.pid) ?? [];
    expect(pids.every((p) => p !== undefined && alive(p))).toBe(true);
    const down = await cluster.run(['cluster', 'down'], 10_000);
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout.match(/^[0-9A-F]{4} stopped$/gm)?.length).toBe(3);
    for (let wait = 0; wait < 60 && pids.some((p) => alive(p as number)); wait++) await sleep(50);
    expect(pids.filter((p) => alive(p as number))).toEqual([]);
  }, 15_000);

  it('a get against dead ports exits 1 with "no replica answered"', async () => {
    const dead = [await deadPort(), await deadPort()].map((p) => `127.0.0.1:${p}`);
    const r = await cli(['get', 'k', '--cluster', dead.join(','), '--timeout', '300'], 5000);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('no replica answered within 300 ms');
    expect(r.stderr).toContain(dead[0]);
  }, 10_000);
});

describe('[cluster] `cluster up` claims no success it did not have', () => {
  let other: LocalCluster;
  beforeAll(() => { other = LocalCluster.create('raftkv-up-'); });
  afterAll(async () => { await other.end(); }, 20_000);

  it('a port another process holds: exit 1 naming it, nothing started, no layout written',
    async () => {
      const base = await freeBase(3);
      const holder: Socket = createSocket('udp4');
      await new Promise<void>((done) => holder.bind(base + 1, '127.0.0.1', done));
      try {
        const r = await other.run(['cluster', 'up', '--replicas', '3', '--base-port', String(base)],
          10_000);
        expect(r.code).toBe(1);
        expect(r.stdout).toBe('');
        expect(r.stderr).toContain(`0001: 127.0.0.1:${base + 1} (EADDRINUSE)`);
        expect(r.stderr).toContain('nothing was started');
        expect(existsSync(join(other.dir, 'cluster.json'))).toBe(false);
      } finally {
        holder.close();
      }
    }, 15_000);

  it('a replica that exits at start: exit 1 with its own error; --replicas on an existing ' +
    'cluster is refused, saying what it does', async () => {
      const up = await other.up(3);
      expect(up.code, up.stderr).toBe(0);
      const resize = await other.run(['cluster', 'up', '--replicas', '4'], 10_000);
      expect(resize.code).toBe(2);
      expect(resize.stderr).toContain('has 3 replicas: --replicas sizes a new cluster only');
      expect((await other.run(['cluster', 'down'], 10_000)).code).toBe(0);
      const layout = readLayout(other.dir);
      for (let wait = 0; wait < 60 && layout?.members.some((m) => alive(m.pid ?? 0)); wait++) {
        await sleep(50);
      }
      // its data directory locked by a live process (this one): that replica refuses to start
      const victim = layout?.members[1];
      writeFileSync(join(victim?.dataDir ?? '', 'raft.lock'), String(process.pid));
      const r = await other.run(['cluster', 'up'], 20_000);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^${victim?.id} exited \\(code 1\\): .*cannot start: ` +
        `.*${process.pid}`, 'm'));
      expect(r.stderr).toContain('is not up');
      expect(r.stdout).not.toMatch(/^leader /m);
    }, 40_000);
});
