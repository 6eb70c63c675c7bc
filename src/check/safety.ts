/**
 * The Raft safety properties of `spec/raft.qnt` (Figure 3): the one checker, run after every step
 * of the deterministic simulation and of the explorer, incrementally: a step costs what it changed, not the size of the
 * logs, so a 5-replica run of thousands of entries can be checked at every one of its steps.
 * The ghost state is the spec's: every leader of every term, every committed entry.
 *
 * - electionSafety: at most one leader per term, ever (a leader that crashed still counts);
 * - logMatching: an entry is identified by its index and term [§5.3]: two entries with the same
 *   index and term carry the same command and follow an entry of the same term; by induction the
 *   logs are then identical up to there;
 * - monotonicTerm, monotonicCommit: per server (a restart starts commitIndex again from 0, and
 *   currentTerm from no lower than the highest term the server had put on a vote or append);
 * - appliedWithinCommit [Fig2:AllServers#1]: a server applies only committed entries, so its
 *   state machine's applied index never passes its commitIndex;
 * - stateMachineSafety: a server never commits at an index an entry other than the committed one;
 * - leaderCompleteness: a leader of a later term holds every committed entry;
 * - committedDurable: every committed entry is on the synced disks of a quorum (in a log, or
 *   under a snapshot);
 * - snapshotSafety [§7]: every snapshot a server holds, taken or installed, is the state machine
 *   of the committed entries up to its index (replayed here from the committed entries);
 * - committedGuarded: a log that lacks the newest committed entry is less up to date than the logs
 *   of a quorum, so it cannot win an election [§5.4.1 with §5.4.3's argument]: the step in the
 *   proof of leader completeness, checked on every state instead of when a leader takes office.
 *   It catches a wrong commit (an entry of an earlier term counted on a quorum, Figure 8) or a
 *   wrong log (an entry accepted without the consistency check) the moment it happens, where
 *   leaderCompleteness waits for a later term's election.
 */
import type { Cmd, Entry, Session, Snapshot } from '../wire/messages.js';
import { emptyKv, applyUpTo, takeSnapshotOf, type KvState } from '../core/kv.js';
import {
  appendEntry, emptyLog, entryAt, lastLogIndex, lastLogTerm, snapshotIndex, termAt, type RaftLog,
} from '../core/log.js';
import type { Persisted, RaftState, Role } from '../core/state.js';

/** A safety property that does not hold: a bug, not an input. Callers stop and report. */
export interface Violation {
  readonly invariant: string;
  readonly detail: string;
}

function sameCmd(a: Cmd, b: Cmd): boolean {
  if (a === b) return true;
  if (a.kind !== b.kind) return false;
  if (a.kind === 'noop' || b.kind === 'noop') return true;
  if (a.kind === 'config' || b.kind === 'config') {
    return a.kind === 'config' && b.kind === 'config' && a.change === b.change && a.id === b.id
      && a.voters.join() === b.voters.join() && a.learners.join() === b.learners.join();
  }
  if (a.client !== b.client || a.seq !== b.seq) return false;
  switch (a.kind) {
    case 'register': return b.kind === 'register' && a.keep === b.keep;
    case 'get': return b.kind === 'get' && a.key === b.key;
    case 'del': return b.kind === 'del' && a.session === b.session && a.key === b.key;
    case 'put': return b.kind === 'put' && a.session === b.session && a.key === b.key
      && a.value === b.value;
    case 'cas': return b.kind === 'cas' && a.session === b.session && a.key === b.key
      && a.value === b.value && a.expected === b.expected;
  }
}

const sameEntry = (a: Entry | undefined, b: Entry | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.term === b.term && sameCmd(a.cmd, b.cmd));

interface Identity { readonly entry: Entry; readonly prevTerm: number }

/** How many reference snapshots `snapshotSafety` keeps: a few rounds of 3-5 replicas. */
const REFERENCE_SNAPSHOTS_KEPT = 8;

const sameSession = (a: Session, b: Session): boolean =>
  a.seq === b.seq && a.value === b.value && a.last === b.last;

