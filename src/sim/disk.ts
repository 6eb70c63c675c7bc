/**
 * The storage model of the deterministic simulation: what a replica's disk keeps across a crash,
 * matching the write-ahead log (`disk/wal.ts`) under the shells' group commit
 * (`replica/commit.ts`). A write (currentTerm, votedFor, and the log from some index on) reaches
 * the disk when the sync of its batch starts (the WAL writes the batch then) and is durable once
 * that sync completes. At a crash, writes not yet handed to a sync are lost (they were only in
 * memory); of the batch being synced, a prefix of whole writes may have reached the disk anyway
 * (the WAL's recovery cuts a torn record off the tail, keeping exactly such a prefix).
 */
import { applyWrite, emptyPersisted, type PersistWrite } from '../core/persisted.js';
import type { Persisted } from '../core/state.js';
import type { Rng } from '../fault/rng.js';

export type Write = PersistWrite;

export class Disk {
  private durableState: Persisted = emptyPersisted();
  /** Writes not yet durable, oldest first; `unsynced[0]` has number `syncedSeq + 1`. */
  private unsynced: Write[] = [];
  private syncedSeq = 0;
  /** The number of the last write issued. */
  lastSeq = 0;
  /** Syncs completed and writes they made durable: group-commit figures. */
  syncs = 0;
  writesSynced = 0;

  write(w: Write): number {
    this.unsynced.push(w);
    return ++this.lastSeq;
  }

  get synced(): number {
    return this.syncedSeq;
  }

  /** A sync that started when `upTo` was the last write has completed. */
  syncedUpTo(upTo: number): void {
    const n = upTo - this.syncedSeq;
    if (n <= 0) return;
    for (const w of this.unsynced.slice(0, n)) {
      this.durableState = applyWrite(this.durableState, w);
    }
    this.unsynced = this.unsynced.slice(n);
    this.syncedSeq = upTo;
    this.syncs++;
    this.writesSynced += n;
  }

  /** What is on disk for sure: every synced write. */
  durable(): Persisted {
    return this.durableState;
  }

  /**
   * The machine crashed: a random prefix of the unsynced writes reached the disk, the rest is
   * lost. Returns what a restart will read.
   */
  crash(rng: Rng): Persisted {
    const kept = rng.int(this.unsynced.length + 1);
    for (const w of this.unsynced.slice(0, kept)) {
      this.durableState = applyWrite(this.durableState, w);
    }
    this.unsynced = [];
    this.syncedSeq = this.lastSeq;
    return this.durableState;
  }
}
