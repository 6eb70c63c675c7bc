/**
 * The direct-mode client (`client.ts`) against sockets the test owns, loopback only: it gives up
 * with `TimeoutError` (nothing answered) or `NoLeaderError` (no leader among those that did)
 * naming what it tried, refuses a key or value over the limits before sending, follows a redirect to a leader whose address it has
 * learned, ignores answers to other requests, and keeps one request number across the retries of
 * one operation [Raft dissertation §6.3].
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { KvClient, NoLeaderError, TimeoutError, TooLargeError } from '../../src/client/client.js';
import { MAX_KEY_LENGTH, MAX_VALUE_LENGTH } from '../../src/wire/messages.js';
import type { Address } from '../../src/replica/direct.js';

interface Request { type: string; MID: string; seq: number; key: string; src: string; dst: string }

/**
 * A socket posing as a replica: `answer` decides what (if anything) it replies to a request, and
 * `members`, if set, what it answers a status request (its members' addresses; a real status
 * answer has more fields, which the client does not read).
 */
class FakeReplica {
  readonly received: Request[] = [];
  readonly statusAsked: string[] = [];
  answer: (r: Request) => Record<string, unknown> | undefined = () => undefined;
  members: Record<string, string> | undefined;
  private sessions = 0;
  private constructor(readonly id: string, readonly socket: Socket, readonly address: Address) {
    socket.on('message', (bytes, from) => this.receive(bytes, from));
  }

  static async start(id: string): Promise<FakeReplica> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new FakeReplica(id, socket, { host: '127.0.0.1', port: socket.address().port });
  }

  private receive(bytes: Buffer, from: RemoteInfo): void {
    const r = JSON.parse(bytes.toString('utf8')) as Request;
    if (r.type === 'status') {
      this.statusAsked.push(r.MID);
      if (this.members !== undefined) this.status(r, from);
      return;
    }
    this.received.push(r);
    const reply = this.answer(r);
    if (reply === undefined) return;
    // [§6.3] a register's ok carries the session it opened, as a replica's does
    if (r.type === 'register' && reply['type'] === 'ok' && !('session' in reply)) {
      reply['session'] = ++this.sessions;
    }
    const m = { src: this.id, dst: r.src, leader: 'FFFF', MID: r.MID, ...reply };
    this.socket.send(JSON.stringify(m), from.port, from.address);
  }

  /** A status answer as a direct-mode replica gives it (`wire/admin.ts`). */
  private status(r: Request, from: RemoteInfo): void {
    const reply = { src: this.id, type: 'statusReply', MID: r.MID, role: 'Follower', leader: 'FFFF',
      currentTerm: 1, commitIndex: 0, appliedIndex: 0, lastLogIndex: 0, waitingRequests: 0,
      dropped: {}, received: 1, accepted: 1, acceptedFromPeers: 0, syncs: 0, entriesSynced: 0,
      snapshotIndex: 0, snapshotsInstalled: 0, lastInstallBytes: 0, lastInstallMs: 0, walBytes: 0,
      rssBytes: 0, stalledTicks: 0, pid: process.pid, loopDelayMaxUs: null,
      members: this.members };
    this.socket.send(JSON.stringify(reply), from.port, from.address);
  }

  close(): void {
    this.socket.close();
  }
}

