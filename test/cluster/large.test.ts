/**
 * Large values in direct mode, end to end: three real replicas with a shared secret, a value of
 * the largest size written and read through the CLI (its datagrams and the AppendEntries that
 * carry it travel as signed fragments), a follower that was down while it was written catching
 * up, and a request over the limits refused at once. Every command is bounded; afterAll ends the
 * replicas by PID.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster, sleep } from '../support/processes.js';
import { readLayout } from '../../src/cluster/cluster.js';
import { queryStatus } from '../../src/client/status.js';
import { MAX_KEY_LENGTH, MAX_VALUE_LENGTH } from '../../src/wire/messages.js';

let cluster: LocalCluster;

beforeAll(async () => {
  cluster = LocalCluster.create('raftkv-large-', 'large values, signed fragments');
  const up = await cluster.up(3);
  expect(up.code, up.stderr).toBe(0);
}, 30_000);
afterAll(async () => { await cluster.end(); }, 20_000);

/** Exactly MAX_VALUE_LENGTH UTF-16 units, of 1, 2 and 3 UTF-8 bytes. */
const TEXT = 'ab\u20ac\u00e9'.repeat(MAX_VALUE_LENGTH / 4);

describe('[large] values up to 1 MiB and keys up to 4 KiB, in direct mode', () => {
  it('a follower down while a 1 MiB value is written catches up; `get` and `ls --json` give ' +
    'the value back byte for byte, also after the leader is killed', async () => {
    const layout = readLayout(cluster.dir);
    const leader = layout?.leader;
    const follower = layout?.members.find((m) => m.id !== leader)?.id as string;
    expect((await cluster.run(['cluster', 'kill', follower], 8000)).code).toBe(0);
    const file = join(cluster.dir, 'big.txt');
    writeFileSync(file, TEXT);
    const key = `big/${'k'.repeat(MAX_KEY_LENGTH - 4)}`;
    const t0 = performance.now();
    const put = await cluster.run(['put', key, '--value-file', file, '--timeout', '10000'], 20_000);
    expect(put.code, put.stderr).toBe(0);
    const get = await cluster.run(['get', key], 20_000);
    console.log(`[large] 1 MiB put and get through the CLI: ${Math.round(performance.now() - t0)} ms`);
    expect(get.code, get.stderr).toBe(0);
    expect([get.stdout.length, get.stdout.slice(0, 20), get.stdout.slice(-20)]).toEqual([TEXT.length + 1, TEXT.slice(0, 20), `${TEXT.slice(-19)}\n`]);
    expect(get.stdout === `${TEXT}\n`).toBe(true);
    const ls = await cluster.run(['ls', 'big/', '--json'], 20_000);
    expect(JSON.parse(ls.stdout)).toEqual({ pairs: [{ key, value: TEXT }] });

    // the follower comes back and receives the entry (fragments of a signed AppendEntries)
    expect((await cluster.run(['cluster', 'up'], 20_000)).code).toBe(0);
    const members = readLayout(cluster.dir)?.members ?? [];
    let applied: number[] = [];
    for (let attempt = 0; attempt < 50; attempt++) {
      const replies = await queryStatus(members.map((m) => m.address), 500,
        'large values, signed fragments');
      applied = replies.map((r) => r?.appliedIndex ?? -1);
      if (applied.every((a) => a > 0 && a === applied[0])) break;
      await sleep(200);
    }
    expect(applied.every((a) => a > 0 && a === applied[0]), applied.join(' ')).toBe(true);
    // [§5.4] the value survives its leader: a new one answers the get
    expect((await cluster.run(['cluster', 'kill', 'leader'], 8000)).code).toBe(0);
    const again = await cluster.run(['get', key, '--timeout', '10000'], 20_000);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout === `${TEXT}\n`).toBe(true);
  }, 120_000);

  it('a value or key one unit over the limit is refused at once, naming the limit', async () => {
    const file = join(cluster.dir, 'over.txt');
    writeFileSync(file, `${TEXT}x`);
    const t0 = performance.now();
    const value = await cluster.run(['put', 'k', '--value-file', file], 10_000);
    expect(value.code).toBe(2);
    expect(value.stderr).toContain(`has ${MAX_VALUE_LENGTH + 1} characters: the limit is ` +
      `${MAX_VALUE_LENGTH}`);
    const key = await cluster.run(['get', 'k'.repeat(MAX_KEY_LENGTH + 1)], 10_000);
    expect(key.code).toBe(2);
    expect(key.stderr).toContain(`a key of ${MAX_KEY_LENGTH + 1} characters: the limit is ` +
      `${MAX_KEY_LENGTH}`);
    expect(performance.now() - t0).toBeLessThan(5000);
  }, 20_000);
});
