/**
 * The key-value state machine with its client-session table [§6.3 Raft dissertation]. A client
 * registers through the log: the `register` entry at index i opens session i, and expires the
 * least recently used sessions past the bound the entry carries (`keep`). A write in a session is
 * applied at most once per request number (`seq`); a retry of the last request is answered from
 * the session with the answer it first got. A write whose session is gone (expired, or never
 * opened) does nothing and is answered `expired`. `session = 0` opts out of sessions (the
 * simulator-routed protocol gives every request a fresh MID, never retrying one).
 * `spec/raft.qnt`: `applyCmd`, `answerOf`, `expire`.
 *
 * Deviation from "immutable values only": the maps are mutated in place by the newest state, and an
 * older state that still points at them notices (its `version` no longer matches) and rebuilds its
 * view by replaying the committed log. Observably every state stays immutable; the common path (one
 * state after another, as in a replica) never copies the maps.
 */
import { utf8ByteLength } from '../wire/codec.js';
import type { Cmd, LogIndex, Page, Session, SessionId, Snapshot, Term } from '../wire/messages.js';
import { configAt, entryAt, termAt, termRunsUpTo, withConfig, type RaftLog } from './log.js';

class KvStore {
  readonly data = new Map<string, string>();
  /** By id, least recently used first (`last` ascending): expiry takes from the front. */
  readonly sessions = new Map<SessionId, Session>();
  version = 0;
  /**
   * The length of every key and value held, the values sessions keep included (UTF-16 units):
   * what a snapshot of it copies.
   */
  bytes = 0;
  /** The length of the commands applied to this store, and its value when a snapshot was taken. */
  appliedBytes = 0;
  snapshotMark = 0;
  /** The keys, sorted, while no key has been added or removed since (`kvList`). */
  sorted: string[] | undefined;
}

/** A command's size: the lengths of its key and values (UTF-16 units); 0 for a no-op or register. */
export function cmdSize(cmd: Cmd): number {
  if (cmd.kind === 'noop' || cmd.kind === 'register' || cmd.kind === 'config') return 0;
  if (cmd.kind === 'put') return cmd.key.length + cmd.value.length;
  if (cmd.kind === 'cas') return cmd.key.length + cmd.value.length + (cmd.expected?.length ?? 0);
  return cmd.key.length;
}

