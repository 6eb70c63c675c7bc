/**
 * The Raft log over a persistent `Chain`. Indexes are 1-based log indexes; `offset = index - 1`.
 */
import type { Entry } from '../wire/messages.js';
import { at, emptyChain, push, size, slice, truncate, type Chain } from './chain.js';

export type RaftLog = Chain<Entry>;

export const emptyLog: () => RaftLog = emptyChain;

export function lastLogIndex(log: RaftLog): number {
  return size(log);
}

/** Term of the entry at `index`; 0 for index 0 and for indexes past the end. */
export function termAt(log: RaftLog, index: number): number {
  return index <= 0 ? 0 : (at(log, index - 1)?.term ?? 0);
}

export function lastLogTerm(log: RaftLog): number {
  return termAt(log, size(log));
}

export function entryAt(log: RaftLog, index: number): Entry | undefined {
  return at(log, index - 1);
}

/** Entries `[from, to]` (inclusive, 1-based). */
export function entriesBetween(log: RaftLog, from: number, to: number): Entry[] {
  return slice(log, from - 1, to);
}

export function appendEntry(log: RaftLog, entry: Entry): RaftLog {
  return push(log, [entry]);
}

/**
 * [Fig2:AE#3 §5.3] Merge `entries` that follow `prevLogIndex`: an existing entry that conflicts
 * (same index, other term) is deleted with all that follow it; a matching entry is kept, so a
 * stale or duplicated AppendEntries never truncates entries it already carries. [Fig2:AE#4] New
 * entries are appended.
 */
export function mergeEntries(log: RaftLog, prevLogIndex: number, entries: readonly Entry[]):
  RaftLog {
  let merged = log;
  for (let k = 0; k < entries.length; k++) {
    const index = prevLogIndex + 1 + k;
    const entry = entries[k] as Entry;
    if (index <= size(merged)) {
      if (termAt(merged, index) === entry.term) continue;
      merged = truncate(merged, index - 1);
    }
    return push(merged, entries.slice(k));
  }
  return merged;
}

/**
 * The `truncateOnEveryAppend` bug's merge, breaking [Fig2:AE#3]: the log after `prevLogIndex` is
 * replaced by `entries` even where they match, so a stale request deletes newer entries.
 */
export function truncateAndAppend(log: RaftLog, prevLogIndex: number, entries: readonly Entry[]):
  RaftLog {
  return push(truncate(log, prevLogIndex), entries);
}

/** [§5.4.1] The election restriction: is a log ending at (lli, llt) at least as up-to-date? */
export function logUpToDate(log: RaftLog, lli: number, llt: number): boolean {
  const myTerm = lastLogTerm(log);
  return llt > myTerm || (llt === myTerm && lli >= size(log));
}

/** The change from `before` to `after`: the log from `fromIndex` on was replaced by `entries`. */
export interface LogChange {
  readonly fromIndex: number;
  readonly entries: Entry[];
}

export function logChange(before: RaftLog, after: RaftLog): LogChange | undefined {
  if (before === after) return undefined;
  const common = after.backing === before.backing
    ? Math.min(size(before), size(after))
    : Math.min(after.forkedAt, size(before));
  if (common === size(before) && common === size(after)) return undefined;
  return { fromIndex: common + 1, entries: slice(after, common, size(after)) };
}