/** Two snapshots hold the same pairs, sessions and term runs (index and term aside). */
function sameSnapshotState(a: Snapshot, b: Snapshot): boolean {
  if (a.kv.length !== b.kv.length || a.sessions.length !== b.sessions.length
    || a.terms.length !== b.terms.length) return false;
  for (let i = 0; i < a.kv.length; i++) {
    const [ka, va] = a.kv[i] as readonly [string, string];
    const [kb, vb] = b.kv[i] as readonly [string, string];
    if (ka !== kb || va !== vb) return false;
  }
  for (let i = 0; i < a.sessions.length; i++) {
    const [ia, sa] = a.sessions[i] as readonly [number, Session];
    const [ib, sb] = b.sessions[i] as readonly [number, Session];
    if (ia !== ib || !sameSession(sa, sb)) return false;
  }
  return a.terms.every((r, i) => r.index === b.terms[i]?.index && r.term === b.terms[i]?.term);
}

/** A checker's state as plain data (`SafetyChecker.toData`). */
export interface SafetyData {
  readonly quorum: number;
  readonly leaderOfTerm: ReadonlyMap<number, string>;
  readonly identities: ReadonlyMap<string, Identity>;
  readonly committed: readonly { entry: Entry; term: number }[];
  readonly lastTerm: ReadonlyMap<string, number>;
  readonly sentTerm: ReadonlyMap<string, number>;
  readonly lastCommit: ReadonlyMap<string, number>;
  readonly wasLeader: ReadonlyMap<string, number>;
  readonly maxLeaderTerm: number;
  readonly fresh: readonly number[];
  readonly committedLog: RaftLog;
  readonly reference: KvState;
}

export class SafetyChecker {
  private readonly leaderOfTerm = new Map<number, string>();
  /** "index/term" -> the first entry seen there, with the term of the entry before it. */
  private readonly identities = new Map<string, Identity>();
  /** index -> the committed entry, and the highest leader term known when it committed. */
  private readonly committed: { entry: Entry; term: number }[] = [];
  private readonly lastTerm = new Map<string, number>();
  /** The highest term each server put on a vote or an append message that left it. */
  private readonly sentTerm = new Map<string, number>();
  private readonly lastCommit = new Map<string, number>();
  private readonly wasLeader = new Map<string, number>();
  private maxLeaderTerm = 0;
  /** Indexes committed for the first time since the last `takeFresh`. */
  private fresh: number[] = [];
  /** The committed entries as a log, and the state machine replayed from them (snapshotSafety). */
  private committedLog: RaftLog = emptyLog();
  private reference: KvState = emptyKv();
  private readonly lastSnapshot = new Map<string, Snapshot>();
  /** index -> the committed state machine there, for the last few indexes asked. */
  private readonly wanted = new Map<number, Snapshot>();

  constructor(private readonly quorum: number) {}

  /**
   * A copy whose ghost state goes its own way from here: a search that branches (the exhaustive
   * checker) forks the checker with the world. The committed log and its replayed state machine
   * are shared; both are safe to share between forks (`chain.ts`, `kv.ts`).
   */
  fork(): SafetyChecker {
    const c = SafetyChecker.fromData(this.toData());
    for (const [k, v] of this.lastSnapshot) c.lastSnapshot.set(k, v);
    return c;
  }

  /** Everything this checker holds, as structured-clonable data (`fromData` reads it back). */
  toData(): SafetyData {
    return { quorum: this.quorum, leaderOfTerm: this.leaderOfTerm, identities: this.identities,
      committed: this.committed, lastTerm: this.lastTerm, sentTerm: this.sentTerm,
      lastCommit: this.lastCommit, wasLeader: this.wasLeader, maxLeaderTerm: this.maxLeaderTerm,
      fresh: this.fresh, committedLog: this.committedLog, reference: this.reference };
  }

