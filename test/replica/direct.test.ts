/**
 * The direct-mode replica (`direct.ts`) in this process, over loopback UDP: three replicas elect,
 * serve, and come back from their write-ahead logs; one replica whose peers are sockets the test
 * owns shows how datagrams are admitted, dropped and counted. Every wait is bounded; every replica
 * is stopped and every data directory removed after each test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createSocket, type Socket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KvClient } from '../../src/client/client.js';
import { leaderOf, queryStatus } from '../../src/client/status.js';
import { lastLogIndex } from '../../src/core/log.js';
import { signer } from '../../src/replica/auth.js';
import { startDirect, type Address, type DirectReplica } from '../../src/replica/direct.js';
import { parseDirectArgs } from '../../src/replica/directMain.js';
import { nodeFileSystem } from '../../src/disk/fs.js';
import { decodeStatusReply } from '../../src/wire/admin.js';
import { MAX_DATAGRAM_BYTES } from '../../src/wire/codec.js';
import type { NodeId } from '../../src/wire/messages.js';

const IDS = ['0000', '0001', '0002'] as NodeId[];
const SECRET = 'test secret';
const LEADER_WAIT_MS = 10_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` every 20 ms until it gives a value, for at most `timeoutMs`. */
async function waitFor<T>(what: string, timeoutMs: number, probe: () => T | undefined):
  Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** A loopback socket the test owns; it keeps every datagram it receives. */
class Endpoint {
  readonly received: Buffer[] = [];
  private constructor(readonly socket: Socket, readonly address: Address) {
    socket.on('message', (bytes) => this.received.push(bytes));
  }

  static async open(): Promise<Endpoint> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    closers.push(() => socket.close());
    return new Endpoint(socket, { host: '127.0.0.1', port: socket.address().port });
  }

  send(to: Address, m: object | Buffer | string): void {
    const bytes = Buffer.isBuffer(m) || typeof m === 'string' ? m : JSON.stringify(m);
    this.socket.send(bytes, to.port, to.host);
  }

  /** The received datagrams that parse as JSON objects, with the MAC field left in. */
  messages(): Record<string, unknown>[] {
    return this.received.map((b) => JSON.parse(b.toString('utf8')) as Record<string, unknown>);
  }

  /** Sends `m` and waits (bounded) for the answer carrying its MID. */
  async ask(to: Address, m: Record<string, unknown> & { MID: string }):
    Promise<Record<string, unknown>> {
    this.send(to, m);
    return waitFor(`answer to ${m.MID}`, 3000,
      () => this.messages().find((x) => x['MID'] === m.MID));
  }
}

const running: DirectReplica[] = [];
/** Sockets and clients to close after each test. */
const closers: (() => void)[] = [];
const dirs: string[] = [];
const fatal: Error[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
  for (const close of closers.splice(0)) close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  expect(fatal.splice(0).map((e) => e.message)).toEqual([]);
});

/** A loopback port where nothing listens right now: bound, read, closed. */
async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'raftkv-direct-'));
  dirs.push(d);
  return d;
}

async function start(id: NodeId, listen: Address, peers: Map<NodeId, Address>, dataDir: string,
  secret?: string): Promise<DirectReplica> {
  const r = await startDirect({ id, listen, peers, dataDir, secret, tickMs: 10, warmupMs: 0,
    seed: Number.parseInt(id, 16) + 1, onFatal: (e) => { fatal.push(e); } });
  running.push(r);
  return r;
}

interface Layout { readonly addresses: Address[]; readonly dataDirs: string[] }

async function newLayout(): Promise<Layout> {
  const root = tempDir();
  const addresses: Address[] = [];
  for (let k = 0; k < IDS.length; k++) {
    addresses.push({ host: '127.0.0.1', port: await freePort() });
  }
  return { addresses, dataDirs: IDS.map((id) => join(root, id)) };
}

