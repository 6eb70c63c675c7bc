/**
 * The replica loop (`src/replica/loop.ts`) in virtual time, over the real write-ahead log on the
 * simulated disk: persist before send, group commit (the loop keeps stepping while a sync is in
 * flight; one sync per batch), and timers that wake only when due.
 */
import { describe, expect, it } from 'vitest';
import type { Message, NodeId } from '../../src/wire/messages.js';
import { defaultConfig } from '../../src/core/state.js';
import { lastLogIndex } from '../../src/core/log.js';
import { openWal, readWal, type Wal } from '../../src/disk/wal.js';
import { Rng } from '../../src/fault/rng.js';
import {
  ReplicaLoop, STALL_SLACK_TICKS, type Admission, type LoopStep,
} from '../../src/replica/loop.js';
import { decodeDatagram, encodeMessage, WIRE_FORMAT } from '../../src/wire/codec.js';
import { wireTexts } from '../../src/wire/fragments.js';
import { signer } from '../../src/replica/auth.js';
import { SimDisk } from '../../src/detsim/disk.js';

const config = { ...defaultConfig, id: '0000' as NodeId, peers: ['0001', '0002'] as NodeId[],
  electionTimeoutTicksMin: 10, electionTimeoutTicksMax: 11 };
const DIR = '/data';

/** A loop, its disk and its outputs, with time and the disk's completions run by the test. */
class Rig {
  nowMs: number;
  readonly timers: { atMs: number; fn: () => void; live: boolean }[] = [];
  readonly batches: (() => void)[] = [];
  /** The disk's completions, run by `completeDisk`. */
  readonly diskOps: (() => void)[] = [];
  readonly out: Message[] = [];
  /** Every send with the address it went to (undefined: the simulator's). */
  readonly sent: { readonly message: Message; readonly to: { port: number } | undefined }[] = [];
  readonly steps: LoopStep[] = [];
  readonly disk: SimDisk;
  wal!: Wal;
  loop!: ReplicaLoop;

  constructor(startMs = 0, seed = 3, private readonly admission?: Admission) {
    this.nowMs = startMs;
    this.disk = new SimDisk((_delay, fn) => this.diskOps.push(fn), new Rng(seed),
      { writeMs: 0, syncMsMin: 0, syncMsMax: 0 });
    this.start();
  }

  start(): void {
    const { wal, recovered } = openWal(DIR, { fs: this.disk });
    this.wal = wal;
    this.loop = new ReplicaLoop({ config, seed: 1, persisted: recovered.persisted, tickMs: 10,
      clock: {
        now: () => this.nowMs,
        at: (atMs, fn) => {
          const t = { atMs, fn, live: true };
          this.timers.push(t);
          return () => { t.live = false; };
        },
        afterBatch: (fn) => { this.batches.push(fn); },
      },
      transport: { send: (m, to) => { this.out.push(m); this.sent.push({ message: m, to }); } },
      durability: wal,
      ...(this.admission === undefined ? {} : { admission: this.admission }),
      onFatal: (e) => { throw e; },
      observe: (step) => { this.steps.push(step); },
    });
  }

  /** The live timers' due times. */
  wakes(): number[] {
    return this.timers.filter((t) => t.live).map((t) => t.atMs);
  }

  /** Time moves to `ms`; the timers due by then fire. */
  advance(ms: number): void {
    this.nowMs = ms;
    for (const t of this.timers.filter((x) => x.live && x.atMs <= ms)) {
      t.live = false;
      t.fn();
    }
  }

  /** Complete the disk's next `n` operations, in order. */
  runDiskOps(n: number): void {
    for (let k = 0; k < n; k++) (this.diskOps.shift() as () => void)();
  }

  /** Complete what the disk has in flight, and what that starts, until it is idle. */
  completeDisk(): void {
    while (this.diskOps.length > 0) (this.diskOps.shift() as () => void)();
  }

  types(type: string): Message[] {
    return this.out.filter((m) => m.type === type);
  }

  arrive(m: object): void {
    this.loop.receiveValue({ dst: '0000', leader: 'FFFF', ...m });
  }
}

const preVoteGranted = (src: string) =>
  ({ type: 'PreVoteResponse', src, term: 1, voteGranted: true });