  static fromData(d: SafetyData): SafetyChecker {
    const c = new SafetyChecker(d.quorum);
    for (const [k, v] of d.leaderOfTerm) c.leaderOfTerm.set(k, v);
    for (const [k, v] of d.identities) c.identities.set(k, v);
    for (const x of d.committed) c.committed.push(x);
    for (const [k, v] of d.lastTerm) c.lastTerm.set(k, v);
    for (const [k, v] of d.sentTerm) c.sentTerm.set(k, v);
    for (const [k, v] of d.lastCommit) c.lastCommit.set(k, v);
    for (const [k, v] of d.wasLeader) c.wasLeader.set(k, v);
    c.maxLeaderTerm = d.maxLeaderTerm;
    c.fresh = [...d.fresh];
    c.committedLog = d.committedLog;
    c.reference = d.reference;
    return c;
  }

  /**
   * The spec's ghost variables this checker holds, as plain data with server ids passed through
   * `rename`: every leader of every term (`past.leaders`), every committed entry with the leader
   * term it committed under (`committed`), and the highest term each server sent (the durable
   * bound of `termMonotonic`). Two runs with equal ghosts and equal states get the same verdicts
   * from here on; the exhaustive checker hashes this with the state. (The Log Matching identities
   * are left out: every entry a state holds is among them on either run.)
   */
  ghost(rename: (id: string) => string = (id) => id): unknown {
    return {
      leaders: [...this.leaderOfTerm].map(([t, id]) => [t, rename(id)]).sort((a, b) =>
        (a[0] as number) - (b[0] as number)),
      committed: this.committed.map((c) => [c.term, c.entry.term, c.entry.cmd]),
      sent: [...this.sentTerm].map(([id, t]) => [rename(id), t]).sort(),
    };
  }

  /** The highest committed index. */
  get commitIndex(): number {
    return this.committed.length;
  }

  /**
   * A message left `id` carrying `term`. Votes and appends carry the sender's currentTerm, which
   * the shell synced before letting them out; a pre-vote carries a term it only proposes.
   */
  sent(id: string, type: string, term: number): void {
    if (type === 'PreVoteRequest' || type === 'PreVoteResponse') return;
    if (term > (this.sentTerm.get(id) ?? 0)) this.sentTerm.set(id, term);
  }

  /**
   * `id` restarted from its disk: commitIndex starts again from 0, and currentTerm from what was
   * synced, which is at least every term it had sent: a term it forgot could be voted in twice.
   */
  restarted(id: string): void {
    this.lastCommit.set(id, 0);
    this.lastTerm.set(id, this.sentTerm.get(id) ?? 0);
    this.wasLeader.delete(id);
  }

  /**
   * After a step of `s`: `logFrom` is the first log index the step changed (undefined: the log
   * did not change), as its persist effect says.
   */
  step(s: RaftState, role: Role, logFrom: number | undefined): Violation | undefined {
    return this.electionSafety(s, role)
      ?? (logFrom === undefined ? undefined : this.logMatching(s, logFrom))
      ?? this.monotonic(s)
      ?? (s.kv.appliedIndex > s.commitIndex ? { invariant: 'appliedWithinCommit',
        detail: `${s.config.id} applied up to ${s.kv.appliedIndex}, past its commitIndex ` +
          `${s.commitIndex}` } : undefined)
      ?? this.stateMachineSafety(s)
      ?? (logFrom === undefined ? undefined : this.committedPrefixKept(s, logFrom))
      ?? this.leaderCompleteness(s, role, logFrom)
      ?? this.snapshotSafety(s);
  }

  /** A snapshot new to its server is the committed state machine at its index. */
  private snapshotSafety(s: RaftState): Violation | undefined {
    const snap = s.log.snapshot;
    const id = s.config.id;
    if (snap.index === 0 || this.lastSnapshot.get(id) === snap) return undefined;
    this.lastSnapshot.set(id, snap);
    if (snap.index > this.committed.length) {
      return { invariant: 'snapshotSafety',
        detail: `${id} holds a snapshot at ${snap.index}, past the committed ${this.committed.length}` };
    }
    const want = this.referenceSnapshot(snap.index);
    if (!sameSnapshotState(want, snap)
      || snap.term !== (this.committed[snap.index - 1] as { entry: Entry }).entry.term) {
      return { invariant: 'snapshotSafety', detail: `${id}'s snapshot at ${snap.index} is not ` +
        'the state machine of the committed entries up to it' };
    }
    // the server's own state machine, if it is at the snapshot's index (as after an install)
    if (s.kv.appliedIndex === snap.index && !sameSnapshotState(takeSnapshotOf(s.kv, s.log), snap)) {
      return { invariant: 'snapshotSafety', detail: `${id}'s state machine at ${snap.index} ` +
        'is not its snapshot' };
    }
    return undefined;
  }

