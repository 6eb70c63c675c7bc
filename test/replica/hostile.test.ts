/**
 * [STYLE §9] No datagram can end a replica: three real direct-mode processes (`cluster up`), with
 * and without a shared secret, are sent the nested-bracket datagram that used to overflow the
 * stack, its variants, and a sample of grammar-aware hostile datagrams. Every replica stays up,
 * counts the deep ones as `too-deep`, and the cluster still answers a put and a get.
 */
import { createSocket, type Socket } from 'node:dgram';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { hostileArb, MAX_UDP_PAYLOAD } from '../support/hostile.js';
import { LocalCluster, sleep } from '../support/processes.js';
import { readLayout } from '../../src/cluster/cluster.js';
import { queryStatus } from '../../src/client/status.js';
import type { Address } from '../../src/replica/direct.js';
import { MAX_DATAGRAM_BYTES } from '../../src/wire/codec.js';

/** The datagrams of the report, and the same depth inside fields of real message types. */
const DEEP = [
  '['.repeat(5000),
  `${'['.repeat(5000)}${']'.repeat(5000)}`,
  `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`,
  `{"src":"FFFE","type":"status","MID":${'['.repeat(20_000)}}`,
  `{"src":"0009","dst":"0000","leader":"FFFF","type":"put","MID":"m","key":"k","value":${
    '['.repeat(20_000)}${']'.repeat(20_000)}}`,
  `{"src":"0001","dst":"0000","leader":"0001","type":"AppendEntriesRequest","term":1,${
    ''}"prevLogIndex":0,"prevLogTerm":0,"leaderCommit":0,"readRound":0,"entries":${
    '['.repeat(MAX_DATAGRAM_BYTES - 200)}`,
];
const SAMPLE = 300;

async function openSocket(): Promise<Socket> {
  const socket = createSocket({ type: 'udp4', sendBufferSize: 4 << 20 });
  await new Promise<void>((done) => socket.bind(0, '127.0.0.1', done));
  return socket;
}

/** Sends every datagram to every address, pausing often enough that no receive buffer fills. */
async function flood(socket: Socket, to: readonly Address[], datagrams: readonly Buffer[]):
  Promise<void> {
  for (let k = 0; k < datagrams.length; k++) {
    for (const a of to) socket.send(datagrams[k] as Buffer, a.port, a.host);
    if (k % 10 === 9) await sleep(5);
  }
}

const clusters: LocalCluster[] = [];
afterAll(async () => { await Promise.all(clusters.map((c) => c.end())); }, 30_000);

describe.each([
  ['without a secret', undefined],
  ['with a secret', 'a shared secret for hostile tests'],
])('[STYLE §9] hostile datagrams to real direct-mode replicas, %s', (_name, secret) => {
  it('every replica stays up, counts each deep datagram as too-deep, and the cluster answers',
    async () => {
      const cluster = LocalCluster.create('raftkv-hostile-', secret);
      clusters.push(cluster);
      const up = await cluster.up(3);
      expect(up.code, up.stderr).toBe(0);
      expect(up.stdout).toMatch(/^leader [0-9A-F]{4}: all \d+ replicas answer and follow it$/m);
      const layout = readLayout(cluster.dir);
      const addresses = layout?.members.map((m) => m.address) ?? [];
      expect(addresses.length).toBe(3);

      const sample = fc.sample(hostileArb(MAX_UDP_PAYLOAD), { numRuns: SAMPLE, seed: 13 });
      const socket = await openSocket();
      try {
        await flood(socket, addresses, [...DEEP.map((d) => Buffer.from(d)),
          ...sample.map((h) => h.bytes)]);
        await sleep(300);
      } finally {
        socket.close();
      }

      for (const pid of cluster.pids) expect(cluster.isOurReplica(pid), `pid ${pid}`).toBe(true);
      const replies = await queryStatus(addresses, 2000, secret);
      const deepInSample = sample.filter((h) => h.shape === 'nested'
        || h.shape === 'nested-in-field' || h.shape === 'field').length;
      for (const r of replies) {
        expect(r, 'a status reply').toBeDefined();
        const dropped = r?.dropped ?? {};
        // every DEEP datagram is too deep; of the sample, the nested ones deeper than 16 are too
        expect(dropped['too-deep'] ?? 0).toBeGreaterThanOrEqual(DEEP.length);
        expect(dropped['too-deep'] ?? 0).toBeLessThanOrEqual(DEEP.length + deepInSample);
        const drops = Object.values(dropped).reduce((a, b) => a + b, 0);
        expect(r?.received).toBe((r?.accepted ?? 0) + drops);
      }

      const put = await cluster.run(['put', 'after', 'hostile'], 10_000);
      expect(put.code, put.stderr).toBe(0);
      const get = await cluster.run(['get', 'after'], 10_000);
      expect(get.stdout).toBe('hostile\n');
      const status = await cluster.run(['cluster', 'status'], 10_000);
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toMatch(/too-deep=\d+/);
      expect(status.stdout).not.toMatch(/\bdown\b/);
    }, 60_000);
});

describe('[STYLE §9] with a secret, status needs it too', () => {
  it('an unsigned status request draws no reply and is counted as bad-mac', async () => {
    const cluster = LocalCluster.create('raftkv-hostile-status-', 'status secret');
    clusters.push(cluster);
    const up = await cluster.up(3);
    expect(up.code, up.stderr).toBe(0);
    const addresses = readLayout(cluster.dir)?.members.map((m) => m.address) ?? [];
    const unsigned = await queryStatus(addresses, 500);
    expect(unsigned).toEqual([undefined, undefined, undefined]);
    const signed = await queryStatus(addresses, 2000, 'status secret');
    for (const r of signed) expect(r?.dropped['bad-mac'] ?? 0).toBeGreaterThanOrEqual(1);
    const wrong = await queryStatus(addresses, 500, 'another secret');
    expect(wrong).toEqual([undefined, undefined, undefined]);
  }, 40_000);
});
