/**
 * What a replica keeps across a crash [Fig2:State "updated on stable storage before responding to
 * RPCs"]: currentTerm, votedFor and the log, and how one `persist` effect changes it. Shared by
 * the simulated disk and the write-ahead log, so that both replay a write the same way.
 */
import { chainOf, push, truncate } from './chain.js';
import type { Effect, Persisted } from './state.js';

/** One `persist` effect without its tag: the log from `log.fromIndex` on is replaced. */
export type PersistWrite = Omit<Extract<Effect, { type: 'persist' }>, 'type'>;

/** A fresh server's state: term 0, no vote, empty log. */
export function emptyPersisted(): Persisted {
  return { currentTerm: 0, votedFor: null, log: chainOf([]) };
}

/** `p` after the write `w`; `w.log` undefined leaves the log as it is. */
export function applyWrite(p: Persisted, w: PersistWrite): Persisted {
  const log = w.log === undefined ? p.log
    : push(truncate(p.log, w.log.fromIndex - 1), w.log.entries);
  return { currentTerm: w.currentTerm, votedFor: w.votedFor, log };
}