  /**
   * The committed state machine at `index`, as a snapshot. Replicas tend to snapshot at the same
   * indexes, so the last few are kept: committed entries never change, so neither do they.
   */
  private referenceSnapshot(index: number): Snapshot {
    const kept = this.wanted.get(index);
    if (kept !== undefined) return kept;
    if (index < this.reference.appliedIndex) this.reference = emptyKv();
    this.reference = applyUpTo(this.reference, this.committedLog, index);
    const want = takeSnapshotOf(this.reference, this.committedLog);
    this.wanted.set(index, want);
    if (this.wanted.size > REFERENCE_SNAPSHOTS_KEPT) {
      this.wanted.delete(this.wanted.keys().next().value as number);
    }
    return want;
  }

  private electionSafety(s: RaftState, role: Role): Violation | undefined {
    if (role !== 'Leader') return undefined;
    const id = s.config.id;
    const other = this.leaderOfTerm.get(s.currentTerm);
    if (other !== undefined && other !== id) {
      const detail = `${other} and ${id} lead term ${s.currentTerm}`;
      return { invariant: 'electionSafety', detail };
    }
    this.leaderOfTerm.set(s.currentTerm, id);
    this.maxLeaderTerm = Math.max(this.maxLeaderTerm, s.currentTerm);
    return undefined;
  }

  private logMatching(s: RaftState, from: number): Violation | undefined {
    const last = lastLogIndex(s.log);
    for (let i = Math.max(1, from, snapshotIndex(s.log) + 1); i <= last; i++) {
      const entry = entryAt(s.log, i) as Entry;
      const key = `${i}/${entry.term}`;
      const prevTerm = termAt(s.log, i - 1);
      const known = this.identities.get(key);
      if (known === undefined) this.identities.set(key, { entry, prevTerm });
      else if (!sameCmd(known.entry.cmd, entry.cmd) || known.prevTerm !== prevTerm) {
        return { invariant: 'logMatching', detail: `${s.config.id} holds another entry at index ` +
          `${i} term ${entry.term} (${known.prevTerm !== prevTerm ? 'after a different entry'
            : 'another command'})` };
      }
    }
    return undefined;
  }

  private monotonic(s: RaftState): Violation | undefined {
    const id = s.config.id;
    if (s.currentTerm < (this.lastTerm.get(id) ?? 0)) {
      return { invariant: 'monotonicTerm', detail: `${id} term went back to ${s.currentTerm}` };
    }
    if (s.commitIndex < (this.lastCommit.get(id) ?? 0)) {
      return { invariant: 'monotonicCommit', detail: `${id} commit went back to ${s.commitIndex}` };
    }
    this.lastTerm.set(id, s.currentTerm);
    return undefined;
  }

  private stateMachineSafety(s: RaftState): Violation | undefined {
    const id = s.config.id;
    const from = (this.lastCommit.get(id) ?? 0) + 1;
    this.lastCommit.set(id, s.commitIndex);
    for (let i = from; i <= s.commitIndex; i++) {
      // [§7] what a snapshot covers is checked as a whole, by snapshotSafety
      if (i <= snapshotIndex(s.log) && this.committed[i - 1] !== undefined) continue;
      const entry = entryAt(s.log, i);
      if (entry === undefined) {
        return { invariant: 'stateMachineSafety', detail: `${id} commits ${i} past its log` };
      }
      const known = this.committed[i - 1];
      if (known === undefined) {
        this.committed.push({ entry, term: this.maxLeaderTerm });
        this.committedLog = appendEntry(this.committedLog, entry);
        this.fresh.push(i);
      } else if (!sameEntry(known.entry, entry)) {
        return { invariant: 'stateMachineSafety',
          detail: `${id} commits another entry at index ${i} than was committed there` };
      }
    }
    return undefined;
  }

