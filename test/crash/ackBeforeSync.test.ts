/**
 * The crash harness's broken shell (`src/crash/ackBeforeSync.ts`) must break exactly one thing:
 * it says a write is durable before it is. Every write must still reach the log, in order, one
 * append at a time; a wrapper that lost writes would be caught for the wrong reason.
 */
import { describe, expect, it } from 'vitest';
import type { PersistWrite } from '../../src/core/persisted.js';
import { ackBeforeSync } from '../../src/crash/ackBeforeSync.js';
import type { Durability } from '../../src/replica/loop.js';

const w = (term: number): PersistWrite => ({ currentTerm: term, votedFor: null, log: undefined });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('[crash] ackBeforeSync', () => {
  it('acknowledges at once, then appends every batch, in order, never two at a time', async () => {
    const appended: number[] = [];
    let inFlight = 0;
    let overlaps = 0;
    const slowDisk: Durability = {
      append: (writes, done) => {
        if (++inFlight > 1) overlaps++;
        setTimeout(() => {
          appended.push(...writes.map((x) => x.currentTerm));
          inFlight--;
          done();
        }, 15); // slower than the batches arrive
      },
    };
    const errors: Error[] = [];
    const lying = ackBeforeSync(slowDisk, (e) => errors.push(e), 5);
    const acked: number[] = [];
    for (let t = 1; t <= 10; t++) {
      lying.append([w(t)], () => acked.push(t));
      await sleep(2);
    }
    expect(acked).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]); // said durable, none written yet
    expect(appended.length).toBeLessThan(10);
    for (let k = 0; k < 100 && appended.length < 10; k++) await sleep(10);
    expect(appended).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(overlaps).toBe(0);
    expect(errors).toEqual([]);
  });
});
