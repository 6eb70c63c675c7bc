/**
 * The persistent sequence under the log and the pending requests: every value stays as it was
 * observed, and a chain used as a queue lets go of the items it dropped (flat memory).
 */
import { describe, expect, it } from 'vitest';
import { chainOf, dropFront, push, size, toArray } from '../../src/core/chain.js';

describe('Chain', () => {
  it('a queue keeps a bounded backing array, and every value stays as observed', () => {
    let q = chainOf<number>([]);
    const seen: { chain: typeof q; items: number[] }[] = [];
    for (let i = 0; i < 100_000; i++) {
      q = push(q, [i]);
      if (size(q) > 10) q = dropFront(q, 1);
      if (i % 9973 === 0) seen.push({ chain: q, items: toArray(q) });
    }
    expect(toArray(q)).toEqual(Array.from({ length: 10 }, (_, k) => 99_990 + k));
    expect(q.backing.length).toBeLessThan(2_100);
    for (const s of seen) expect(toArray(s.chain)).toEqual(s.items);
  });
});
