/**
 * [§6.3 RegisterClient] Client sessions registered through the log (`spec/raft.qnt`: `applyCmd`,
 * `answerOf`, `expire`): a register opens the session named by its own index, a write in a session
 * is applied once per request number, and past the bound a register carries the least recently
 * used sessions expire, after which a write in them does nothing and is answered `expired`.
 */
import { describe, expect, it } from 'vitest';
import type { ClientRequest, ClientResponse, NodeId } from '../../src/wire/messages.js';
import { Cluster } from '../../src/explorer/cluster.js';
import { applyUpTo, emptyKv, EXPIRED, kvData, kvFromSnapshot, kvSessions, takeSnapshotOf,
  type Applied } from '../../src/core/kv.js';
import { logOf } from '../../src/core/log.js';
import type { Entry } from '../../src/wire/messages.js';

const C = '8001' as NodeId;
const register = (keep: number, client = C): Entry =>
  ({ term: 1, cmd: { kind: 'register', client, seq: 1, keep } }) as Entry;
const put = (session: number, seq: number, value: string, key = 'k'): Entry =>
  ({ term: 1, cmd: { kind: 'put', client: C, session, seq, key, value } }) as Entry;
const del = (session: number, seq: number, key = 'k'): Entry =>
  ({ term: 1, cmd: { kind: 'del', client: C, session, seq, key } }) as Entry;

/** Apply `entries` from an empty state machine; what each answered, by index. */
function applied(entries: Entry[]): { answers: Applied['value'][]; log: ReturnType<typeof logOf>;
  kv: ReturnType<typeof emptyKv> } {
  const log = logOf(entries);
  const answers: Applied['value'][] = [];
  const kv = applyUpTo(emptyKv(), log, entries.length, (a) => { answers[a.index] = a.value; });
  return { answers, log, kv };
}

describe('[§6.3] the session table', () => {
  it('a register opens the session named by its index; two clients with one id get two', () => {
    const { kv, log } = applied([register(8), register(8), put(1, 5, 'a'), put(2, 5, 'b')]);
    // the same client id and the same seq in two sessions: two different requests
    expect([...kvSessions(kv, log)]).toEqual([[1, { seq: 5, value: null, last: 3 }],
      [2, { seq: 5, value: null, last: 4 }]]);
    expect(kvData(kv, log)).toEqual(new Map([['k', 'b']]));
  });

  it('a write is applied once per seq in its session; a copy gets the answer its session kept', () => {
    const { answers, kv, log } = applied([register(8), put(1, 1, 'a'), del(1, 2),
      put(1, 1, 'a'), del(1, 2), put(1, 3, 'c')]);
    // the del found 'a'; its copy (and the put's stale one, whose client has moved on) get that
    expect(answers.slice(2)).toEqual(['a', 'a', 'a', 'a', 'c']);
    expect(kvData(kv, log)).toEqual(new Map([['k', 'c']]));
  });

  it('past its bound a register expires the least recently used; a write there does nothing', () => {
    // sessions 1 and 2 open; 1 writes (used at 3); 4 opens and expires 2, the one idle longest
    const { answers, kv, log } = applied([register(2), register(2), put(1, 1, 'a'),
      register(2), put(2, 1, 'b'), put(4, 1, 'd', 'j')]);
    expect([...kvSessions(kv, log).keys()]).toEqual([1, 4]);
    expect(answers[5]).toBe(EXPIRED);
    expect(kvData(kv, log)).toEqual(new Map([['k', 'a'], ['j', 'd']]));
  });

  it('a session never comes back: its id is an index, and only a register opens one', () => {
    const { answers, kv, log } = applied([register(1), register(1), put(1, 1, 'a'),
      put(7, 1, 'x')]);
    expect([answers[3], answers[4]]).toEqual([EXPIRED, EXPIRED]);
    expect([...kvSessions(kv, log).keys()]).toEqual([2]);
    expect(kvData(kv, log).size).toBe(0);
  });

  it('a bound stamped lower by a later leader expires as many as it must, oldest first', () => {
    const { kv, log } = applied([register(9), register(9), register(9), put(1, 1, 'a'),
      register(2)]);
    expect([...kvSessions(kv, log).keys()]).toEqual([1, 5]);
  });

  it('a snapshot keeps the order of use: the restored table expires the same session', () => {
    const entries = [register(3), register(3), register(3), put(1, 1, 'a')];
    const { kv, log } = applied(entries);
    const snap = takeSnapshotOf(kv, log);
    const after = [register(3)];
    const restored = applyUpTo(kvFromSnapshot(snap), logOf([...entries, ...after]), 5);
    const direct = applied([...entries, ...after]);
    expect([...kvSessions(restored, logOf([...entries, ...after]))])
      .toEqual([...kvSessions(direct.kv, direct.log)]);
    expect([...kvSessions(direct.kv, direct.log).keys()]).toEqual([3, 1, 5]);
  });
});

describe('[§6.3] a leader answers a register with its session, an expired write with expired', () => {
  const elected = (): { c: Cluster; leader: NodeId } => {
    const c = new Cluster(3, { maxSessions: 1 }, 1);
    const leader = c.ids[0] as NodeId;
    c.event(leader, { type: 'ElectionTimeout' });
    for (let i = 0; i < 8; i++) for (const k of c.inFlightKeys()) c.deliver(k);
    expect(c.role(leader)).toBe('Leader');
    return { c, leader };
  };
  const send = (c: Cluster, leader: NodeId, m: Partial<ClientRequest>): ClientResponse[] => {
    const before = c.replies.length;
    c.event(leader, { src: C, dst: leader, leader, ...m } as ClientRequest);
    c.event(leader, { type: 'Flush' });
    for (let i = 0; i < 6; i++) for (const k of c.inFlightKeys()) c.deliver(k);
    return c.replies.slice(before);
  };

  it('registers, writes in the session, and is told when a newer register expired it', () => {
    const { c, leader } = elected();
    const [first] = send(c, leader, { type: 'register', MID: 'r1', seq: 1 });
    expect(first).toMatchObject({ type: 'ok', MID: 'r1', session: 2 }); // index 1 is the no-op
    expect(send(c, leader, { type: 'put', MID: 'p1', key: 'k', value: 'v', session: 2, seq: 2 }))
      .toMatchObject([{ type: 'ok', MID: 'p1' }]);
    // another client with the same id registers: with one session kept, session 2 expires
    expect(send(c, leader, { type: 'register', MID: 'r2', seq: 1 }))
      .toMatchObject([{ type: 'ok', session: 4 }]);
    const [expired] = send(c, leader, { type: 'put', MID: 'p2', key: 'k', value: 'w', session: 2,
      seq: 3 });
    expect(expired).toEqual({ src: leader, dst: C, leader, type: 'expired', MID: 'p2' });
    expect(kvData(c.state(leader).kv, c.state(leader).log)).toEqual(new Map([['k', 'v']]));
    // every replica applies the same: the register entry carries the leader's bound
    c.event(leader, { type: 'Replicate', to: c.ids.filter((id) => id !== leader) });
    for (let i = 0; i < 4; i++) for (const k of c.inFlightKeys()) c.deliver(k);
    for (const id of c.ids) {
      expect([...kvSessions(c.state(id).kv, c.state(id).log).keys()]).toEqual([4]);
    }
  });
});
