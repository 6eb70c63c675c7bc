/**
 * A flood of valid requests is bounded: three real direct-mode processes, and a sender that puts
 * about 20,000 times a second (several times what the leader can commit, short of filling the
 * kernel's buffer so that status requests still get through) from 200 client ids at the leader
 * for 10 s (`FLOOD_MS` sets another length, for a longer look). The leader refuses what it cannot
 * keep (`fail`), what it keeps stays within the bounds, its resident memory (read from `/proc`)
 * stays flat after warm-up, and the cluster still answers afterwards.
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalCluster, sleep } from '../support/processes.js';
import { readLayout } from '../../src/cluster/cluster.js';
import { leaderOf, queryStatus } from '../../src/client/status.js';
import { OVERLOAD_LIMITS } from '../../src/core/state.js';

const FLOOD_MS = Number(process.env.FLOOD_MS ?? 10_000);
const CLIENTS = 200;

let cluster: LocalCluster | undefined;
afterAll(async () => { await cluster?.end(); }, 30_000);

describe('overload: a flood of valid puts', () => {
  it('is answered fail past the bounds, and the leader\'s memory stays flat', async () => {
    cluster = LocalCluster.create('raftkv-flood-');
    const up = await cluster.up(3);
    expect(up.code, up.stderr).toBe(0);
    const addresses = readLayout(cluster.dir)?.members.map((m) => m.address) ?? [];
    const k = leaderOf(await queryStatus(addresses, 2000));
    expect(k).toBeDefined();
    const leader = addresses[k ?? 0] as (typeof addresses)[number];
    const leaderPid = readLayout(cluster.dir)?.members[k ?? 0]?.pid;
    expect(leaderPid).toBeDefined();

    const socket = createSocket({ type: 'udp4', sendBufferSize: 8 << 20, recvBufferSize: 8 << 20 });
    await new Promise<void>((done) => socket.bind(0, '127.0.0.1', done));
    const answers = new Map<string, number>();
    socket.on('message', (bytes) => {
      const type = /"type":"(\w+)"/.exec(bytes.toString('utf8'))?.[1] ?? '?';
      answers.set(type, (answers.get(type) ?? 0) + 1);
    });
    const rss: number[] = []; // MB, read from /proc every 50 ms: a busy leader answers status late
    const waiting: number[] = [];
    const uncommitted: number[] = [];
    let sent = 0;
    const end = Date.now() + FLOOD_MS;
    const rssSampler = setInterval(() => {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${leaderPid}/status`, 'utf8'));
      if (m !== null) rss.push(Number(m[1]) / 1024);
    }, 50);
    // the leader's status, sampled on its own beside the flood (a busy leader answers late)
    const sampler = (async (): Promise<void> => {
      while (Date.now() < end) {
        const [r] = await queryStatus([leader], 1000);
        if (r !== undefined) {
          waiting.push(r.waitingRequests);
          uncommitted.push(r.lastLogIndex - r.commitIndex);
        }
        await sleep(100);
      }
    })();
    try {
      while (Date.now() < end) {
        for (let j = 0; j < 40; j++, sent++) {
          const src = (0x1000 + (sent % CLIENTS)).toString(16).toUpperCase();
          socket.send(JSON.stringify({ src, dst: '0000', leader: 'FFFF', type: 'put',
            MID: `f${sent}`, key: `k${sent % 100}`, value: 'x'.repeat(100) }),
          leader.port, leader.host);
        }
        await sleep(2);
      }
      await sampler;
      await sleep(500);
    } finally {
      clearInterval(rssSampler);
      socket.close();
    }
    // past the bounds the leader refused rather than stored: what it kept stayed within them
    expect(answers.get('fail') ?? 0, JSON.stringify([...answers])).toBeGreaterThan(0);
    expect(Math.max(...waiting)).toBeLessThanOrEqual(OVERLOAD_LIMITS.maxWaitingRequests);
    expect(Math.max(...uncommitted)).toBeLessThanOrEqual(OVERLOAD_LIMITS.maxUncommittedEntries);
    console.log(`[flood] ${sent} puts sent; answers ` +
      `${JSON.stringify(Object.fromEntries(answers))}; ` +
      `most waiting ${Math.max(...waiting)}, most uncommitted ${Math.max(...uncommitted)}, RSS MB ` +
      rss.filter((_, i) => i % 10 === 0).map((mb) => mb.toFixed(0)).join(' '));
    expect(answers.get('ok') ?? 0).toBeGreaterThan(0);
    // flat: the first half is warm-up (the heap grows towards its working size there); the peak
    // of the last quarter is within 15 % of the peak of the third. Five local runs gave 1.02-1.08,
    // and a 40 s flood levelled off at about 170 MB. This catches a gross leak (a structure that
    // keeps every request), not a slow one: 10 s is too short for that.
    const q = Math.floor(rss.length / 4);
    expect(q, `${rss.length} RSS samples`).toBeGreaterThanOrEqual(25);
    const third = Math.max(...rss.slice(2 * q, 3 * q));
    const last = Math.max(...rss.slice(3 * q));
    console.log(`[flood] RSS peaks: third quarter ${third.toFixed(0)} MB, last ${last.toFixed(0)} MB`);
    expect(last, `RSS samples (MB): ${rss.map((mb) => mb.toFixed(0)).join(' ')}`)
      .toBeLessThan(third * 1.15);

    const put = await cluster.run(['put', 'after', 'flood'], 15_000);
    expect(put.code, put.stderr).toBe(0);
    const get = await cluster.run(['get', 'after'], 15_000);
    expect(get.stdout).toBe('flood\n');
  }, FLOOD_MS + 50_000);
});
