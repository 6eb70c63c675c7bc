/**
 * [§7] Log compaction and InstallSnapshot. A server snapshots its state machine at its applied
 * index and drops the entries behind it. A leader that no longer holds the entries a peer needs
 * sends its snapshot instead (`replicate`), whole: the wire layer cuts it into chunks
 * (`wire/chunks.ts`), the spec and the core see one message. `spec/raft.qnt`: `takeSnapshot`,
 * `onInstallSnapshotRequest`.
 */
import type {
  AppendEntriesResponse, InstallSnapshotRequest, NodeId, ReadRound, SessionId, Snapshot,
} from '../../wire/messages.js';
import { at, chainOf, size, toArray } from '../chain.js';
import { kvBytes, kvSize, takeSnapshotOf } from '../kv.js';
import {
  compactTo, lastLogIndex, snapshotIndex, termAt, termInRuns, withConfig,
} from '../log.js';
import type { RaftRules } from '../ruleSet.js';
import {
  bootstrapOf, electionTimer, type Effect, type Pending, type RaftState,
} from '../state.js';
import { asIndex, asTerm, releaseHeld, reply, send } from './common.js';
import { redirectLost } from './client.js';

/**
 * Enough committed entries follow the snapshot to take the next one: `Config.snapshotEntries`,
 * and at least as many as the state machine has keys and sessions. A snapshot copies every key,
 * so this keeps its cost at most one key per entry, and the log it keeps in memory no larger than
 * the state itself. Large values count by size as well: once the commands applied since the last
 * snapshot hold `snapshotBytes` (and at least as much as the state holds), whatever their number,
 * so that a log of large values is not kept in memory for `snapshotEntries` entries. Off (as the
 * count) when `snapshotEntries` is 0.
 */
export function snapshotDue(s: RaftState): boolean {
  const every = s.config.snapshotEntries;
  if (every <= 0) return false;
  const since = s.commitIndex - snapshotIndex(s.log);
  if (since >= every && since >= kvSize(s.kv, s.log)) return true;
  if (since === 0) return false;
  const bytes = kvBytes(s.kv, s.log);
  return bytes.sinceSnapshot >= s.config.snapshotBytes && bytes.sinceSnapshot >= bytes.held;
}

/**
 * [§7] Snapshot the state machine at its applied index (= commitIndex: entries are applied as
 * they commit; a replica that applied early would snapshot uncommitted entries, which the
 * `snapshotSafety` invariant catches) and compact the log behind it.
 */
export function takeSnapshot(s: RaftState): RaftState {
  if (s.commitIndex <= snapshotIndex(s.log)) return s;
  return { ...s, log: compactTo(s.log, takeSnapshotOf(s.kv, s.log)) };
}

/** [§7] The request that carries this leader's snapshot to `peer`. */
export function sendSnapshot(s: RaftState, out: Effect[], peer: NodeId): void {
  const snap = s.log.snapshot;
  send(s, out, peer, {
    type: 'InstallSnapshotRequest',
    term: asTerm(s.currentTerm),
    lastIncludedIndex: asIndex(snap.index),
    lastIncludedTerm: asTerm(snap.term),
    kv: snap.kv,
    sessions: snap.sessions as InstallSnapshotRequest['sessions'],
    terms: snap.terms as InstallSnapshotRequest['terms'],
    // [D§4.1] always named, the bootstrap's too: a receiver may have another bootstrap
    config: snap.config ?? bootstrapOf(s.config),
    readRound: s.readRound as ReadRound,
  });
}

export function snapshotOfRequest(m: InstallSnapshotRequest): Snapshot {
  return { index: m.lastIncludedIndex, term: m.lastIncludedTerm, kv: m.kv, sessions: m.sessions,
    terms: m.terms, ...withConfig(m.config) };
}

function respond(s: RaftState, out: Effect[], m: InstallSnapshotRequest, success: boolean,
  matchIndex: number): void {
  const body: Omit<AppendEntriesResponse, 'src' | 'dst' | 'leader'> = {
    type: 'AppendEntriesResponse',
    term: asTerm(s.currentTerm),
    success,
    matchIndex: asIndex(matchIndex),
    rejectHint: asIndex(0),
    // [§6.4] as for AppendEntries: only an answer in the request's own term acknowledges its round
    readRound: (m.term === s.currentTerm ? m.readRound : 0) as ReadRound,
  };
  send(s, out, m.src, body);
}

