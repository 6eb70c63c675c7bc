/**
 * The abstraction function: a replica's state as the spec sees it (the `Server` record of
 * `spec/raft.qnt`). Conformance tests compare these records with the spec's, field by field.
 * Spec values are integers; the code's are strings: a put of spec value 7 carries "7", and no
 * value (`null`, an absent key; or "", as the simulator-routed protocol reads one) is the spec's 0.
 */
import {
  BROADCAST, type ClientRequest, type ClientResponse, type Cmd, type Configuration, type NodeId,
  type PeerMessage, type Session,
} from '../wire/messages.js';
import { kvData, kvSessions } from './kv.js';
import { toArray } from './chain.js';
import { bootstrapOf, type ListCmd, type Persisted, type RaftState, type Role } from './state.js';

/**
 * A spec command. A page of a listing (`list`, direct mode) has no spec command of its own: it is
 * a read as a get is, shown with its prefix as `key` (the spec's explorations never send one).
 */
export interface AbstractCmd {
  kind: 'noop' | 'register' | 'put' | 'get' | 'del' | 'cas' | 'list' | 'addLearner' | 'promote'
    | 'removeServer';
  client: string;
  /** A write's session (0: none). A register's session bound is its `value`. */
  session: number;
  seq: number;
  key: string;
  value: number;
  expected: number;
}

export interface AbstractEntry { term: number; cmd: AbstractCmd }

export interface AbstractServer {
  role: Role;
  currentTerm: number;
  votedFor: string;
  /** [§7] The entries after the snapshot; the snapshot's index, term and state machine. */
  log: AbstractEntry[];
  snapshotIndex: number;
  snapshotTerm: number;
  snapshotKv: Record<string, number>;
  snapshotSessions: Record<string, AbstractSession>;
  snapshotTerms: { index: number; term: number }[];
  /** [D§4.1] The configuration as of the snapshot (the bootstrap's if it names none). */
  snapshotConfig: AbstractMembers;
  commitIndex: number;
  leaderId: string;
  votesGranted: string[];
  nextIndex: Record<string, number>;
  matchIndex: Record<string, number>;
  recentActive: string[];
  kv: Record<string, number>;
  /** By session id (the spec's int keys, as text). */
  sessions: Record<string, AbstractSession>;
  reads: AbstractRead[];
  readRound: number;
  ackedRound: Record<string, number>;
  pending: AbstractPending[];
  held: AbstractCmd[];
  leaderFresh: boolean;
}

export interface AbstractRead { cmd: AbstractCmd; readIndex: number; round: number }
/** The spec's `Members`: sets of ids, here sorted arrays. */
export interface AbstractMembers { voters: string[]; learners: string[] }

const abstractMembers = (c: Configuration): AbstractMembers =>
  ({ voters: sorted(c.voters), learners: sorted(c.learners) });
export interface AbstractPending { index: number; term: number; cmd: AbstractCmd }

/**
 * An answer to a client as the spec's `Event` (ev "ok", "redirect", "fail" or "expired"): who sent
 * it, the leader it named ("" for none), the request it answers and, for a get, the value read (0
 * for a key never written), for a del or cas the value found, for a register its session id (0
 * for every other answer).
 */
export interface AbstractAnswer {
  ev: 'ok' | 'redirect' | 'fail' | 'expired';
  server: string;
  leader: string;
  cmd: AbstractCmd;
  value: number;
}

export const specValue = (v: string | null): number => (v === '' || v === null ? 0 : Number(v));
/** The code's value of a spec value: 0 is none. */
export const codeValue = (v: number): string | null => (v === 0 ? null : String(v));

/** The spec's kind of each configuration change. */
export const SPEC_CHANGE = {
  addLearner: 'addLearner', promote: 'promote', remove: 'removeServer',
} as const;

export function abstractCmd(cmd: Cmd | ListCmd): AbstractCmd {
  const none = { session: 0, value: 0, expected: 0 };
  switch (cmd.kind) {
    case 'list': return { kind: 'list', client: cmd.client, seq: cmd.seq, key: cmd.prefix, ...none };
    case 'noop': return { kind: 'noop', client: '', seq: 0, key: '', ...none };
    // [D§4.1] a change, as the spec's: its kind, and the server it names as `key`
    case 'config': return { kind: SPEC_CHANGE[cmd.change], client: '', seq: 0, key: cmd.id,
      ...none };
    case 'register': return { kind: 'register', client: cmd.client, seq: cmd.seq, key: '', ...none,
      value: cmd.keep };
    case 'get': return { kind: 'get', client: cmd.client, seq: cmd.seq, key: cmd.key, ...none };
    case 'put': return { kind: 'put', client: cmd.client, seq: cmd.seq, key: cmd.key, ...none,
      session: cmd.session, value: specValue(cmd.value) };
    case 'del': return { kind: 'del', client: cmd.client, seq: cmd.seq, key: cmd.key, ...none,
      session: cmd.session };
    case 'cas': return { kind: 'cas', client: cmd.client, session: cmd.session, seq: cmd.seq,
      key: cmd.key, value: specValue(cmd.value), expected: specValue(cmd.expected) };
  }
}

/**
 * The client request that carries a spec command `cmd` to server `to` (the inverse of
 * `abstractCmd` for client commands), with a fresh MID.
 */