async function startCluster(layout: Layout, secret?: string): Promise<DirectReplica[]> {
  return Promise.all(IDS.map((id, k) => {
    const peers = new Map(IDS.flatMap((p, j) => (j === k ? [] : [[p, layout.addresses[j]]])) as
      [NodeId, Address][]);
    return start(id, layout.addresses[k] as Address, peers, layout.dataDirs[k] as string, secret);
  }));
}

/** The index of the replica that leads in the highest term, once there is one (bounded). */
function waitForLeader(replicas: readonly DirectReplica[]): Promise<number> {
  return waitFor('leader', LEADER_WAIT_MS, () => {
    let best: number | undefined;
    replicas.forEach((r, k) => {
      const s = r.status();
      const b = best === undefined ? undefined : replicas[best]?.status();
      if (s.role === 'Leader' && (b === undefined || s.currentTerm > b.currentTerm)) best = k;
    });
    return best;
  });
}

async function client(cluster: Address[]): Promise<KvClient> {
  const c = await KvClient.open({ cluster, timeoutMs: 5000, attemptMs: 1000 });
  closers.push(() => c.close());
  return c;
}

describe('[§5.2 §5.3] direct mode: three replicas over loopback UDP', { timeout: 30_000 }, () => {
  it('elects one leader, and a put then a get through the client return the value', async () => {
    const layout = await newLayout();
    const replicas = await startCluster(layout);
    const k = await waitForLeader(replicas);
    const kv = await client(layout.addresses);
    await kv.put('k', 'v1');
    expect(await kv.get('k')).toEqual({ found: true, value: 'v1' });
    expect(await kv.get('never-written')).toEqual({ found: false });
    // the status datagram tells the same story as the replicas' own state
    const replies = await queryStatus(layout.addresses, 1000);
    expect(leaderOf(replies)).toBe(k);
    expect(replicas.filter((r) => r.status().role === 'Leader').length).toBe(1);
  });

  it('deletes and compare-and-swap: an absent key is not the empty string; a failed cas ' +
    'answers with the current value', async () => {
    const layout = await newLayout();
    const replicas = await startCluster(layout);
    await waitForLeader(replicas);
    const kv = await client(layout.addresses);
    await kv.put('empty', '');
    expect(await kv.get('empty')).toEqual({ found: true, value: '' });
    await kv.put('k', 'v1');
    expect(await kv.del('k')).toEqual({ found: true, value: 'v1' });
    expect(await kv.get('k')).toEqual({ found: false });
    expect(await kv.del('k')).toEqual({ found: false }); // nothing left to delete
    expect(await kv.cas('k', null, 'a')).toEqual({ swapped: true, previous: { found: false } });
    expect(await kv.cas('k', null, 'b')).toEqual({ swapped: false,
      previous: { found: true, value: 'a' } });
    expect(await kv.cas('k', 'x', 'b')).toEqual({ swapped: false,
      previous: { found: true, value: 'a' } });
    expect(await kv.cas('k', 'a', 'c')).toEqual({ swapped: true,
      previous: { found: true, value: 'a' } });
    expect(await kv.cas('empty', '', 'd')).toEqual({ swapped: true,
      previous: { found: true, value: '' } });
    expect(await kv.get('k')).toEqual({ found: true, value: 'c' });
    expect(await kv.get('empty')).toEqual({ found: true, value: 'd' });
  });

  it('a client that starts at a follower is redirected and its put succeeds', async () => {
    const layout = await newLayout();
    const replicas = await startCluster(layout);
    const k = await waitForLeader(replicas);
    const order = [...IDS.keys()].sort((a, b) => Number(a === k) - Number(b === k));
    expect(order.at(-1)).toBe(k); // followers first: cluster[0] is not the leader
    const kv = await KvClient.open({ cluster: order.map((j) => layout.addresses[j] as Address),
      timeoutMs: 5000, attemptMs: 3000 });
    try {
      const t0 = Date.now();
      await kv.put('r', 'redirected');
      // an attempt that timed out would take 3 s: a quicker answer came by redirects
      expect(Date.now() - t0).toBeLessThan(2500);
      expect(await kv.get('r')).toEqual({ found: true, value: 'redirected' });
    } finally {
      kv.close();
    }
  });

  it('durability: restarted on the same data dirs, replicas recover currentTerm, the ' +
    'committed log and the value [Fig2:State persistent]', async () => {
    const layout = await newLayout();
    const first = await startCluster(layout);
    const k = await waitForLeader(first);
    const kv = await client(layout.addresses);
    await kv.put('d', 'durable');
    expect(await kv.get('d')).toEqual({ found: true, value: 'durable' });
    const before = first.map((r) => r.status());
    const committed = before[k]?.commitIndex ?? 0;
    expect(committed).toBeGreaterThanOrEqual(2); // at least the leader's no-op and the put
    await Promise.all(running.splice(0).map((r) => r.stop()));

    const second = await startCluster(layout);
    second.forEach((r, j) => {
      const p = r.recovered.persisted;
      expect(p.currentTerm, IDS[j]).toBe(before[j]?.currentTerm);
      expect(lastLogIndex(p.log), IDS[j]).toBeGreaterThanOrEqual(before[j]?.commitIndex ?? 0);
    });
    const holding = second.filter((r) => lastLogIndex(r.recovered.persisted.log) >= committed);
    expect(holding.length).toBeGreaterThanOrEqual(2); // a majority held every committed entry
    const k2 = await waitForLeader(second);
    expect(second[k2]?.status().currentTerm).toBeGreaterThan(before[k]?.currentTerm ?? 0);
    const kv2 = await client(layout.addresses);
    expect(await kv2.get('d')).toEqual({ found: true, value: 'durable' });
  });

  it('[§6.3 sessions] a register answers a session; a retried put in it (same session and seq, ' +
    'new MID) is answered ok and applied once; without a session it applies again; in a session ' +
    'never opened it is answered expired and does nothing', async () => {
    const layout = await newLayout();
    const replicas = await startCluster(layout);
    const k = await waitForLeader(replicas);
    const leader = layout.addresses[k] as Address;
    const me = await Endpoint.open();
    const base = { src: '9001', dst: IDS[k], leader: 'FFFF' };
    const registered = await me.ask(leader, { ...base, type: 'register', MID: 'r1' });
    expect(registered['type']).toBe('ok');
    const session = registered['session'] as number;
    expect(session).toBeGreaterThan(1); // an index: the leader's no-op came first
    const put = (MID: string, key: string, value: string, seq?: number) =>
      me.ask(leader, { ...base, type: 'put', MID, key, value,
        ...(seq === undefined ? {} : { session, seq }) });
    const get = async (MID: string, key: string) =>
      (await me.ask(leader, { ...base, type: 'get', MID, key }))['value'];

    expect((await put('m1', 'a', '1', 5))['type']).toBe('ok');
    expect((await put('m2', 'a', '2', 6))['type']).toBe('ok');
    expect((await put('m3', 'a', '1', 5))['type']).toBe('ok'); // the retry of seq 5, late
    expect(await get('m4', 'a')).toBe('2');
    expect((await put('m5', 'a', '3', 6))['type']).toBe('ok'); // a retry of the latest, seq 6
    expect(await get('m6', 'a')).toBe('2');
    // the control: the same three puts without a seq are three writes, and the last one wins
    await put('m7', 'b', '1');
    await put('m8', 'b', '2');
    await put('m9', 'b', '1');
    expect(await get('m10', 'b')).toBe('1');
    expect(me.messages().filter((m) => m['type'] !== 'ok')).toEqual([]);
    const stray = await me.ask(leader, { ...base, type: 'put', MID: 'm11', key: 'c', value: '1',
      session: session + 1000, seq: 1 });
    expect(stray['type']).toBe('expired');
    expect((await me.ask(leader, { ...base, type: 'get', MID: 'm12', key: 'c' }))['value'])
      .toBeUndefined();
  });
});