function setValue(store: KvStore, key: string, value: string | undefined): void {
  const old = store.data.get(key);
  if (old !== undefined) store.bytes -= key.length + old.length;
  // the set of keys changes: the sorted keys are stale
  if ((old === undefined) !== (value === undefined)) store.sorted = undefined;
  if (value === undefined) store.data.delete(key);
  else {
    store.data.set(key, value);
    store.bytes += key.length + value.length;
  }
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

/** What applying a write whose session had expired answers (`spec/raft.qnt`: `Expired`). */
export const EXPIRED: unique symbol = Symbol('expired');

/** The outcome of applying one command: the answer a client gets. */
export interface Applied {
  readonly index: number;
  readonly cmd: Cmd;
  /**
   * The value written (a put's first copy), or found (get, del, cas: `null` when the key was
   * absent); for a duplicate, the answer its session kept (none for a put); `EXPIRED` for a write
   * whose session is gone; undefined for a no-op or a register (whose session is its index).
   * `spec/raft.qnt`: `answerOf`.
   */
  readonly value: string | null | undefined | typeof EXPIRED;
}

/** The sessions past the newest `keep` expire, least recently used first (`spec`: `expire`). */
function expire(store: KvStore, keep: number): void {
  for (const [id, session] of store.sessions) {
    if (store.sessions.size <= keep) break;
    store.sessions.delete(id);
    store.bytes -= session.value?.length ?? 0;
  }
}

/** Record a write's answer in its session, which becomes the most recently used. */
function record(store: KvStore, cmd: Extract<Cmd, { session: number }>, index: number,
  value: string | null): void {
  const old = store.sessions.get(cmd.session as SessionId);
  store.bytes += (value?.length ?? 0) - (old?.value?.length ?? 0);
  store.sessions.delete(cmd.session as SessionId);
  store.sessions.set(cmd.session as SessionId, { seq: cmd.seq, value, last: index as LogIndex });
}

/** `spec/raft.qnt`: `applyCmd` and `answerOf`, for the entry at `index`. */
function applyOne(store: KvStore, cmd: Cmd, index: number): Applied['value'] {
  // [D§4.1] a configuration change took effect when it was appended: nothing to apply
  if (cmd.kind === 'noop' || cmd.kind === 'config') return undefined;
  if (cmd.kind === 'register') {
    store.sessions.set(index as SessionId, { seq: 0, value: null, last: index as LogIndex });
    expire(store, cmd.keep);
    return undefined;
  }
  store.appliedBytes += cmdSize(cmd);
  // a get is never in the log; a logged one (from an older version) answers what it reads
  if (cmd.kind === 'get') return store.data.get(cmd.key) ?? null;
  let session: Session | undefined;
  if (cmd.session > 0) {
    session = store.sessions.get(cmd.session as SessionId);
    // gone: an earlier copy of this request may have been applied, and this one must not be
    if (session === undefined) return EXPIRED;
    // a duplicate is applied once: it gets the answer the first one got
    if (session.seq >= cmd.seq) return session.value;
  }
  const found = store.data.get(cmd.key) ?? null;
  let value = found;
  if (cmd.kind === 'put') {
    setValue(store, cmd.key, cmd.value);
    value = cmd.value;
  } else if (cmd.kind === 'del') {
    setValue(store, cmd.key, undefined);
  } else if (cmd.kind === 'cas' && found === cmd.expected) {
    setValue(store, cmd.key, cmd.value);
  }
  // a put's answer carries no value: its session keeps none (`spec/raft.qnt`: `applyCmd`)
  if (session !== undefined) record(store, cmd, index, cmd.kind === 'put' ? null : value);
  return value;
}

function storeOf(snapshot: Snapshot): KvStore {
  const store = new KvStore();
  for (const [k, v] of snapshot.kv) setValue(store, k, v);
  // least recently used first, as the table that was snapshotted held them
  const byUse = [...snapshot.sessions].sort((a, b) => a[1].last - b[1].last);
  for (const [id, session] of byUse) {
    store.sessions.set(id, session);
    store.bytes += session.value?.length ?? 0;
  }
  return store;
}

/** [§7] The state machine as a snapshot holds it: its index, nothing applied beyond. */
export function kvFromSnapshot(snapshot: Snapshot): KvState {
  return { store: storeOf(snapshot), version: 0, appliedIndex: snapshot.index };
}

const byKey = <K extends string | number, V>(a: readonly [K, V], b: readonly [K, V]): number =>
  (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/**
 * [§7] A snapshot of the applied state: every key and session, sorted, at `appliedIndex`, whose
 * entry `log` must still hold (or be the snapshot's own). Copies the maps: O(keys + sessions).
 */
export function takeSnapshotOf(kv: KvState, log: RaftLog): Snapshot {
  const store = ownStore(kv, log);
  store.snapshotMark = store.appliedBytes;
  return {
    index: kv.appliedIndex as LogIndex,
    term: termAt(log, kv.appliedIndex) as Term,
    kv: [...store.data.entries()].sort(byKey),
    sessions: [...store.sessions.entries()].sort(byKey),
    terms: termRunsUpTo(log, kv.appliedIndex),
    // [D§4.1] the configuration as of the snapshot's index: the log's changes after it follow it
    ...withConfig(configAt(log, kv.appliedIndex)),
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
    if (entry !== undefined) applyOne(store, entry.cmd, index);
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
    const value = applyOne(store, entry.cmd, index);
    onApplied?.({ index, cmd: entry.cmd, value });
  }
  store.version += 1;
  return { store, version: store.version, appliedIndex: toIndex };
}

/**
 * The size of the keys and values held, and of the commands applied since the last snapshot this
 * store took (or since it was made: from a snapshot, or rebuilt for an older view), in UTF-16
 * units: what decides a snapshot by size (`snapshotDue`).
 */
export function kvBytes(kv: KvState, log: RaftLog): { held: number; sinceSnapshot: number } {
  const store = ownStore(kv, log);
  return { held: store.bytes, sinceSnapshot: store.appliedBytes - store.snapshotMark };
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

export function kvSessions(kv: KvState, log: RaftLog): Map<SessionId, Session> {
  return new Map(ownStore(kv, log).sessions);
}

/** What a page of a listing asks for: keys with `prefix`, sorting after `after`, `limit` at most. */
export interface PageQuery {
  readonly prefix: string;
  /** null: from the first key. */
  readonly after: string | null;
  readonly limit: number;
  /** The most bytes the pairs take as JSON, unless the first pair alone does. */
  readonly maxBytes: number;
}

/** A page: its pairs, sorted by key, and the `after` of the next page if keys remain. */
export interface KvPage {
  readonly pairs: Page;
  readonly next: string | null;
}

/** The first position in `sorted` whose key is at least `from` (`after`: greater than it). */
function lowerBound(sorted: readonly string[], from: string, after: boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const k = sorted[mid] as string;
    if (k < from || (after && k === from)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * One page of the applied state's keys that start with `q.prefix` and sort after `q.after` (UTF-16
 * code unit order): the first `q.limit` of them, as fewer as keep the pairs within `q.maxBytes`
 * (at least one), with their values. The store keeps its keys sorted until a key is added or
 * removed, so a page costs O(log keys + limit), and a sort of the keys after such a change.
 */
export function kvList(kv: KvState, log: RaftLog, q: PageQuery): KvPage {
  const store = ownStore(kv, log);
  store.sorted ??= [...store.data.keys()].sort();
  const sorted = store.sorted;
  // the first key past `after` that could have the prefix
  const start = q.after !== null && q.after >= q.prefix ? lowerBound(sorted, q.after, true)
    : lowerBound(sorted, q.prefix, false);
  const pairs: [string, string][] = [];
  let bytes = 0;
  let k = start;
  for (; k < sorted.length && pairs.length < q.limit; k++) {
    const key = sorted[k] as string;
    if (!key.startsWith(q.prefix)) break;
    const pair: [string, string] = [key, store.data.get(key) as string];
    bytes += utf8ByteLength(JSON.stringify(pair)) + 1;
    if (pairs.length > 0 && bytes > q.maxBytes) break;
    pairs.push(pair);
  }
  const more = k < sorted.length && (sorted[k] as string).startsWith(q.prefix);
  return { pairs, next: more ? (pairs[pairs.length - 1] as [string, string])[0] : null };
}
