/** Real time for the replica loop (`loop.ts`): Node's monotonic clock and timers. */
import type { Clock } from './loop.js';

export const realClock: Clock = {
  now: () => performance.now(),
  at: (atMs, fn) => {
    const timer = setTimeout(fn, Math.max(0, atMs - performance.now()));
    return () => clearTimeout(timer);
  },
  afterBatch: (fn) => { setImmediate(fn); },
};