export function clientRequestOf(cmd: AbstractCmd, to: NodeId, mid: string): ClientRequest {
  const envelope = { src: cmd.client as NodeId, dst: to, leader: to, MID: mid, seq: cmd.seq };
  // a register's bound is the leader's to stamp (`Config.maxSessions`), not the client's
  if (cmd.kind === 'register') return { ...envelope, type: 'register' } as ClientRequest;
  const base = { ...envelope, key: cmd.key, ...(cmd.session > 0 ? { session: cmd.session } : {}) };
  switch (cmd.kind) {
    case 'put': return { ...base, type: 'put', value: String(cmd.value) } as ClientRequest;
    case 'cas': return { ...base, type: 'cas', expected: codeValue(cmd.expected),
      value: String(cmd.value) } as ClientRequest;
    case 'del': return { ...base, type: 'del' } as ClientRequest;
    default: return { ...base, type: 'get' } as ClientRequest;
  }
}

const sorted = (xs: Iterable<string>): string[] => [...xs].sort();

function record<V, W>(m: ReadonlyMap<string, V>, f: (v: V) => W): Record<string, W> {
  const out: Record<string, W> = {};
  for (const k of sorted(m.keys())) out[k] = f(m.get(k) as V);
  return out;
}

type Pairs<V> = ReadonlyArray<readonly [string, V]>;
export type AbstractSession = { seq: number; value: number; last: number };

const kvRecord = (kv: Pairs<string>): Record<string, number> =>
  record(new Map(kv), specValue);
/** Sessions by id, as the spec's (ids as text, in id order). */
function sessionRecord(sessions: Iterable<readonly [number, Session]>):
  Record<string, AbstractSession> {
  const out: Record<string, AbstractSession> = {};
  for (const [id, x] of [...sessions].sort((a, b) => a[0] - b[0])) {
    out[String(id)] = { seq: x.seq, value: specValue(x.value), last: x.last };
  }
  return out;
}

/** A server as the spec sees it; `role` is its statechart's state (`roleOf`). */
export function abstractServer(s: RaftState, role: Role): AbstractServer {
  return {
    role,
    // term, vote, log and snapshot: the same fields as the disk's
    ...abstractDurable(s, bootstrapOf(s.config)),
    commitIndex: s.commitIndex,
    leaderId: s.leaderId ?? '',
    votesGranted: sorted(s.votesGranted),
    nextIndex: record(s.progress, (p) => p.next),
    matchIndex: record(s.progress, (p) => p.match),
    recentActive: sorted([...s.progress].filter(([, p]) => p.active).map(([id]) => id)),
    kv: record(kvData(s.kv, s.log), specValue),
    sessions: sessionRecord(kvSessions(s.kv, s.log)),
    reads: s.reads.map((r) => ({ cmd: abstractCmd(r.cmd), readIndex: r.readIndex,
      round: r.round })),
    readRound: s.readRound,
    ackedRound: record(s.progress, (p) => p.ackedRound),
    pending: toArray(s.pending).map((p) => ({ index: p.index, term: p.term,
      cmd: abstractCmd(p.cmd) })),
    held: s.held.map((h) => abstractCmd(h.cmd)),
    leaderFresh: s.leaderFresh,
  };
}

/** A reply datagram as the spec's answer event, given the command its MID carried. */
export function abstractAnswer(r: ClientResponse, cmd: AbstractCmd): AbstractAnswer {
  return {
    ev: r.type,
    server: r.src,
    leader: r.leader === BROADCAST ? '' : r.leader,
    cmd,
    value: r.type !== 'ok' || cmd.kind === 'put' ? 0
      : cmd.kind === 'register' ? (r.session ?? 0) : specValue(r.value ?? null),
  };
}

/** What a server's disk holds, as the spec's `Durable` record. */
export type AbstractDurable = Pick<AbstractServer, 'currentTerm' | 'votedFor' | 'log'
  | 'snapshotIndex' | 'snapshotTerm' | 'snapshotKv' | 'snapshotSessions' | 'snapshotTerms'
  | 'snapshotConfig'>;

/** `bootstrap`: the configuration of a snapshot that names none (`bootstrapOf`). */
export function abstractDurable(p: Persisted, bootstrap: Configuration): AbstractDurable {
  const snap = p.log.snapshot;
  return {
    currentTerm: p.currentTerm,
    votedFor: p.votedFor ?? '',
    log: toArray(p.log.entries).map((e) => ({ term: e.term, cmd: abstractCmd(e.cmd) })),
    snapshotIndex: snap.index,
    snapshotTerm: snap.term,
    snapshotKv: kvRecord(snap.kv),
    snapshotSessions: sessionRecord(snap.sessions),
    snapshotTerms: snap.terms.map((r) => ({ index: r.index, term: r.term })),
    snapshotConfig: abstractMembers(snap.config ?? bootstrap),
  };
}

/** A peer message as the spec sees it: its variant and fields, without the `leader` hint. */
export function abstractMessage(m: PeerMessage): { tag: string; value: Record<string, unknown> } {
  const { type, leader: _leader, ...fields } = m;
  const value: Record<string, unknown> = { ...fields };
  if (m.type === 'AppendEntriesRequest') {
    value['entries'] = m.entries.map((e) => ({ term: e.term, cmd: abstractCmd(e.cmd) }));
  }
  if (m.type === 'InstallSnapshotRequest') {
    value['kv'] = kvRecord(m.kv);
    value['sessions'] = sessionRecord(m.sessions);
    value['terms'] = m.terms.map((r) => ({ index: r.index, term: r.term }));
    // the core always names the configuration in a snapshot it sends (`sendSnapshot`)
    value['config'] = abstractMembers(m.config ?? { voters: [], learners: [] });
  }
  return { tag: type, value };
}
