import { describe, expect, it } from 'vitest';
import type { ClientResponse, NodeId } from '../../src/wire/messages.js';
import { ExplorerClients, kvLinearizable } from '../../src/explorer/history.js';

const R = '0000' as NodeId;
const C = '00C0' as NodeId;
const ok = (MID: string, value?: string): ClientResponse => ({ src: R, dst: C, leader: R, type: 'ok',
  MID, ...(value === undefined ? {} : { value }) });

/** The explorer's clients, with the test's short form of `invoke`. */
class Clients extends ExplorerClients {
  override invoke(mid: string, kind: 'get' | 'put', key: string, value?: string): void {
    super.invoke(mid, kind, key, value, C, R);
  }
}

describe('[kvLinearizable] the history property the spec states, over the fault model\'s history',
  () => {
  it('accepts a read of the last acknowledged put', () => {
    const h = new Clients();
    h.invoke('p1', 'put', 'x', '1'); h.answer(ok('p1'));
    h.invoke('g1', 'get', 'x'); h.answer(ok('g1', '1'));
    expect(kvLinearizable(h.history)).toBeUndefined();
  });

  it('accepts a read of a concurrent put, or of either of two concurrent acknowledged puts', () => {
    const h = new Clients();
    h.invoke('p1', 'put', 'x', '1'); h.invoke('p2', 'put', 'x', '2');
    h.answer(ok('p2')); h.answer(ok('p1'));
    h.invoke('g1', 'get', 'x'); h.answer(ok('g1', '2'));
    h.invoke('p3', 'put', 'x', '3'); h.invoke('g2', 'get', 'x'); h.answer(ok('g2', '3'));
    expect(kvLinearizable(h.history)).toBeUndefined();
  });

  it('rejects a stale read: a value overwritten before the get was sent', () => {
    const h = new Clients();
    h.invoke('p1', 'put', 'x', '1'); h.answer(ok('p1'));
    h.invoke('p2', 'put', 'x', '2'); h.answer(ok('p2'));
    h.invoke('g1', 'get', 'x'); h.answer(ok('g1', '1'));
    expect(kvLinearizable(h.history)?.mid).toBe('g1');
  });

  it('rejects a read of nothing after an acknowledged put, and a value never written', () => {
    const h = new Clients();
    h.invoke('p1', 'put', 'x', '1'); h.answer(ok('p1'));
    h.invoke('g1', 'get', 'x'); h.answer(ok('g1', ''));
    expect(kvLinearizable(h.history)?.mid).toBe('g1');
    const h2 = new Clients();
    h2.invoke('g1', 'get', 'y'); h2.answer(ok('g1', '7'));
    expect(kvLinearizable(h2.history)?.mid).toBe('g1');
  });

  it('rejects a second answer to one MID, and an answer to a MID never sent', () => {
    const h = new Clients();
    h.invoke('p1', 'put', 'x', '1');
    expect(h.answer({ ...ok('p1'), type: 'redirect' })).toBeUndefined();
    expect(h.answer(ok('p1'))?.detail).toMatch(/second answer ok after redirect/);
    expect(h.answer(ok('nope'))?.detail).toMatch(/never sent/);
  });
});
