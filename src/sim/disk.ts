/**
 * The storage model of the deterministic simulation: what a replica's disk keeps across a crash,
 * matching the write-ahead log (`disk/wal.ts`) under the shells' group commit
 * (`replica/commit.ts`). A write (currentTerm, votedFor, and the log from some index on) reaches
 * the disk when the sync of its batch starts (the WAL writes the batch then) and is durable once
 * that sync completes. At a crash, writes not yet handed to a sync are lost (they were only in
 * memory); the batch being synced is one WAL record, so it reached the disk whole or not at all
 * (the WAL's recovery cuts a torn record off the tail).
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

  /** The last write of each batch handed to a sync and not yet durable. */
  private batchEnds: number[] = [];

  write(w: Write): number {
    this.unsynced.push(w);
    return ++this.lastSeq;
  }

  /** The writes since the last batch form one batch: one WAL record, whole or torn off. */
  endBatch(): void {
    if (this.lastSeq > (this.batchEnds.at(-1) ?? this.syncedSeq)) this.batchEnds.push(this.lastSeq);
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
    this.batchEnds = this.batchEnds.filter((end) => end > upTo);
    this.syncs++;
    this.writesSynced += n;
  }

  /** What is on disk for sure: every synced write. */
  durable(): Persisted {
    return this.durableState;
  }

  /**
   * The machine crashed: a random prefix of whole batches among the unsynced writes reached the
   * disk (a batch is one WAL record: recovery keeps it whole or cuts it off as a torn tail), the
   * rest is lost. Returns what a restart will read.
   */
  crash(rng: Rng): Persisted {
    this.endBatch();
    const ends = [this.syncedSeq, ...this.batchEnds];
    const kept = (ends[rng.int(ends.length)] as number) - this.syncedSeq;
    for (const w of this.unsynced.slice(0, kept)) {
      this.durableState = applyWrite(this.durableState, w);
    }
    this.unsynced = [];
    this.batchEnds = [];
    this.syncedSeq = this.lastSeq;
    return this.durableState;
  }
}
