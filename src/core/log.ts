/**
 * The Raft log: a snapshot of the state machine up to some index, and the entries after it
 * [§7 Log compaction]. Indexes are 1-based log indexes and never change meaning: the entry at
 * index i sits at offset `i - snapshot.index - 1` of `entries`. A fresh log has the empty
 * snapshot at index 0 and term 0.
 */
import { TERM_RUNS_KEPT, type Configuration, type Entry, type LogIndex, type Snapshot, type Term,
  type TermRun } from '../wire/messages.js';
import {
  at, chainOf, emptyChain, push, size, slice, toArray, truncate, type Chain,
} from './chain.js';

export const emptySnapshot: Snapshot = { index: 0 as LogIndex, term: 0 as Term, kv: [],
  sessions: [], terms: [] };

export interface RaftLog {
  readonly snapshot: Snapshot;
  /** The entries after `snapshot.index`, in index order. */
  readonly entries: Chain<Entry>;
  /**
   * [D§4.1] The configuration the log leads to: its last change's (committed or not: a change
   * takes effect when appended), else its snapshot's; undefined when neither names one (the
   * bootstrap's, which the core knows: `membership` in state.ts). Kept with every change of the
   * log, so that reading it costs nothing.
   */
  readonly config: Configuration | undefined;
  /** The index of that last change; the snapshot's index when none follows it. */
  readonly configIndex: number;
}

/** The configuration of the log up to `index` (above the snapshot): scanned back from there. */
function configUpTo(snapshot: Snapshot, entries: Chain<Entry>, index: number):
  Pick<RaftLog, 'config' | 'configIndex'> {
  for (let i = Math.min(index, snapshot.index + size(entries)); i > snapshot.index; i--) {
    const cmd = (at(entries, i - snapshot.index - 1) as Entry).cmd;
    if (cmd.kind === 'config') return { config: cmd, configIndex: i };
  }
  return { config: snapshot.config, configIndex: snapshot.index };
}

/** A log of `snapshot` and `entries`, its configuration found by scanning. */
function scanned(snapshot: Snapshot, entries: Chain<Entry>): RaftLog {
  return { snapshot, entries, ...configUpTo(snapshot, entries, Infinity) };
}

/** `base` with `entries` appended: the configuration is the last change among them, if any. */
function appended(base: RaftLog, entries: readonly Entry[]): RaftLog {
  let { config, configIndex } = base;
  const first = lastLogIndex(base) + 1;
  for (let k = entries.length - 1; k >= 0; k--) {
    const cmd = (entries[k] as Entry).cmd;
    if (cmd.kind === 'config') {
      config = cmd;
      configIndex = first + k;
      break;
    }
  }
  return { snapshot: base.snapshot, entries: push(base.entries, entries), config, configIndex };
}

/** [D§4.1] The configuration as of `index` (at least the snapshot's): what a snapshot keeps. */
export function configAt(log: RaftLog, index: number): Configuration | undefined {
  return index >= log.configIndex ? log.config
    : configUpTo(log.snapshot, log.entries, index).config;
}

/** A snapshot's `config` field: absent for the bootstrap's (undefined). */
export const withConfig = (config: Configuration | undefined): { config?: Configuration } =>
  (config === undefined ? {} : { config });

export function emptyLog(): RaftLog {
  return { snapshot: emptySnapshot, entries: emptyChain(), config: undefined, configIndex: 0 };
}

/** A log without a snapshot holding `entries` from index 1 (tests and replays). */
export function logOf(entries: readonly Entry[]): RaftLog {
  return scanned(emptySnapshot, chainOf(entries));
}

export function snapshotIndex(log: RaftLog): number {
  return log.snapshot.index;
}

export function lastLogIndex(log: RaftLog): number {
  return log.snapshot.index + size(log.entries);
}

/**
 * Term of the entry at `index`: the snapshot's term at its own index; 0 for index 0, for indexes
 * past the end and for indexes the snapshot covers (their terms are gone; callers that could ask
 * check `snapshotIndex` first).
 */
export function termAt(log: RaftLog, index: number): number {
  if (index === log.snapshot.index) return log.snapshot.term;
  return index <= log.snapshot.index ? 0 : (at(log.entries, index - log.snapshot.index - 1)?.term
    ?? 0);
}

/**
 * [§7] The runs of terms a snapshot at `index` keeps: the log's snapshot's runs extended by the
 * terms of the entries after it up to `index` (which the log must hold), the newest
 * `TERM_RUNS_KEPT` of them.
 */
export function termRunsUpTo(log: RaftLog, index: number): readonly TermRun[] {
  const runs = log.snapshot.terms.slice();
  for (let i = log.snapshot.index + 1; i <= index; i++) {
    const term = termAt(log, i) as Term;
    if (runs.length === 0 || (runs[runs.length - 1] as TermRun).term !== term) {
      runs.push({ index: i as LogIndex, term });
    }
  }
  return runs.length <= TERM_RUNS_KEPT ? runs : runs.slice(runs.length - TERM_RUNS_KEPT);
}

/** The term at `index` (at or below the snapshot's) by the runs; 0 before the first run kept. */
export function termInRuns(runs: readonly TermRun[], index: number): number {
  let term = 0;
  for (const r of runs) {
    if (r.index > index) break;
    term = r.term;
  }
  return term;
}