describe('[auth] direct mode with a shared secret', { timeout: 30_000 }, () => {
  it('three replicas that share the secret elect and serve, and drop nothing as bad-mac',
    async () => {
      const layout = await newLayout();
      const replicas = await startCluster(layout, SECRET);
      await waitForLeader(replicas);
      const kv = await client(layout.addresses);
      await kv.put('s', 'signed');
      expect(await kv.get('s')).toEqual({ found: true, value: 'signed' });
      for (const r of replicas) expect(r.status().dropped).toEqual({});
    });
});

/** One replica, 0000, whose peers 0001 and 0002 are sockets the test owns, and a stranger. */
async function alone(secret?: string):
  Promise<{ r: DirectReplica; p1: Endpoint; p2: Endpoint; stranger: Endpoint }> {
  const [p1, p2, stranger] = [await Endpoint.open(), await Endpoint.open(), await Endpoint.open()];
  const peers = new Map([[IDS[1], p1.address], [IDS[2], p2.address]] as [NodeId, Address][]);
  const r = await start(IDS[0] as NodeId, { host: '127.0.0.1', port: await freePort() }, peers,
    join(tempDir(), '0000'), secret);
  return { r, p1, p2, stranger };
}

const dropped = (r: DirectReplica, kind: string): number => r.status().dropped[kind] ?? 0;
const waitDropped = (r: DirectReplica, kind: string, n: number): Promise<true> =>
  waitFor(`${n} dropped as ${kind}`, 3000, () => (dropped(r, kind) >= n ? true : undefined));

