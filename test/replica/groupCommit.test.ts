/**
 * [Fig2 "respond after persisting"; etcd Ready] The group commit every shell uses: a message waits
 * for every write issued before it, and writes issued during a sync share the next one.
 */
import { describe, expect, it } from 'vitest';
import type { Effect } from '../../src/core/state.js';
import { GroupCommit } from '../../src/replica/groupCommit.js';
import type { PersistWrite as Write } from '../../src/core/persisted.js';
import type { Message } from '../../src/wire/messages.js';

const persist = (term: number): Effect =>
  ({ type: 'persist', currentTerm: term, votedFor: null, log: undefined });
const send = (n: number): Effect =>
  ({ type: 'send', message: { type: 'hello', n } as unknown as Message }) as Effect;

function gate(): { g: GroupCommit; out: number[]; syncs: Write[][] } {
  const out: number[] = [];
  const syncs: Write[][] = [];
  const g = new GroupCommit({
    emit: (m) => out.push((m as unknown as { n: number }).n),
    sync: (writes) => syncs.push([...writes]),
  });
  return { g, out, syncs };
}

describe('[Fig2 respond after persisting] group commit', () => {
  it('sends at once when nothing is unsynced', () => {
    const { g, out, syncs } = gate();
    g.take([send(1), send(2)]);
    expect(out).toEqual([1, 2]);
    expect(syncs).toEqual([]);
  });

  it('holds a message until the writes issued before it are durable, in emission order', () => {
    const { g, out, syncs } = gate();
    g.take([send(1), persist(1), send(2)]);
    expect(out).toEqual([1]);
    expect(syncs.map((b) => b.map((w) => w.currentTerm))).toEqual([[1]]);
    g.take([send(3)]); // no write of its own, but it must not overtake message 2
    expect(out).toEqual([1]);
    g.synced();
    expect(out).toEqual([1, 2, 3]);
    expect(g.unsynced).toBe(0);
  });

  it('one sync per batch: writes issued while a sync runs are synced together next', () => {
    const { g, out, syncs } = gate();
    g.take([persist(1), send(1)]);
    g.take([persist(2), send(2)]);
    g.take([persist(3), send(3)]);
    expect(syncs.length).toBe(1);
    g.synced();
    expect(out).toEqual([1]);
    expect(syncs.map((b) => b.map((w) => w.currentTerm))).toEqual([[1], [2, 3]]);
    g.synced();
    expect(out).toEqual([1, 2, 3]);
  });

  it('a sync reported without one in flight is a shell bug, not ignored', () => {
    expect(() => gate().g.synced()).toThrow(/without a sync/);
  });
});
