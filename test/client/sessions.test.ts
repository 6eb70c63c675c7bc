/**
 * [§6.3 RegisterClient] Client sessions against three real replicas, loopback only: two clients
 * forced onto the same 4-hex wire id still get sessions of their own and their own answers, and a
 * client whose session expired (the cluster keeps two) is told so, with the write's outcome
 * unknown, and goes on in a new session. afterAll ends the replicas by PID.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster } from '../support/processes.js';
import { readLayout } from '../../src/cluster/cluster.js';
import { KvClient, SessionExpiredError } from '../../src/client/client.js';

let cluster: LocalCluster;
let addresses: string[];

beforeAll(async () => {
  cluster = LocalCluster.create('raftkv-sessions-');
  const up = await cluster.up(3, 20_000, ['--max-sessions', '2']);
  expect(up.code, up.stderr).toBe(0);
  addresses = (readLayout(cluster.dir)?.members ?? [])
    .map((m) => `${m.address.host}:${m.address.port}`);
}, 30_000);
afterAll(async () => { await cluster.end(); }, 20_000);

const open = (clientId?: string): Promise<KvClient> =>
  KvClient.open({ cluster: addresses, timeoutMs: 8000, ...(clientId === undefined ? {} : { clientId }) });

/** Add one to `key` by compare-and-swap until a swap succeeds: how many tries it took. */
async function increment(c: KvClient, key: string): Promise<number> {
  for (let tries = 1; tries <= 200; tries++) {
    const now = await c.get(key);
    const from = now.found ? now.value : null;
    const r = await c.cas(key, from, String(Number(from ?? '0') + 1));
    if (r.swapped) return tries;
  }
  throw new Error(`${key}: no swap in 200 tries`);
}

describe('[§6.3] sessions registered through the log', () => {
  it('two clients with one wire id get two sessions, and every increment of each lands once',
    async () => {
      const [a, b] = await Promise.all([open('8001'), open('8001')]);
      try {
        const rounds = 15;
        await Promise.all([a, b].map(async (c) => {
          for (let i = 0; i < rounds; i++) await increment(c, 'counter');
        }));
        expect(a.session).toBeGreaterThan(0);
        expect(b.session).toBeGreaterThan(0);
        expect(a.session).not.toBe(b.session);
        // a shared session would answer one client's cas from the other's, and lose increments
        expect(await a.get('counter')).toEqual({ found: true, value: String(2 * rounds) });
      } finally {
        a.close();
        b.close();
      }
    }, 60_000);

  it('a client whose session two newer ones expired gets SessionExpiredError, then a new one',
    async () => {
      const a = await open();
      try {
        await a.put('x', 'a1');
        const first = a.session;
        // two other clients write: their registers expire the least recently used, a's
        for (const value of ['b', 'c']) {
          const put = await cluster.run(['put', 'y', value], 10_000);
          expect(put.code, put.stderr).toBe(0);
        }
        const error = await a.put('x', 'a2').then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(SessionExpiredError);
        expect((error as SessionExpiredError).session).toBe(first);
        expect((error as Error).message).toContain('may or may not have happened');
        // the expired write did nothing: its session was gone when its entry was applied
        expect(await a.get('x')).toEqual({ found: true, value: 'a1' });
        expect(a.session).toBe(0);
        await a.put('x', 'a3');
        expect(a.session).toBeGreaterThan(first);
        expect(await a.get('x')).toEqual({ found: true, value: 'a3' });
      } finally {
        a.close();
      }
    }, 60_000);

  it('`cluster up --max-sessions` on the existing cluster with another bound is refused',
    async () => {
      const r = await cluster.run(['cluster', 'up', '--max-sessions', '5'], 10_000);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('was created with --max-sessions 2');
    }, 20_000);
});