/**
 * A deposed leader's pending requests that the snapshot covers are never applied here one by one.
 * The term at each one's index, from the snapshot's runs (or from the log, if it holds the
 * snapshot's last entry and so the same entries up to it [§5.3 Log Matching]), tells: a request
 * whose entry is there committed (`ok`), one whose entry was replaced never will (redirect). A
 * register's `ok` carries its index [§6.3]. A write in a session is `ok` if its session in the
 * snapshot holds its seq (its entry, or an earlier copy, was applied; a del's or cas's `ok`
 * carries the value found, which the session keeps); otherwise `expired`, its outcome unknown
 * here: a session gone from the table cannot tell whether the entry did anything, and one that
 * moved on no longer holds its answer (its sequential client has moved on, answered already).
 * Only before the runs kept can it not tell, and it leaves those unanswered: a retry finds its
 * session, or that it expired. (`spec/raft.qnt`: `onInstallSnapshotRequest`.)
 */
function settlePending(s: RaftState, snap: Snapshot, out: Effect[]): RaftState['pending'] {
  if (size(s.pending) === 0 || (at(s.pending, 0) as Pending).index > snap.index) return s.pending;
  const prefixKept = termAt(s.log, snap.index) === snap.term && snap.index <= lastLogIndex(s.log);
  const items = toArray(s.pending);
  for (const p of items) {
    if (p.index > snap.index) continue;
    const term = termInRuns(snap.terms, p.index) || (prefixKept ? termAt(s.log, p.index) : 0);
    if (term === 0) continue;
    const cmd = p.cmd;
    if (term !== p.term) reply(s, out, cmd.client, 'redirect', p.mid);
    else if (cmd.kind === 'register') {
      reply(s, out, cmd.client, 'ok', p.mid, { session: p.index as SessionId });
    } else if (cmd.kind === 'put' && cmd.session === 0) reply(s, out, cmd.client, 'ok', p.mid);
    else if (cmd.session > 0) {
      const session = snap.sessions.find(([id]) => id === cmd.session)?.[1];
      if (session?.seq === cmd.seq) {
        reply(s, out, cmd.client, 'ok', p.mid, cmd.kind === 'put' ? {} : { value: session.value });
      } else reply(s, out, cmd.client, 'expired', p.mid);
    }
  }
  return chainOf(items.filter((p) => p.index > snap.index));
}

/**
 * [§7 Figure 13] InstallSnapshot: a stale leader is refused [#1]. Otherwise the server follows
 * the sender, and unless it has already committed everything the snapshot holds, it takes the
 * snapshot as its state machine and its log's base, keeping the entries after it if its log holds
 * the snapshot's last entry [#6], else discarding the whole log [#7]. Answered with an
 * AppendEntriesResponse that acknowledges `lastIncludedIndex`.
 */
export function handleInstallSnapshotRequest(s: RaftState, m: InstallSnapshotRequest,
  out: Effect[], rules: RaftRules): RaftState {
  if (m.term < s.currentTerm) {
    respond(s, out, m, false, 0);
    return s;
  }
  // a newer term, or a leader of this one seen by a candidate, was followed before this runs
  const heard = releaseHeld({ ...s, ...electionTimer(s, 'Follower'), leaderId: m.src,
    leaderFresh: true }, out, m.src);
  // a snapshot no newer than what is committed here holds nothing new: its prefix matches already
  if (m.lastIncludedIndex <= heard.commitIndex) {
    respond(heard, out, m, true, m.lastIncludedIndex);
    return heard;
  }
  const snap = snapshotOfRequest(m);
  const pending = settlePending(heard, snap, out);
  const based: RaftState = { ...heard, log: compactTo(heard.log, snap),
    commitIndex: snap.index, kv: rules.installedKv(heard, snap), pending };
  // one after the snapshot whose term is below its last never commits: redirected now, as a
  // commit redirects it (an idle cluster makes no commit past the snapshot to do it)
  const installed: RaftState = { ...based,
    pending: redirectLost(based, pending, snap.index, out) };
  respond(installed, out, m, true, m.lastIncludedIndex);
  return installed;
}