  /**
   * [Fig3 State Machine Safety] A log change never reaches below what its server committed: the
   * entries from `from` up to its commitIndex are still the committed ones.
   */
  private committedPrefixKept(s: RaftState, from: number): Violation | undefined {
    const upTo = Math.min(s.commitIndex, this.committed.length);
    for (let i = Math.max(1, from, snapshotIndex(s.log) + 1); i <= upTo; i++) {
      const c = this.committed[i - 1] as { entry: Entry };
      if (!sameEntry(entryAt(s.log, i), c.entry)) {
        return { invariant: 'stateMachineSafety',
          detail: `${s.config.id} replaced its committed entry at index ${i}` };
      }
    }
    return undefined;
  }

  /** The committed entries, index 1 first. */
  committedEntries(): Entry[] {
    return this.committed.map((c) => c.entry);
  }

  takeFresh(): number[] {
    const f = this.fresh;
    this.fresh = [];
    return f;
  }

  /** A leader holds every entry committed before its term: checked when it takes office and
   * whenever its log changes below the committed index. */
  private leaderCompleteness(s: RaftState, role: Role, logFrom: number | undefined):
    Violation | undefined {
    if (role !== 'Leader') return undefined;
    const id = s.config.id;
    const since = this.wasLeader.get(id) === s.currentTerm ? logFrom : 1;
    this.wasLeader.set(id, s.currentTerm);
    if (since === undefined) return undefined;
    for (let i = Math.max(1, since, snapshotIndex(s.log) + 1); i <= this.committed.length; i++) {
      const c = this.committed[i - 1] as { entry: Entry; term: number };
      if (c.term < s.currentTerm && !sameEntry(entryAt(s.log, i), c.entry)) {
        return { invariant: 'leaderCompleteness',
          detail: `leader ${id} of term ${s.currentTerm} lacks committed index ${i}` };
      }
    }
    return undefined;
  }

  /**
   * committedGuarded over every server's log (`logs[k]` is server `ids[k]`'s). The log that lacks
   * the entry may be from any moment of its server (the argument holds for every log a server ever
   * had); the logs it is compared with must hold every committed entry on a quorum, as current
   * logs and synced disks do (committedDurable). Holding the newest committed entry means holding
   * all of them (logMatching).
   */
  guarded(ids: readonly string[], logs: readonly RaftLog[]): Violation | undefined {
    const n = this.committed.length;
    if (n === 0) return undefined;
    const newest = (this.committed[n - 1] as { entry: Entry }).entry;
    for (let k = 0; k < logs.length; k++) {
      const x = logs[k] as RaftLog;
      if (snapshotIndex(x) >= n || sameEntry(entryAt(x, n), newest)) continue;
      const index = lastLogIndex(x);
      const term = lastLogTerm(x);
      // the logs whose servers would vote for x's [§5.4.1], its own among them
      const voters = logs.filter((y) => term > lastLogTerm(y)
        || (term === lastLogTerm(y) && index >= lastLogIndex(y))).length;
      if (voters >= this.quorum) {
        return { invariant: 'committedGuarded', detail: `${ids[k] ?? k} lacks committed index ` +
          `${n} but its log (last index ${index}, term ${term}) is as up to date as ${voters} ` +
          `logs, a quorum: it could win an election` };
      }
    }
    return undefined;
  }

  /**
   * Committed entries survive any crash: each of `indexes` (default: all) is on the synced disks
   * of a quorum.
   */
  durable(disks: readonly Persisted[], indexes?: readonly number[]): Violation | undefined {
    const check = indexes ?? this.committed.map((_, k) => k + 1);
    for (const i of check) {
      const c = this.committed[i - 1];
      if (c === undefined) continue;
      const holders = disks.filter((d) => i <= snapshotIndex(d.log)
        || sameEntry(entryAt(d.log, i), c.entry)).length;
      if (holders < this.quorum) {
        return { invariant: 'committedDurable',
          detail: `committed index ${i} is on ${holders} synced disks, fewer than ${this.quorum}` };
      }
    }
    return undefined;
  }
}
