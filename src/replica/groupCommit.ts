/**
 * Group commit and the output barrier: the one piece of the replica loop (`loop.ts`) that Raft's
 * safety rests on, run by every replica with a disk, in the processes and in the simulation
 * alike. Pure: no I/O, the loop does it. "Group commit" is about fsync batching only; Raft's
 * commit (an entry stored on a quorum) is the core's.
 *
 * [Fig2 "respond to RPCs only after updating stable storage"; etcd Ready: HardState and Entries
 * are saved BEFORE Messages are sent] Every message or answer waits until every write the core
 * issued before it is durable. Writes are not waited for one by one: the core keeps stepping while
 * a sync is in flight, its writes collect in the next batch, and one write and one fdatasync make
 * the whole batch durable (group commit: under load one sync covers many appends).
 *
 * Why stepping ahead of the disk is safe: nothing leaves before the writes it may depend on are
 * durable, so no peer or client ever sees state a crash could take back. A leader never counts a
 * follower's acknowledgement of an entry its own disk does not hold yet, since the entry could not
 * have reached the follower before the leader's write of it was durable.
 */
import type { PersistWrite } from '../core/persisted.js';
import type { Effect } from '../core/state.js';
import type { Message } from '../wire/messages.js';

export interface CommitIo {
  /** A message or answer may leave now. */
  emit(message: Message): void;
  /**
   * Make `writes` durable, in order, then call `synced()`. Never called again before that: the
   * writes issued meanwhile wait for the next call, as one batch.
   */
  sync(writes: readonly PersistWrite[]): void;
}

interface Waiting {
  readonly needSeq: number;
  readonly message: Message;
}

export class GroupCommit {
  /** Writes are numbered from 1 in the order the core issued them. */
  private lastSeq = 0;
  private syncedSeq = 0;
  /** The last write the sync in flight covers; undefined when none is in flight. */
  private syncingTo: number | undefined;
  private batch: PersistWrite[] = [];
  /** Messages and answers waiting for a sync, in the order the core emitted them. */
  private waiting: Waiting[] = [];

  constructor(private readonly io: CommitIo) {}

  /** A step's effects, in the order the core emitted them; starts a sync if one is due. */
  take(effects: readonly Effect[]): void {
    for (const e of effects) {
      if (e.type === 'persist') {
        this.batch.push({ currentTerm: e.currentTerm, votedFor: e.votedFor, log: e.log });
        this.lastSeq++;
      } else if (e.type === 'send' || e.type === 'reply') {
        if (this.waiting.length === 0 && this.syncedSeq === this.lastSeq) this.io.emit(e.message);
        else this.waiting.push({ needSeq: this.lastSeq, message: e.message });
      }
    }
    this.startSync();
  }

  /** The sync in flight completed: what waited for it leaves, and the next batch starts. */
  synced(): void {
    if (this.syncingTo === undefined) throw new Error('synced() without a sync in flight');
    this.syncedSeq = this.syncingTo;
    this.syncingTo = undefined;
    let released = 0;
    while (released < this.waiting.length && (this.waiting[released] as Waiting).needSeq <= this.syncedSeq) {
      this.io.emit((this.waiting[released] as Waiting).message);
      released++;
    }
    this.waiting = released === this.waiting.length ? [] : this.waiting.slice(released);
    this.startSync();
  }

  /** Writes issued and not yet durable. */
  get unsynced(): number {
    return this.lastSeq - this.syncedSeq;
  }

  private startSync(): void {
    if (this.syncingTo !== undefined || this.batch.length === 0) return;
    const writes = this.batch;
    this.batch = [];
    this.syncingTo = this.lastSeq;
    this.io.sync(writes);
  }
}
