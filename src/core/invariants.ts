/**
 * The Raft safety properties (Figure 3) as pure predicates over a cluster's states, the same ones
 * `spec/raft.qnt` states. A checker holds the ghost state they need (what was ever committed, the
 * last term and commit seen per server) and is run after every step by the explorer and the
 * simulations. A violation is a bug, not an input: callers stop and report.
 */
import type { Entry } from '../wire/messages.js';
import { entryAt, lastLogIndex, type RaftLog } from './log.js';
import { quorum, type RaftState } from './state.js';

export interface Violation {
  readonly invariant: string;
  readonly detail: string;
}

export function sameEntry(a: Entry | undefined, b: Entry | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.term !== b.term) return false;
  return JSON.stringify(a.cmd) === JSON.stringify(b.cmd);
}

/** [Fig3 ElectionSafety] At most one leader per term. */
export function electionSafety(servers: readonly RaftState[]): Violation | undefined {
  const leaders = new Map<number, string>();
  for (const s of servers) {
    if (s.role !== 'Leader') continue;
    const other = leaders.get(s.currentTerm);
    if (other !== undefined) {
      return { invariant: 'electionSafety',
        detail: `${other} and ${s.config.id} lead term ${s.currentTerm}` };
    }
    leaders.set(s.currentTerm, s.config.id);
  }
  return undefined;
}

/** [Fig3 LogMatching] Same index and term: the logs are identical up to that index. */
export function logsMatch(a: RaftLog, b: RaftLog): boolean {
  const n = Math.min(lastLogIndex(a), lastLogIndex(b));
  let diverged = false;
  for (let i = 1; i <= n; i++) {
    const x = entryAt(a, i);
    const y = entryAt(b, i);
    if (diverged && x?.term === y?.term) return false;
    if (!sameEntry(x, y)) {
      if (x?.term === y?.term) return false;
      diverged = true;
    }
  }
  return true;
}

export function logMatching(servers: readonly RaftState[]): Violation | undefined {
  for (let i = 0; i < servers.length; i++) {
    for (let j = i + 1; j < servers.length; j++) {
      const a = servers[i] as RaftState;
      const b = servers[j] as RaftState;
      if (!logsMatch(a.log, b.log)) {
        return { invariant: 'logMatching', detail: `${a.config.id} and ${b.config.id}` };
      }
    }
  }
  return undefined;
}

interface Committed { readonly entry: Entry; readonly term: number }

/** Checks every property after each step, keeping the ghost state the properties need. */
export class InvariantChecker {
  /** index -> the entry first seen committed there, and the leader term at that moment. */
  private readonly committed = new Map<number, Committed>();
  private readonly lastTerm = new Map<string, number>();
  private readonly lastCommit = new Map<string, number>();

  /** Call after a server restarts: its commitIndex legitimately starts again from 0. */
  restarted(id: string): void {
    this.lastCommit.set(id, 0);
  }

  /**
   * Deviation: these predicates read whole logs, so they do not model snapshots [§7]; the
   * explorer runs without them (the simulation's `check/safety.ts` and the spec check snapshots).
   * A snapshot here is a misuse, refused rather than judged wrongly.
   */
  check(servers: readonly RaftState[]): Violation | undefined {
    const snapshotted = servers.find((s) => s.log.snapshot.index > 0);
    if (snapshotted !== undefined) {
      throw new Error(`InvariantChecker: ${snapshotted.config.id} has a snapshot; it checks ` +
        'whole logs only');
    }
    return electionSafety(servers)
      ?? logMatching(servers)
      ?? this.monotonic(servers)
      ?? this.stateMachineSafety(servers)
      ?? this.committedDurable(servers)
      ?? this.leaderCompleteness(servers);
  }

  private monotonic(servers: readonly RaftState[]): Violation | undefined {
    for (const s of servers) {
      const id = s.config.id;
      if (s.currentTerm < (this.lastTerm.get(id) ?? 0)) {
        return { invariant: 'monotonicTerm', detail: `${id} term went back to ${s.currentTerm}` };
      }
      if (s.commitIndex < (this.lastCommit.get(id) ?? 0)) {
        return { invariant: 'monotonicCommit',
          detail: `${id} commit went back to ${s.commitIndex}` };
      }
      this.lastTerm.set(id, s.currentTerm);
      this.lastCommit.set(id, s.commitIndex);
    }
    return undefined;
  }

  /** [Fig3 StateMachineSafety] No two servers apply different entries at one index. */
  private stateMachineSafety(servers: readonly RaftState[]): Violation | undefined {
    const leaderTerm = Math.max(0, ...servers.filter((s) => s.role === 'Leader')
      .map((s) => s.currentTerm));
    for (const s of servers) {
      for (let i = 1; i <= s.commitIndex; i++) {
        const entry = entryAt(s.log, i);
        const known = this.committed.get(i);
        if (entry === undefined) {
          return { invariant: 'stateMachineSafety',
            detail: `${s.config.id} commits ${i} past log` };
        }
        if (known === undefined) this.committed.set(i, { entry, term: leaderTerm });
        else if (!sameEntry(known.entry, entry)) {
          return { invariant: 'stateMachineSafety',
            detail: `${s.config.id} applied a different entry at index ${i}` };
        }
      }
    }
    return undefined;
  }

  /** Every committed entry is still stored by a quorum: a restart cannot lose it. */
  private committedDurable(servers: readonly RaftState[]): Violation | undefined {
    const need = servers[0] === undefined ? 0 : quorum(servers[0].config);
    for (const [i, c] of this.committed) {
      const holders = servers.filter((s) => sameEntry(entryAt(s.log, i), c.entry)).length;
      if (holders < need) {
        return { invariant: 'committedDurable', detail: `index ${i} held by ${holders} < ${need}` };
      }
    }
    return undefined;
  }

  /** [Fig3 LeaderCompleteness] A leader of a later term holds every committed entry. */
  private leaderCompleteness(servers: readonly RaftState[]): Violation | undefined {
    for (const s of servers) {
      if (s.role !== 'Leader') continue;
      for (const [i, c] of this.committed) {
        if (s.currentTerm > c.term && !sameEntry(entryAt(s.log, i), c.entry)) {
          return { invariant: 'leaderCompleteness',
            detail: `leader ${s.config.id} of term ${s.currentTerm} lacks committed index ${i}` };
        }
      }
    }
    return undefined;
  }
}
