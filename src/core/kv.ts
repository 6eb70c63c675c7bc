/**
 * The key-value state machine with its client-session table [§6.3 Raft dissertation]: a command
 * that carries a client id and a request number (`seq > 0`) is applied at most once; a retry of
 * the last request is answered from the session with the answer it first got. `seq = 0` opts out
 * of sessions (the simulator-routed protocol gives every request a fresh MID, never retrying one).
 *
 * Deviation from "immutable values only": the maps are mutated in place by the newest state, and an
 * older state that still points at them notices (its `version` no longer matches) and rebuilds its
 * view by replaying the committed log. Observably every state stays immutable; the common path (one
 * state after another, as in a replica) never copies the maps.
 */
import type { Cmd, LogIndex, NodeId, Session, Snapshot, Term } from '../wire/messages.js';
import { entryAt, termAt, termRunsUpTo, type RaftLog } from './log.js';

class KvStore {
  readonly data = new Map<string, string>();
  readonly sessions = new Map<NodeId, Session>();
  version = 0;
}

export interface KvState {
  readonly store: KvStore;
  readonly version: number;
  /** The index of the last applied entry. */
  readonly appliedIndex: number;
}

export function emptyKv(): KvState {
  return { store: new KvStore(), version: 0, appliedIndex: 0 };
}

/** The outcome of applying one command: the answer a client gets. */
export interface Applied {
  readonly index: number;
  readonly cmd: Cmd;
  /**
   * The value written (put), or found (get, del, cas: `null` when the key was absent); for a
   * duplicate, the answer its first copy got; undefined for a no-op. `spec/raft.qnt`: `answerOf`.
   */
  readonly value: string | null | undefined;
}

/** `spec/raft.qnt`: `applyCmd` and `answerOf`. */
function applyOne(store: KvStore, cmd: Cmd): string | null | undefined {
  if (cmd.kind === 'noop') return undefined;
  const session = cmd.seq > 0 ? store.sessions.get(cmd.client) : undefined;
  // a duplicate is applied once: it gets the answer the first one got
  if (session !== undefined && session.seq >= cmd.seq) return session.value;
  const found = store.data.get(cmd.key) ?? null;
  let value = found;
  if (cmd.kind === 'put') {
    store.data.set(cmd.key, cmd.value);
    value = cmd.value;
  } else if (cmd.kind === 'del') {
    store.data.delete(cmd.key);
  } else if (cmd.kind === 'cas' && found === cmd.expected) {
    store.data.set(cmd.key, cmd.value);
  }
  if (cmd.seq > 0) store.sessions.set(cmd.client, { seq: cmd.seq, value });
  return value;
}

function storeOf(snapshot: Snapshot): KvStore {
  const store = new KvStore();
  for (const [k, v] of snapshot.kv) store.data.set(k, v);
  for (const [c, session] of snapshot.sessions) store.sessions.set(c, session);
  return store;
}

/** [§7] The state machine as a snapshot holds it: its index, nothing applied beyond. */
export function kvFromSnapshot(snapshot: Snapshot): KvState {
  return { store: storeOf(snapshot), version: 0, appliedIndex: snapshot.index };
}

const byKey = <V>(a: readonly [string, V], b: readonly [string, V]): number =>
  (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/**
 * [§7] A snapshot of the applied state: every key and session, sorted, at `appliedIndex`, whose
 * entry `log` must still hold (or be the snapshot's own). Copies the maps: O(keys + sessions).
 */
export function takeSnapshotOf(kv: KvState, log: RaftLog): Snapshot {
  const store = ownStore(kv, log);
  return {
    index: kv.appliedIndex as LogIndex,
    term: termAt(log, kv.appliedIndex) as Term,
    kv: [...store.data.entries()].sort(byKey),
    sessions: [...store.sessions.entries()].sort(byKey),
    terms: termRunsUpTo(log, kv.appliedIndex),
  };
}

/**
 * A store that reflects `kv`: the shared one if `kv` is its newest view, else a copy rebuilt from
 * the log's snapshot and the entries after it.
 */
function ownStore(kv: KvState, log: RaftLog): KvStore {
  if (kv.version === kv.store.version) return kv.store;
  if (kv.appliedIndex < log.snapshot.index) {
    throw new Error(`kv view at ${kv.appliedIndex} is older than the snapshot at ` +
      `${log.snapshot.index}`);
  }
  const store = storeOf(log.snapshot);
  for (let index = log.snapshot.index + 1; index <= kv.appliedIndex; index++) {
    const entry = entryAt(log, index);
    if (entry !== undefined) applyOne(store, entry.cmd);
  }
  return store;
}

/** Apply `log[appliedIndex+1 .. toIndex]`, calling `onApplied` for each command in index order. */
export function applyUpTo(
  kv: KvState,
  log: RaftLog,
  toIndex: number,
  onApplied?: (applied: Applied) => void,
): KvState {
  if (toIndex <= kv.appliedIndex) return kv;
  const store = ownStore(kv, log);
  for (let index = kv.appliedIndex + 1; index <= toIndex; index++) {
    const entry = entryAt(log, index);
    if (entry === undefined) throw new Error(`applyUpTo: no entry at ${index} (commit past log)`);
    const value = applyOne(store, entry.cmd);
    onApplied?.({ index, cmd: entry.cmd, value });
  }
  store.version += 1;
  return { store, version: store.version, appliedIndex: toIndex };
}

/** Keys and sessions held: what a snapshot copies. */
export function kvSize(kv: KvState, log: RaftLog): number {
  const store = ownStore(kv, log);
  return store.data.size + store.sessions.size;
}

/** Read-only views for checkers and tests: fresh copies, safe to keep. */
export function kvData(kv: KvState, log: RaftLog): Map<string, string> {
  return new Map(ownStore(kv, log).data);
}

/** The value of `key` in the applied state, `null` if it has none, as a get would read it. */
export function kvGet(kv: KvState, log: RaftLog, key: string): string | null {
  return ownStore(kv, log).data.get(key) ?? null;
}

export function kvSessions(kv: KvState, log: RaftLog): Map<NodeId, Session> {
  return new Map(ownStore(kv, log).sessions);
}