const appendEntries = (src: string, term: number) => ({ src, dst: '0000', leader: src,
  type: 'AppendEntriesRequest', term, prevLogIndex: 0, prevLogTerm: 0, entries: [],
  leaderCommit: 0, readRound: 0 });
const requestVote = (term: number) => ({ src: '0001', dst: '0000', leader: 'FFFF',
  type: 'RequestVoteRequest', term, lastLogIndex: 0, lastLogTerm: 0 });

describe('[admission] direct mode drops and counts what it must not step', { timeout: 30_000 },
  () => {
    it('a peer message from an address that is not that peer\'s is dropped as unknown-peer, ' +
      'and leaves currentTerm alone', async () => {
      const { r, p1, stranger } = await alone();
      stranger.send(r.address, appendEntries('0001', 9)); // right id, wrong address
      await waitDropped(r, 'unknown-peer', 1);
      p1.send(r.address, appendEntries('0002', 9)); // a peer's address, another peer's id
      await waitDropped(r, 'unknown-peer', 2);
      expect(r.status().currentTerm).toBe(0);
      expect(r.status().leader).toBe('FFFF');
      // the control: the same message from 0001's address is stepped [Fig2:AllServers#2]
      p1.send(r.address, appendEntries('0001', 9));
      await waitFor('term 9', 3000, () => (r.status().currentTerm === 9 ? true : undefined));
      expect(r.status().leader).toBe('0001');
      expect(dropped(r, 'unknown-peer')).toBe(2);
    });

    it('a peer message addressed to another replica is dropped as wrong-dst: a replayed vote ' +
      'or ack must not count here', async () => {
      const { r, p1 } = await alone();
      p1.send(r.address, { ...appendEntries('0001', 9), dst: '0002' });
      await waitDropped(r, 'wrong-dst', 1);
      expect(r.status().currentTerm).toBe(0);
      p1.send(r.address, { ...appendEntries('0001', 9), dst: 'FFFF' }); // a broadcast is for all
      await waitFor('term 9', 3000, () => (r.status().currentTerm === 9 ? true : undefined));
    });

    it('with a secret, a peer message without a valid MAC is dropped as bad-mac; signed, it is ' +
      'stepped, and the answer is signed', async () => {
      const { r, p1 } = await alone(SECRET);
      p1.send(r.address, requestVote(50)); // unsigned
      await waitDropped(r, 'bad-mac', 1);
      const forged = signer('not the secret').sign(Buffer.from(JSON.stringify(requestVote(50))));
      p1.send(r.address, forged);
      await waitDropped(r, 'bad-mac', 2);
      expect(r.status().currentTerm).toBeLessThan(50);
      expect(dropped(r, 'unknown-peer')).toBe(0);

      const auth = signer(SECRET);
      p1.send(r.address, auth.sign(Buffer.from(JSON.stringify(requestVote(50)))));
      await waitFor('term 50', 3000, () => (r.status().currentTerm === 50 ? true : undefined));
      const vote = await waitFor('a vote', 3000, () =>
        p1.received.find((b) => b.includes('"RequestVoteResponse"')));
      // only the signed request was answered
      expect(p1.received.filter((b) => b.includes('"RequestVoteResponse"')).length).toBe(1);
      const verified = auth.verify(vote);
      expect(verified).toBeDefined();
      expect(JSON.parse((verified as Buffer).toString('utf8'))).toMatchObject(
        { src: '0000', dst: '0001', type: 'RequestVoteResponse', term: 50, voteGranted: true });
      expect(dropped(r, 'bad-mac')).toBe(2);
    });

    it('oversized, non-JSON and otherwise bad datagrams are counted by kind, and the replica ' +
      'keeps working', async () => {
      const { r, p1, stranger } = await alone();
      const big = Buffer.alloc(MAX_DATAGRAM_BYTES + 1, 0x20);
      big.write('{"type":"status"');
      stranger.send(r.address, big);
      stranger.send(r.address, 'not json');
      stranger.send(r.address, '[1,2]');
      stranger.send(r.address, '{"type":"bogus"}');
      stranger.send(r.address, '{"src":"9001","type":"put","MID":"x"}');
      stranger.send(r.address, { src: '9001', dst: '0000', leader: 'FFFF', type: 'ok', MID: 'x' });
      stranger.send(r.address, { src: '0001', dst: '0000', leader: 'FFFF', type: 'get', MID: 'x',
        key: 'k' }); // a client may not use a replica's id
      const kinds = ['too-large', 'not-json', 'not-object', 'unknown-type', 'invalid',
        'not-a-request', 'bad-client-id'];
      await waitFor('every kind counted', 3000, () =>
        (kinds.every((kind) => dropped(r, kind) === 1) ? true : undefined));
      expect(r.status().dropped).toEqual(Object.fromEntries(kinds.map((kind) => [kind, 1])));
      // still serving: it answers a status request and steps a peer's message
      const reply = await stranger.ask(r.address, { src: 'FFFE', type: 'status', MID: 'after' });
      expect(reply['type']).toBe('statusReply');
      p1.send(r.address, appendEntries('0001', 3));
      await waitFor('term 3', 3000, () => (r.status().currentTerm === 3 ? true : undefined));
    });

    it('--loop-delay reports the longest hold-up of the event loop; without it, null', async () => {
      const { r } = await alone();
      expect(r.status().loopDelayMaxUs).toBeNull();
      const p1 = await Endpoint.open();
      const peers = new Map([[IDS[1], p1.address]] as [NodeId, Address][]);
      const d = await startDirect({ id: IDS[2] as NodeId, listen: { host: '127.0.0.1',
        port: await freePort() }, peers, dataDir: join(tempDir(), '0002'), tickMs: 10,
      warmupMs: 0, seed: 3, loopDelay: true, onFatal: (e) => { fatal.push(e); } });
      running.push(d);
      await new Promise((done) => setTimeout(done, 50));
      const before = d.status().loopDelayMaxUs ?? -1;
      expect(before).toBeGreaterThanOrEqual(0);
      for (const until = performance.now() + 80; performance.now() < until;) { /* hold the loop */ }
      await new Promise((done) => setTimeout(done, 50));
      expect(d.status().loopDelayMaxUs).toBeGreaterThanOrEqual(60_000);
      expect(parseDirectArgs(['--id', '0000', '--listen', '127.0.0.1:1', '--peer',
        '0001=127.0.0.1:2', '--data-dir', 'd', '--loop-delay'])).toMatchObject({ loopDelay: true });
    });

    it('a status request gets a statusReply with its MID, the role and the term', async () => {
      const { r, p1, stranger } = await alone(SECRET);
      p1.send(r.address, signer(SECRET).sign(Buffer.from(JSON.stringify(appendEntries('0001',
        4)))));
      await waitFor('term 4', 3000, () => (r.status().currentTerm === 4 ? true : undefined));
      // with a secret, a status request must carry its MAC: unsigned, it is dropped and counted
      const sign = (m: object): Buffer => signer(SECRET).sign(Buffer.from(JSON.stringify(m)));
      stranger.send(r.address, { src: 'FFFE', type: 'status', MID: 'm0' });
      await waitDropped(r, 'bad-mac', 1);
      stranger.send(r.address, sign({ src: 'FFFE', type: 'status', MID: 'm1' }));
      const bytes = await waitFor('a status reply', 3000, () => stranger.received[0]);
      const decoded = decodeStatusReply(bytes);
      expect(decoded._tag).toBe('Right');
      if (decoded._tag === 'Left') return;
      expect(decoded.right).toMatchObject({ src: '0000', type: 'statusReply', MID: 'm1',
        role: 'Follower', leader: '0001', currentTerm: 4 });
      // everything but the resident memory, which moves between the two reads
      expect({ ...decoded.right, rssBytes: 0 }).toEqual({ src: '0000', type: 'statusReply',
        MID: 'm1', ...r.status(), rssBytes: 0 });
      expect(decoded.right.rssBytes).toBeGreaterThan(0);
      // every datagram read is accounted for: handed on, or dropped under one kind
      const drops = Object.values(decoded.right.dropped).reduce((a, b) => a + b, 0);
      expect(decoded.right.received).toBe(decoded.right.accepted + drops);
      // a status request without a MID is not one: it is dropped and counted, not answered
      stranger.send(r.address, sign({ src: 'FFFE', type: 'status' }));
      await waitDropped(r, 'invalid', 1);
      // loopback keeps order: an answer to it would arrive before the answer to this one
      stranger.send(r.address, sign({ src: 'FFFE', type: 'status', MID: 'm2' }));
      await waitFor('answer to m2', 3000,
        () => stranger.messages().find((x) => x['MID'] === 'm2'));
      expect(stranger.messages().map((m) => m['MID'])).toEqual(['m1', 'm2']);
    });
  });

