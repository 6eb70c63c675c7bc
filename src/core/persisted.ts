/**
 * What a replica keeps across a crash [Fig2:State "updated on stable storage before responding to
 * RPCs"]: currentTerm, votedFor and the log, its snapshot included [§7], and how one `persist`
 * effect changes it. Shared by the simulated disk and the write-ahead log, so that both replay a
 * write the same way.
 */
import { applyLogChange, emptyLog } from './log.js';
import type { Effect, Persisted } from './state.js';

/**
 * One `persist` effect without its tag: a new snapshot, if any, becomes the log's base, then the
 * log from `log.fromIndex` on is replaced.
 */
export type PersistWrite = Omit<Extract<Effect, { type: 'persist' }>, 'type'>;

/** A fresh server's state: term 0, no vote, empty log. */
export function emptyPersisted(): Persisted {
  return { currentTerm: 0, votedFor: null, log: emptyLog() };
}

/** `p` after the write `w`; `w.log` undefined leaves the log as it is. */
export function applyWrite(p: Persisted, w: PersistWrite): Persisted {
  const log = w.log === undefined ? p.log : applyLogChange(p.log, w.log);
  return { currentTerm: w.currentTerm, votedFor: w.votedFor, log };
}