export function lastLogTerm(log: RaftLog): number {
  return termAt(log, lastLogIndex(log));
}

/** The entry at `index`; undefined past the end and at indexes the snapshot covers. */
export function entryAt(log: RaftLog, index: number): Entry | undefined {
  return index <= log.snapshot.index ? undefined : at(log.entries, index - log.snapshot.index - 1);
}

/** Entries `[from, to]` (inclusive, 1-based), of those after the snapshot. */
export function entriesBetween(log: RaftLog, from: number, to: number): Entry[] {
  const base = log.snapshot.index;
  return slice(log.entries, Math.max(from, base + 1) - base - 1, to - base);
}

/** Every entry after the snapshot, as a fresh array. */
export function entriesAfterSnapshot(log: RaftLog): Entry[] {
  return toArray(log.entries);
}

export function appendEntry(log: RaftLog, entry: Entry): RaftLog {
  return appended(log, [entry]);
}

/**
 * Keep the entries up to `index` (inclusive); never below the snapshot. [D§4.1] A change cut off
 * with its entry no longer counts: the configuration reverts to the one before it.
 */
export function truncateAfter(log: RaftLog, index: number): RaftLog {
  const entries = truncate(log.entries, Math.max(0, index - log.snapshot.index));
  if (entries === log.entries) return log;
  return index >= log.configIndex ? { ...log, entries }
    : { snapshot: log.snapshot, entries, ...configUpTo(log.snapshot, entries, index) };
}

/** `entries` appended after the log truncated to `index`. */
export function replaceFrom(log: RaftLog, index: number, entries: readonly Entry[]): RaftLog {
  return appended(truncateAfter(log, index - 1), entries);
}

/**
 * [§7 Figure 13 InstallSnapshot #6 #7] The log with `snapshot` as its base: if the log holds the
 * snapshot's last entry (same index and term), the entries after it stay [Log Matching: the
 * prefixes agree]; otherwise the whole log is discarded. The kept entries get a fresh backing
 * array, so the compacted ones can be collected: memory stays flat.
 */
export function compactTo(log: RaftLog, snapshot: Snapshot): RaftLog {
  if (snapshot.index <= log.snapshot.index) return log;
  const keep = snapshot.index <= lastLogIndex(log) && termAt(log, snapshot.index) === snapshot.term;
  const entries = keep ? chainOf(slice(log.entries, snapshot.index - log.snapshot.index,
    size(log.entries))) : emptyChain<Entry>();
  return scanned(snapshot, entries);
}

/**
 * [Fig2:AE#3 §5.3] Merge `entries` that follow `prevLogIndex`: an existing entry that conflicts
 * (same index, other term) is deleted with all that follow it; a matching entry is kept, so a
 * stale or duplicated AppendEntries never truncates entries it already carries. [Fig2:AE#4] New
 * entries are appended. [§7] Entries the snapshot covers are committed, so they are skipped: the
 * leader's are the same.
 */
export function mergeEntries(log: RaftLog, prevLogIndex: number, entries: readonly Entry[]):
  RaftLog {
  let merged = log;
  for (let k = Math.max(0, log.snapshot.index - prevLogIndex); k < entries.length; k++) {
    const index = prevLogIndex + 1 + k;
    const entry = entries[k] as Entry;
    if (index <= lastLogIndex(merged)) {
      if (termAt(merged, index) === entry.term) continue;
      merged = truncateAfter(merged, index - 1);
    }
    return appended(merged, entries.slice(k));
  }
  return merged;
}

/** [§5.4.1] The election restriction: is a log ending at (lli, llt) at least as up-to-date? */
export function logUpToDate(log: RaftLog, lli: number, llt: number): boolean {
  const myTerm = lastLogTerm(log);
  return llt > myTerm || (llt === myTerm && lli >= lastLogIndex(log));
}

/**
 * The change from `before` to `after`: a new snapshot, if any, is the new base (`compactTo`), then
 * the log from `fromIndex` on is replaced by `entries`.
 */
export interface LogChange {
  readonly snapshot?: Snapshot;
  readonly fromIndex: number;
  readonly entries: Entry[];
}

export function logChange(before: RaftLog, after: RaftLog): LogChange | undefined {
  if (before === after) return undefined;
  if (before.snapshot !== after.snapshot) {
    // rare (once per snapshot): the entries after the new base are written whole
    return { snapshot: after.snapshot, fromIndex: after.snapshot.index + 1,
      entries: toArray(after.entries) };
  }
  const base = after.snapshot.index;
  const b = before.entries;
  const a = after.entries;
  const common = a.backing === b.backing ? Math.min(size(b), size(a))
    : Math.min(a.forkedAt, size(b));
  if (common === size(b) && common === size(a)) return undefined;
  return { fromIndex: base + common + 1, entries: slice(a, common, size(a)) };
}

/** `log` after the change `c` (the inverse of `logChange`). */
export function applyLogChange(log: RaftLog, c: LogChange): RaftLog {
  const based = c.snapshot === undefined ? log : compactTo(log, c.snapshot);
  return replaceFrom(based, c.fromIndex, c.entries);
}
