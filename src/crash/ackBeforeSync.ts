/**
 * The crash harness's broken shell (test and tool code only): a replica whose disk, as its loop
 * sees it, says every write is durable before it is.
 */
import type { PersistWrite } from '../core/persisted.js';
import type { Durability } from '../replica/loop.js';

/**
 * `ackBeforeSync`: the disk as the replica loop sees it says every write is durable at once, and
 * the write reaches the file 200 ms later, so a crash loses writes whose effects were seen.
 */
export function ackBeforeSync(wal: Durability, onError: (e: Error) => void = (e) => {
  console.error(`the write-ahead log failed (${e.message}); stopping`);
  process.exit(1);
}, delayMs = 200): Durability {
  const queue: (readonly PersistWrite[])[] = [];
  let busy = false;
  const next = (): void => {
    if (busy) return; // the batch waits its turn: the log takes one append at a time
    const writes = queue.shift();
    if (writes === undefined) return;
    busy = true;
    wal.append(writes, (error) => {
      busy = false;
      if (error !== undefined) return onError(error);
      next();
    });
  };
  return {
    append: (writes, done) => {
      setTimeout(() => { queue.push(writes); next(); }, delayMs);
      setImmediate(() => done());
    },
  };
}
