/**
 * Large values over a lossy network, in virtual time: three replica loops joined by a network that
 * cuts every message as the direct transport does (`wireTexts`), then drops, duplicates and
 * reorders the datagrams one by one. A put of a large value must still be answered `ok`, and every
 * replica must come to hold it: a lost part loses its send, and the next send of the same message
 * (a heartbeat's AppendEntries, the client's retry) fills the gaps.
 */
import { describe, expect, it } from 'vitest';
import type { Message, NodeId } from '../../src/wire/messages.js';
import { decodeMessage } from '../../src/wire/codec.js';
import { Defragmenter, wireTexts } from '../../src/wire/fragments.js';
import { kvGet } from '../../src/core/kv.js';
import { Rng } from '../../src/fault/rng.js';
import { ReplicaLoop } from '../../src/replica/loop.js';

const IDS = ['0000', '0001', '0002'] as NodeId[];
const CLIENT = '8001' as NodeId;

interface Event { readonly atMs: number; readonly order: number; readonly fn: () => void }

/** One seed's run; what it saw. */
function run(seed: number, value: string) {
  const rng = new Rng(seed);
  let nowMs = 0;
  let order = 0;
  let queue: Event[] = [];
  const at = (atMs: number, fn: () => void): (() => void) => {
    let live = true;
    queue.push({ atMs: Math.max(atMs, nowMs), order: order++, fn: () => { if (live) fn(); } });
    return () => { live = false; };
  };
  const stats = { datagrams: 0, dropped: 0, duplicated: 0 };
  const answers: Message[] = [];
  const atClient = new Defragmenter();
  let fragmentId = 0;
  const loops = new Map<string, ReplicaLoop>();
  /** Every datagram of `m`, each lost (20 %), doubled (10 %) and delayed (0.1-3 ms) alone. */
  const send = (m: Message): void => {
    for (const text of wireTexts(m, fragmentId++)) {
      const copies = rng.chance(0.2) ? 0 : rng.chance(0.1) ? 2 : 1;
      stats.datagrams++;
      if (copies === 0) stats.dropped++;
      if (copies === 2) stats.duplicated++;
      for (let c = 0; c < copies; c++) {
        at(nowMs + 0.1 + rng.float() * 2.9, () => {
          const value: unknown = JSON.parse(text);
          if (m.dst === CLIENT) return receiveAtClient(value);
          const targets = m.dst === 'FFFF' ? IDS.filter((id) => id !== m.src) : [m.dst];
          for (const id of targets) loops.get(id)?.receiveValue(value);
        });
      }
    }
  };
  const receiveAtClient = (value: unknown): void => {
    const d = decodeMessage(value);
    if (d._tag === 'Left') throw new Error(d.left.detail);
    let m = d.right;
    if (m.type === 'Fragment') {
      const r = atClient.accept(m);
      if (r.kind !== 'complete') return;
      const whole = decodeMessage(r.value);
      if (whole._tag === 'Left') throw new Error(whole.left.detail);
      m = whole.right;
    }
    answers.push(m);
  };
  for (const id of IDS) {
    loops.set(id, new ReplicaLoop({
      config: { id, peers: IDS.filter((p) => p !== id), absentAsEmpty: false },
      seed: seed * 7 + IDS.indexOf(id), tickMs: 10,
      clock: { now: () => nowMs, at, afterBatch: (fn) => { at(nowMs, fn); } },
      transport: { send: (m) => send(m) },
      admission: { directRequests: true },
      onFatal: (e) => { throw e; },
    }));
  }
  /** Runs the events due up to `untilMs`, in time order. */
  const advance = (untilMs: number): void => {
    for (;;) {
      queue.sort((a, b) => a.atMs - b.atMs || a.order - b.order);
      const next = queue[0];
      if (next === undefined || next.atMs > untilMs) break;
      queue = queue.slice(1);
      nowMs = next.atMs;
      next.fn();
    }
    nowMs = untilMs;
  };
  const leader = (): NodeId | undefined => IDS.find((id) => loops.get(id)?.role === 'Leader');
  for (let t = 0; t < 20_000 && leader() === undefined; t += 50) advance(t);
  // the client, as KvClient: the put every 500 ms until it is answered ok, under the same seq; to
  // the same replica, the same datagrams (their parts fill its gaps), else under a new MID
  let attempt = 0;
  let sends = 0;
  let last: NodeId | undefined;
  let okAt: number | undefined;
  for (let t = nowMs; t < nowMs + 30_000 && okAt === undefined; t += 500) {
    const to = leader() ?? IDS[attempt % 3] as NodeId;
    if (to !== last) attempt++;
    last = to;
    sends++;
    send({ type: 'put', src: CLIENT, dst: to, leader: 'FFFF', MID: `put.${attempt}`, key: 'big',
      value, seq: 1 } as Message);
    advance(t + 500);
    if (answers.some((a) => a.type === 'ok')) okAt = nowMs;
  }
  advance(nowMs + 5000); // the followers catch up
  const held = IDS.map((id) => {
    const s = (loops.get(id) as ReplicaLoop).state;
    return kvGet(s.kv, s.log, 'big') === value;
  });
  for (const l of loops.values()) l.stop();
  return { stats, answers, okAt, sends, held };
}

describe('[loop] large values over a network that drops, duplicates and reorders datagrams', () => {
  it.each([1, 2, 3])('seed %i: the put is answered ok, and every replica holds the value',
    (seed) => {
      const value = `${seed}`.padEnd(300_000, '\u00e9x');
      const r = run(seed, value);
      console.log(`[lossy] seed ${seed}: ${r.stats.datagrams} datagrams, ${r.stats.dropped} ` +
        `dropped, ${r.stats.duplicated} duplicated; ok after ${r.sends} send(s) of the put`);
      expect(r.okAt).toBeDefined();
      // a whole message had each of its ~15 parts lost with 20 %: without the gaps filled by
      // the next send, it would take ~30 sends (0.8^15) to get one through
      expect(r.sends).toBeLessThanOrEqual(10);
      expect(r.stats.dropped).toBeGreaterThan(10);
      expect(r.held).toEqual([true, true, true]);
      expect(r.answers.filter((a) => a.type === 'ok').length).toBeGreaterThan(0);
    }, 60_000);
});