/** Loopback ports where nothing listens: bound, read, closed. */
async function deadPorts(n: number): Promise<Address[]> {
  const out: Address[] = [];
  for (let k = 0; k < n; k++) {
    const s = createSocket('udp4');
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
    out.push({ host: '127.0.0.1', port: s.address().port });
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
  return out;
}

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

async function open(cluster: Address[], timeoutMs: number, attemptMs: number): Promise<KvClient> {
  const client = await KvClient.open({ cluster, clientId: '9001' as never, timeoutMs, attemptMs });
  closers.push(() => client.close());
  return client;
}

async function fakes(...ids: string[]): Promise<FakeReplica[]> {
  const out = await Promise.all(ids.map((id) => FakeReplica.start(id)));
  for (const f of out) closers.push(() => f.close());
  return out;
}

describe('[client] KvClient', () => {
  it('gives up with TimeoutError naming every address it tried when nothing listens', async () => {
    const cluster = await deadPorts(2);
    const client = await open(cluster, 300, 50);
    const t0 = Date.now();
    const error = await client.get('k').then(() => undefined, (e: unknown) => e);
    const elapsed = Date.now() - t0;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).not.toBeInstanceOf(NoLeaderError);
    const e = error as TimeoutError;
    expect(e.message).toMatch(/^get k: no replica answered within 300 ms \(tried /);
    for (const a of cluster) expect(e.message).toContain(`${a.host}:${a.port}`);
    expect([...e.tried].sort()).toEqual(cluster.map((a) => `${a.host}:${a.port}`).sort());
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(2000);
  });

  it('the default attempt time (300 ms) with a 300 ms deadline tries only the first address',
    async () => {
      const cluster = await deadPorts(2);
      const client = await KvClient.open({ cluster, timeoutMs: 300 });
      closers.push(() => client.close());
      const error = await client.put('k', 'v').then(() => undefined, (e: unknown) => e);
      expect((error as TimeoutError).tried).toEqual([`127.0.0.1:${cluster[0]?.port}`]);
      expect((error as Error).message).toMatch(/^put k: no replica answered/);
    });

  it('gives up with NoLeaderError when replicas answer but none leads, naming those that did',
    async () => {
      const [a] = await fakes('000A') as [FakeReplica];
      const client = await open([a.address], 400, 100);
      a.answer = () => ({ type: 'redirect', leader: 'FFFF' }); // an election that never ends
      const error = await client.put('k', 'v').then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(NoLeaderError);
      expect((error as NoLeaderError).answered).toEqual([`127.0.0.1:${a.address.port}`]);
      expect((error as Error).message).toMatch(/^put k: no leader answered within 400 ms/);
    });

  it('runs the operations of one client one at a time, in call order: a session holds one answer',
    async () => {
      const [a] = await fakes('000A') as [FakeReplica];
      const client = await open([a.address], 300, 100);
      // the put is never answered: the get must wait until it has given up
      a.answer = (r) => (r.type === 'put' ? undefined : { type: 'ok', value: 'v' });
      const [put, get] = await Promise.allSettled([client.put('p', 'x'), client.get('g')]);
      expect(put.status).toBe('rejected');
      expect(get).toEqual({ status: 'fulfilled', value: { found: true, value: 'v' } });
      const types = a.received.map((r) => r.type);
      expect(types[0]).toBe('register'); // [§6.3] a first write opens a session
      expect(types.at(-1)).toBe('get');
      expect(types.slice(1, -1).every((t) => t === 'put')).toBe(true);
      const [putSeq, getSeq] = [a.received[1]?.seq ?? 0, a.received.at(-1)?.seq ?? 0];
      expect(getSeq).toBeGreaterThan(putSeq);
      await expect(KvClient.open({ cluster: [a.address], clientId: 'abcd' }))
        .rejects.toThrow('bad clientId "abcd": expected 4 upper-case hex digits, not FFFF');
    });

  it('refuses a key or value over the limits with TooLargeError, before sending anything',
    async () => {
      const [a] = await fakes('000A') as [FakeReplica];
      const client = await open([a.address], 3000, 1000);
      const refused = async (p: Promise<unknown>): Promise<unknown> =>
        p.then(() => undefined, (e: unknown) => e);
      const key = await refused(client.get('k'.repeat(MAX_KEY_LENGTH + 1)));
      expect(key).toBeInstanceOf(TooLargeError);
      expect((key as Error).message).toBe(`a key of ${MAX_KEY_LENGTH + 1} characters: the limit ` +
        `is ${MAX_KEY_LENGTH}`);
      const value = await refused(client.put('k', 'v'.repeat(MAX_VALUE_LENGTH + 1)));
      expect((value as TooLargeError).field).toBe('value');
      const expected = await refused(client.cas('k', 'e'.repeat(MAX_VALUE_LENGTH + 1), 'v'));
      expect((expected as TooLargeError).field).toBe('expected');
      expect(a.received).toEqual([]);
    });

  it('refuses an empty cluster', async () => {
    await expect(KvClient.open({ cluster: [] })).rejects.toThrow('no cluster addresses');
  });

  it('follows a redirect: to the next replica when the leader is unknown, then straight to ' +
    'a leader whose address it learned', async () => {
    const [a, b] = await fakes('000A', '000B') as [FakeReplica, FakeReplica];
    const client = await open([a.address, b.address], 3000, 1000);
    a.answer = () => ({ type: 'redirect', leader: '000B' }); // B's address: not known yet
    b.answer = (r) => ({ type: 'ok', leader: '000B', value: `b:${r.key}` });
    const t0 = Date.now();
    expect(await client.get('x')).toEqual({ found: true, value: 'b:x' });
    expect(Date.now() - t0).toBeLessThan(900); // by the redirect, not by an attempt timing out
    expect(a.received.map((r) => r.key)).toEqual(['x']);
    // now B leads as far as the client knows: the next request goes there first
    b.answer = () => ({ type: 'redirect', leader: '000A' }); // A's address is known by now
    a.answer = () => ({ type: 'ok', leader: '000A' });
    await client.put('y', '1');
    // the put's register first, then the put, where the register found the leader
    expect(b.received.map((r) => [r.type, r.key])).toEqual([['get', 'x'], ['register', undefined]]);
    expect(a.received.map((r) => [r.type, r.key])).toEqual([['get', 'x'],
      ['register', undefined], ['put', 'y']]);
    expect(a.received[1]?.dst).toBe('000A'); // it addresses the replica by the id it learned
  });

  it('a redirect to a leader whose address it does not know: it asks the redirecting replica\'s ' +
    'status for the members\' addresses, and goes straight there', async () => {
    const [a, b, c] = await fakes('000A', '000B', '000C') as [FakeReplica, FakeReplica, FakeReplica];
    // only A is given; C leads, and only A's status says where C is
    const client = await open([a.address], 3000, 1000);
    a.members = Object.fromEntries([a, b, c].map((f) => [f.id,
      `${f.address.host}:${f.address.port}`]));
    a.answer = () => ({ type: 'redirect', leader: '000C' });
    c.answer = (r) => ({ type: 'ok', leader: '000C', value: `c:${r.key}` });
    const t0 = Date.now();
    expect(await client.get('x')).toEqual({ found: true, value: 'c:x' });
    expect(Date.now() - t0).toBeLessThan(900);
    expect(a.statusAsked).toHaveLength(1);
    expect(b.received).toEqual([]);
    expect(c.received.map((r) => [r.key, r.dst])).toEqual([['x', '000C']]);
  });

  it('ignores an answer with another MID, and keeps one seq across the retries of a request',
    async () => {
      const [a] = await fakes('000A') as [FakeReplica];
      const client = await open([a.address], 3000, 100);
      let n = 0;
      a.answer = (r) => (++n < 3 ? { type: 'ok', MID: `${r.MID}-stale`, value: 'stale' }
        : { type: 'ok', value: 'fresh' });
      expect(await client.get('k')).toEqual({ found: true, value: 'fresh' });
      expect(a.received.length).toBe(3);
      const seqs = new Set(a.received.map((r) => r.seq));
      expect(seqs.size).toBe(1);
      expect(new Set(a.received.map((r) => r.MID)).size).toBe(3);
      await client.get('k');
      const next = a.received[3]?.seq ?? 0;
      expect(next).toBeGreaterThan([...seqs][0] ?? Infinity);
    });
});