describe('[loop] the replica loop in virtual time, over the WAL on a simulated disk', () => {
  it('holds the vote requests of a campaign until its term and vote are synced', () => {
    const r = new Rig();
    expect(r.wakes()).toEqual([100]); // the election timeout: 10 ticks of 10 ms
    r.advance(100);
    // Pre-vote first (nothing to persist), then the pre-votes win and the campaign persists.
    expect(r.out.map((m) => m.type)).toEqual(['PreVoteRequest', 'PreVoteRequest']);
    r.nowMs = 101;
    for (const src of ['0001', '0002']) r.arrive(preVoteGranted(src));
    expect(r.loop.unsynced).toBe(1);
    expect(r.types('RequestVoteRequest')).toEqual([]);
    expect(r.wal.durable.currentTerm).toBe(0);
    r.completeDisk();
    expect(r.types('RequestVoteRequest').length).toBe(2);
    expect(r.wal.durable.currentTerm).toBe(1);
    expect(r.wal.durable.votedFor).toBe('0000');
    expect(readWal(DIR, r.disk).votedFor).toBe('0000'); // what a restart would read
  });

  it('a power loss before the sync: what waited for it never leaves; recovery reads a ' +
    'state the writes can explain', () => {
    const seen = new Set<number>();
    for (let seed = 1; seed <= 20; seed++) {
      const r = new Rig(0, seed);
      r.advance(100);
      r.nowMs = 101;
      for (const src of ['0001', '0002']) r.arrive(preVoteGranted(src));
      // the write is in the page cache, its sync not done: the machine loses power
      r.runDiskOps(1); // the write completes; the fdatasync it starts never does
      r.loop.stop();
      r.disk.powerLoss();
      expect(r.types('RequestVoteRequest')).toEqual([]);
      const after = readWal(DIR, r.disk);
      seen.add(after.currentTerm);
      expect(after.votedFor).toBe(after.currentTerm === 1 ? '0000' : null);
      r.start(); // the WAL's recovery cuts a torn record off
      expect(r.loop.state.currentTerm).toBe(after.currentTerm);
    }
    expect([...seen].sort()).toEqual([0, 1]); // lost or kept whole, never half a record
  });

  it('a Tick never jumps past a due timer: idle time is crossed in timer-sized steps', () => {
    const r = new Rig();
    // the first wake is the election timeout, 10 ticks in; a datagram arrives 3 ticks later
    expect(r.wakes()).toEqual([100]);
    r.advance(100);
    r.nowMs = 130;
    r.arrive({ type: 'PreVoteResponse', src: '0001', term: 0, voteGranted: false });
    const ticks = r.steps.filter((s) => s.event.type === 'Tick')
      .map((s) => (s.event as { ticks?: number }).ticks ?? 1);
    expect(ticks[0]).toBe(10);
    expect(ticks.reduce((a, b) => a + b, 0)).toBe(13);
    expect(r.loop.stalledTicks).toBe(0);
  });

  it('a stall drops the time it missed: what queued is read before the overdue timer fires', () => {
    const r = new Rig();
    // The loop is held up for a second: its wake at 100 ms never ran. A datagram read then is
    // handled before any timer fires; the election timeout comes one tick after it.
    r.nowMs = 1000;
    r.arrive({ type: 'PreVoteResponse', src: '0001', term: 0, voteGranted: false });
    const kinds = r.steps.map((s) => s.event.type);
    expect(kinds).toEqual(['Tick', 'PreVoteResponse']);
    expect((r.steps[0]?.event as { ticks: number }).ticks).toBe(9);
    expect(r.loop.stalledTicks).toBe(91);
    expect(r.types('PreVoteRequest')).toEqual([]);
    expect(r.wakes()).toEqual([1010]);
    expect(r.loop.role).toBe('Follower');
    r.advance(1010);
    expect(r.loop.role).toBe('PreCandidate');
    expect(r.loop.stalledTicks).toBe(91);
    // a wake that runs a little late (within the slack) delivers its ticks: nothing is dropped
    const late = new Rig();
    late.advance(100 + 10 * STALL_SLACK_TICKS);
    expect(late.loop.role).toBe('PreCandidate');
    expect(late.loop.stalledTicks).toBe(0);
  });

  it('a wake always delivers its tick, even where float time rounds the elapsed ticks down', () => {
    // A start time like a restart's, chosen so that (due - start) / 10 rounds to just under the
    // whole number of ticks: counting elapsed ticks from milliseconds alone would deliver no tick
    // and schedule the same wake again at the same instant, forever.
    const startMs = 474.448516;
    const r = new Rig(startMs);
    const due = r.wakes()[0] as number;
    const dueTicks = Math.round((due - startMs) / 10);
    expect(Math.floor((due - startMs) / 10)).toBeLessThan(dueTicks); // the trap is really here
    r.advance(due);
    const ticks = r.steps.filter((s) => s.event.type === 'Tick')
      .reduce((n, s) => n + ((s.event as { ticks?: number }).ticks ?? 1), 0);
    expect(ticks).toBe(dueTicks);
    expect(r.wakes().length).toBe(1);
    expect(r.wakes()[0]).toBeGreaterThan(due);
  });

  it('group commit: appends that arrive during a sync are made durable by one next sync', () => {
    const r = new Rig();
    const append = (index: number) => ({ src: '0001', leader: '0001',
      type: 'AppendEntriesRequest', term: 1, prevLogIndex: index - 1,
      prevLogTerm: index > 1 ? 1 : 0, leaderCommit: 0, readRound: 0,
      entries: [{ term: 1, cmd: { kind: 'put', client: '001C', session: 0, seq: 0, key: 'k',
        value: `v${index}` } }] });
    const acks = (): number[] => r.types('AppendEntriesResponse')
      .map((m) => (m as { matchIndex: number }).matchIndex);
    r.nowMs = 5;
    r.arrive(append(1));
    expect(r.wal.syncs).toBe(0);
    r.arrive(append(2));
    r.arrive(append(3));
    // all three were stepped (the log holds 3 entries) but wait for the sync in flight to end
    expect(lastLogIndex(r.loop.state.log)).toBe(3);
    expect(acks()).toEqual([]);
    r.runDiskOps(2); // the first append's write, then its fdatasync
    expect(acks()).toEqual([1]);
    expect(r.wal.syncs).toBe(1);
    r.completeDisk();
    expect(acks()).toEqual([1, 2, 3]);
    expect([r.wal.syncs, r.wal.writesSynced]).toEqual([2, 3]); // one sync for the two writes
    expect(r.out.every((m) => m.type === 'AppendEntriesResponse')).toBe(true);
    expect(r.loop.dropped.size).toBe(0);
  });

  it('a disk that fails stops the loop (no retry), and nothing that waited leaves', () => {
    const failing = new Rig();
    const errors: Error[] = [];
    const disk = new SimDisk((_d, fn) => failing.diskOps.push(fn), new Rng(1),
      { writeMs: 0, syncMsMin: 0, syncMsMax: 0 }, 1);
    const { wal } = openWal('/other', { fs: disk });
    const loop = new ReplicaLoop({ config, seed: 1, tickMs: 10,
      clock: { now: () => 101, at: () => () => undefined, afterBatch: () => undefined },
      transport: { send: (m) => { failing.out.push(m); } },
      durability: wal, onFatal: (e) => { errors.push(e); } });
    loop.receiveValue({ type: 'RequestVoteRequest', src: '0001', dst: '0000', leader: 'FFFF',
      term: 5, lastLogIndex: 0, lastLogTerm: 0 });
    failing.completeDisk();
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual([
      expect.stringMatching(/^(EIO|ENOSPC)$/)]);
    expect(loop.alive).toBe(false);
    expect(failing.types('RequestVoteResponse')).toEqual([]);
  });

  it('without direct mode\'s admission, a del, cas, list or register is dropped and counted, ' +
    'never stepped, and a session field is ignored: the simulator-routed protocol has only get ' +
    'and put, without sessions', () => {
    const r = new Rig();
    r.arrive({ type: 'del', src: '00C0', MID: 'd1', key: 'k' });
    r.arrive({ type: 'cas', src: '00C0', MID: 'c1', key: 'k', expected: null, value: 'v' });
    r.arrive({ type: 'list', src: '00C0', MID: 'l1', prefix: '' });
    r.arrive({ type: 'register', src: '00C0', MID: 'r1' });
    r.arrive({ type: 'get', src: '00C0', MID: 'g1', key: 'k' });
    r.arrive({ type: 'put', src: '00C0', MID: 'p1', key: 'k', value: 'v', session: 7, seq: 3 });
    expect(r.loop.dropped.get('not-in-protocol')).toBe(4);
    expect(r.steps.map((s) => s.event.type)).toEqual(['get', 'put']);
    expect(r.steps[1]?.event).not.toHaveProperty('session');
  });

  it('the simulator-routed protocol keeps its limits: a key over 256 or a value over 1,024 ' +
    'characters is dropped and counted as too-large, never stepped', () => {
    const r = new Rig();
    r.arrive({ type: 'put', src: '00C0', MID: 'p1', key: 'k', value: 'v'.repeat(1025) });
    r.arrive({ type: 'get', src: '00C0', MID: 'g1', key: 'k'.repeat(257) });
    r.arrive({ type: 'put', src: '00C0', MID: 'p2', key: 'k'.repeat(256), value: 'v'.repeat(1024) });
    expect(r.loop.dropped.get('too-large')).toBe(2);
    expect(r.steps.map((s) => s.event.type)).toEqual(['put']);
  });

  it('a request too large for a datagram arrives as fragments, in any order: one step, once ' +
    'every part is in; every part is counted as accepted', () => {
    const direct = new Rig(0, 3, { directRequests: true });
    const put = { type: 'put', src: '8001', dst: '0000', leader: 'FFFF', MID: 'big', key: 'k',
      value: 'x'.repeat(200_000) } as Message;
    const parts = wireTexts(put, 1).map((t) => {
      const d = decodeDatagram(t);
      if (d._tag === 'Left') throw new Error(d.left.detail);
      return d.right;
    });
    expect(parts.length).toBe(7);
    for (const p of [...parts].reverse()) direct.loop.receiveValue(p);
    direct.loop.receiveValue(parts[0]); // a duplicate part of a message already whole
    const steps = direct.steps.filter((s) => s.event.type === 'put');
    expect(steps.map((s) => (s.event as { value?: string }).value?.length)).toEqual([200_000]);
    expect(direct.loop.intake).toMatchObject({ received: 8, accepted: 8 });
    // the simulator-routed protocol has no fragments (its messages fit a datagram)
    const routed = new Rig();
    for (const p of parts) routed.loop.receiveValue(p);
    expect(routed.loop.dropped.get('not-in-protocol')).toBe(7);
    expect(routed.steps.filter((s) => s.event.type === 'put')).toEqual([]);
    // a whole message refused once assembled: its last part counts as dropped, not accepted
    const refusing = new Rig(0, 3, { directRequests: true,
      peers: new Map([['0001' as NodeId, { host: '127.0.0.1', port: 7101 }]]) });
    const fromReplica = wireTexts({ ...put, src: '0000' } as Message, 2).map((t) => {
      const d = decodeDatagram(t);
      if (d._tag === 'Left') throw new Error(d.left.detail);
      return d.right;
    });
    for (const p of fromReplica) refusing.loop.receiveValue(p, { host: '127.0.0.1', port: 9 });
    const { received, accepted } = refusing.loop.intake;
    const dropped = [...refusing.loop.dropped.values()].reduce((n, k) => n + k, 0);
    expect([received, accepted, dropped]).toEqual([7, 6, 1]);
  });

  it('a part that claims a peer must come from its address and, with a secret, be signed; a ' +
    'part for another replica is refused', () => {
    const peers = new Map([['0001' as NodeId, { host: '127.0.0.1', port: 7101 }]]);
    const r = new Rig(0, 3, { directRequests: true, peers, auth: signer('a secret') });
    const fromPeer = wireTexts({ type: 'AppendEntriesRequest', src: '0001', dst: '0000',
      leader: '0001', term: 1, prevLogIndex: 0, prevLogTerm: 0, leaderCommit: 0, readRound: 0,
      entries: [{ term: 1, cmd: { kind: 'put', client: '8001', session: 0, seq: 1, key: 'k',
        value: 'v'.repeat(100_000) } }] } as Message, 1).map((t) => {
      const d = decodeDatagram(t);
      if (d._tag === 'Left') throw new Error(d.left.detail);
      return d.right;
    });
    const [first] = fromPeer;
    r.loop.receiveValue(first, { host: '127.0.0.1', port: 7101 }); // not signed
    r.loop.receiveValue(first, { host: '127.0.0.1', port: 7999 }); // not its address
    expect(Object.fromEntries(r.loop.dropped)).toEqual({ 'bad-mac': 1, 'unknown-peer': 1 });
    expect(r.loop.peerFragments.pending + r.loop.clientFragments.pending).toBe(0);
    const open = new Rig(0, 3, { directRequests: true, peers });
    open.loop.receiveValue({ ...first, dst: '0002' }, { host: '127.0.0.1', port: 7101 });
    expect(Object.fromEntries(open.loop.dropped)).toEqual({ 'wrong-dst': 1 });
  });

  it('[§6.3] answers go to the address each request came from, even for two clients that ' +
    'picked one wire id', () => {
    const peers = new Map([['0001' as NodeId, { host: '127.0.0.1', port: 7101 }],
      ['0002' as NodeId, { host: '127.0.0.1', port: 7102 }]]);
    const r = new Rig(0, 3, { directRequests: true, peers });
    for (const [mid, port] of [['a', 9001], ['b', 9002], ['c', 9001]] as const) {
      r.loop.receiveValue({ type: 'get', src: '8001', dst: '0000', leader: 'FFFF', MID: mid,
        key: 'k' }, { host: '127.0.0.1', port });
    }
    // held while no leader is heard from; a campaign round that fails sends them back
    for (let ms = 10; ms <= 2000 && r.types('redirect').length < 3; ms += 10) r.advance(ms);
    const answers = r.sent.filter((x) => x.message.type === 'redirect')
      .map((x) => [(x.message as { MID: string }).MID, x.to?.port]);
    expect(answers).toEqual([['a', 9001], ['b', 9002], ['c', 9001]]);
  });

  it('[§6.3] a write that names a session but no request number is refused as invalid: the ' +
    'session would take it for a copy already applied, and answer ok for nothing', () => {
    const r = new Rig(0, 3, { directRequests: true });
    r.arrive({ type: 'put', src: '8001', MID: 'p1', key: 'k', value: 'v', session: 4 });
    r.arrive({ type: 'put', src: '8001', MID: 'p2', key: 'k', value: 'v', session: 4, seq: 0 });
    r.arrive({ type: 'put', src: '8001', MID: 'p3', key: 'k', value: 'v', session: 4, seq: 1 });
    expect(r.loop.dropped.get('invalid')).toBe(2);
    expect(r.steps.filter((s) => s.event.type === 'put').map((s) =>
      (s.event as { MID: string }).MID)).toEqual(['p3']);
  });

  it('direct mode reads wire formats 1 (no `v`) and 2, and drops a newer one, counted apart; ' +
    'the simulator-routed protocol neither checks nor needs one', () => {
    const get = (mid: string): Message => ({ type: 'get', src: '8001', dst: '0000',
      leader: 'FFFF', MID: mid, key: 'k' }) as Message;
    const bytes = (text: string): Buffer => Buffer.from(text);
    const direct = new Rig(0, 3, { directRequests: true });
    const [now] = wireTexts(get('now'), 1);
    expect(now?.startsWith(`{"v":${WIRE_FORMAT},"type":"get",`)).toBe(true);
    direct.loop.receive(bytes(now as string));
    direct.loop.receive(bytes(encodeMessage(get('old'))));
    direct.loop.receive(bytes(`{"v":${WIRE_FORMAT + 1},${encodeMessage(get('new')).slice(1)}`));
    direct.loop.receive(bytes(`{"v":"2",${encodeMessage(get('bad')).slice(1)}`));
    // a newer format whose fields are not even strings: refused, never stringified
    direct.loop.receive(bytes(`{"v":${WIRE_FORMAT + 1},"type":{"toString":0},"src":[1]}`));
    expect(direct.steps.filter((s) => s.event.type === 'get').map((s) =>
      (s.event as { MID: string }).MID)).toEqual(['now', 'old']);
    expect([direct.loop.dropped.get('newer-format'), direct.loop.dropped.get('invalid')])
      .toEqual([2, 1]);
    // every fragment of a large message carries the format too, and they still assemble
    const big = wireTexts({ ...get('big'), type: 'put', value: 'x'.repeat(100_000) } as Message, 2);
    expect(big.length).toBeGreaterThan(1);
    for (const t of big) expect(t.startsWith(`{"v":${WIRE_FORMAT},`)).toBe(true);
    for (const t of big) direct.loop.receive(bytes(t));
    expect(direct.steps.some((s) => (s.event as { MID?: string }).MID === 'big')).toBe(true);
    const routed = new Rig();
    routed.loop.receive(bytes(`{"v":${WIRE_FORMAT + 1},${encodeMessage(get('any')).slice(1)}`));
    expect(routed.steps.filter((s) => s.event.type === 'get')).toHaveLength(1);
  });
});