describe('[Fig2:State] a disk that cannot be written stops the replica', { timeout: 30_000 },
  () => {
  it('a full disk (ENOSPC on write): onFatal gets the error, and the vote that depended on the ' +
    'write never leaves', async () => {
    const [p1, p2] = [await Endpoint.open(), await Endpoint.open()];
    const peers = new Map([[IDS[1], p1.address], [IDS[2], p2.address]] as [NodeId, Address][]);
    const enospc = Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    const failures: Error[] = [];
    const r = await startDirect({ id: IDS[0] as NodeId,
      listen: { host: '127.0.0.1', port: await freePort() }, peers,
      dataDir: join(tempDir(), '0000'), tickMs: 10, warmupMs: 0, seed: 1,
      onFatal: (e) => { failures.push(e); },
      walOptions: { fs: { ...nodeFileSystem,
        write: (_fd, _b, _o, _n, done) => setImmediate(() => done(enospc, 0)) } } });
    running.push(r);
    p1.send(r.address, requestVote(5));
    await waitFor('the failed write', 3000, () => (failures.length > 0 ? true : undefined));
    expect(failures).toEqual([enospc]);
    await sleep(200);
    // the vote was decided in memory (term 5) but was never durable, so it was never sent
    expect(r.status().currentTerm).toBe(5);
    expect(p1.messages().filter((m) => m['type'] === 'RequestVoteResponse')).toEqual([]);
  });
});
