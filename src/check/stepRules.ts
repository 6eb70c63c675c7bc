/**
 * Step rules: Figure 2's receiver rules as properties of one step (TLA+ action properties,
 * `[][Next => P]_vars`), checked after every step of the simulation and the explorer. The safety
 * properties (`safety.ts`) catch a broken rule only once its damage reaches a committed entry;
 * these catch the broken rule itself, the moment it acts, which a fault schedule reaches far more
 * often. They restate the spec's rules, not the core's code: `spec/raft.qnt` is their source.
 *
 * - appendEntriesTerm [Fig2:AE#1]: an AppendEntriesRequest of a term below the receiver's changes
 *   neither its log nor its commitIndex, and is answered `success: false`;
 * - appendEntriesMatch [Fig2:AE#2-#4]: an AppendEntriesRequest is answered `success: true` only
 *   if the receiver's log held an entry at prevLogIndex of term prevLogTerm (or its snapshot covers
 *   prevLogIndex), and then its log holds every entry of the request at its index, and the answer's
 *   matchIndex is the request's last new entry; a refusal's hint (etcd's RejectHint) names an index
 *   below the refused prevLogIndex and within the receiver's log, where the logs may still match;
 * - commitWithinNewEntries [Fig2:AE#5]: an AppendEntriesRequest raises commitIndex at most to
 *   min(leaderCommit, index of the last new entry);
 * - leaderCommit [Fig2:Leaders#4, §5.4.2]: a leader raises its commitIndex only to an index of its
 *   own term that a quorum holds (itself and the peers whose matchIndex reaches it). Entries of
 *   earlier terms commit only with such an entry after them (Figure 8);
 * - readAnswer [§6.4 ReadIndex]: a read (a get, or a page of a listing) is answered `ok` only by
 *   a leader that, in the term the read arrived in, has committed an entry of that term, whose
 *   commitIndex has reached the read's index (its commitIndex when the read arrived), and of which
 *   a quorum, itself included, acknowledged a heartbeat round started after the read arrived
 *   (`spec/raft.qnt`: `answerReads`). Without it, a stale answer shows only when the history's
 *   check finds a later write it missed;
 * - requestVoteTerm [Fig2:RV#1]: a RequestVoteRequest of a term below the receiver's changes
 *   neither its vote nor its term, and is answered `voteGranted: false`;
 * - voteOnce [Fig2:RV#2, Fig2:State votedFor is persistent]: a server grants at most one vote per
 *   term, across restarts (`VoteLedger`, fed the RequestVoteResponses that actually left);
 * - votesGrantedBacked: every vote a candidate or leader counts (`votesGranted`) was granted to it
 *   in its term by a response that left its voter, and every pre-vote a pre-candidate counts was
 *   granted to it for its next term; a leader's counted votes are a quorum [§5.2]. The auxiliary
 *   invariant of Raft's safety proof that ties `votesGranted` to `votedFor` [Ongaro 2014,
 *   Appendix B: VotesGrantedInv]: without it, election safety holds only by luck, since a
 *   miscounted vote needs a split vote to elect a second leader;
 * - progressOrder (etcd's `Progress` invariant, `0 <= Match < Next`): a leader never goes back to
 *   sending a peer what the peer has acknowledged, and knows no match beyond its own log. Not a
 *   safety property: a leader that breaks it resends entries it need not, or waits for a peer
 *   that is done.
 */
import type { Violation } from './safety.js';
import type { RaftEvent } from '../core/machine.js';
import { lastLogIndex, snapshotIndex, termAt, type RaftLog } from '../core/log.js';
import { at, size } from '../core/chain.js';
import type { Effect, RaftState, Role } from '../core/state.js';
import type { AppendEntriesRequest, Entry, Message, NodeId } from '../wire/messages.js';

export function checkStepRules(before: RaftState, event: RaftEvent, after: RaftState,
  effects: readonly Effect[]): Violation | undefined {
  if (event.type === 'RequestVoteRequest') return requestVoteTerm(before, event, after, effects);
  if (event.type !== 'AppendEntriesRequest') return undefined;
  const id = after.config.id;
  if (event.term < before.currentTerm) {
    const answered = effects.some((e) => e.type === 'send'
      && e.message.type === 'AppendEntriesResponse' && e.message.success);
    if (after.log !== before.log || after.commitIndex !== before.commitIndex || answered) {
      return { invariant: 'appendEntriesTerm', detail: `${id} in term ${before.currentTerm} ` +
        `acted on an AppendEntriesRequest of term ${event.term} from ${event.src}` };
    }
    return appendEntriesMatch(before, event, after, effects);
  }
  const lastNew = event.prevLogIndex + event.entries.length;
  const match = appendEntriesMatch(before, event, after, effects);
  if (match !== undefined) return match;
  const limit = Math.max(before.commitIndex, Math.min(event.leaderCommit, lastNew));
  if (after.commitIndex > limit) {
    return { invariant: 'commitWithinNewEntries', detail: `${id} committed ${after.commitIndex} ` +
      `on an AppendEntriesRequest whose last new entry is ${lastNew} (leaderCommit ` +
      `${event.leaderCommit})` };
  }
  return undefined;
}

/**
 * Every property of one step of one server that this module states (but the vote ledger's,
 * which keep their own record): the receiver rules, the leader's commit rule and the read rule.
 * The simulation, the explorer and the exhaustive model each call this once per step.
 */
export function stepProperties(before: RaftState, event: RaftEvent, after: RaftState,
  role: Role, effects: readonly Effect[]): Violation | undefined {
  return checkStepRules(before, event, after, effects)
    ?? leaderCommit(before, after, role)
    ?? readAnswer(before, event, after, role, effects);
}

/** appendEntriesMatch (see the header): the answer `after` sent to `event`, against both logs. */
function appendEntriesMatch(before: RaftState, event: AppendEntriesRequest, after: RaftState,
  effects: readonly Effect[]): Violation | undefined {
  const id = after.config.id;
  const prev = event.prevLogIndex;
  const violation = (detail: string): Violation => ({ invariant: 'appendEntriesMatch',
    detail: `${id} (term ${after.currentTerm}) ${detail}, to an AppendEntriesRequest from ` +
      `${event.src} of term ${event.term} with prevLogIndex ${prev}, prevLogTerm ` +
      `${event.prevLogTerm} and ${event.entries.length} entries` });
  for (const e of effects) {
    if (e.type !== 'send' || e.message.type !== 'AppendEntriesResponse'
      || e.message.dst !== event.src) continue;
    const answer = e.message;
    if (!answer.success) {
      const limit = Math.max(0, Math.min(prev - 1, lastLogIndex(before.log)));
      if (answer.rejectHint > limit) {
        return violation(`refused with hint ${answer.rejectHint}, above ${limit}`);
      }
      continue;
    }
    const held = prev <= snapshotIndex(before.log)
      || (prev <= lastLogIndex(before.log) && termAt(before.log, prev) === event.prevLogTerm);
    if (!held) {
      return violation(`answered success holding ${prev <= lastLogIndex(before.log)
        ? `term ${termAt(before.log, prev)} at ${prev}` : `${lastLogIndex(before.log)} entries`}`);
    }
    const lastNew = prev + event.entries.length;
    if (answer.matchIndex !== lastNew) {
      return violation(`answered success with matchIndex ${answer.matchIndex}, not ${lastNew}`);
    }
    for (let k = 0; k < event.entries.length; k++) {
      const index = prev + 1 + k;
      if (index <= snapshotIndex(after.log)) continue;
      const term = (event.entries[k] as { readonly term: number }).term;
      if (index > lastLogIndex(after.log) || termAt(after.log, index) !== term) {
        return violation(`answered success without the request's entry of term ${term} at ${index}`);
      }
    }
  }
  return undefined;
}

/**
 * [D§4] The voters of a server's configuration, as the checks read them from its log themselves
 * (its last change, else its snapshot's, else the bootstrap's: it and its peers), not from the
 * core's cached `RaftLog.config` nor its quorum arithmetic, which the checks must not trust.
 */
export function votersOf(s: RaftState): readonly NodeId[] {
  let voters = readVoters.get(s.log);
  if (voters === undefined) {
    voters = lastChangeVoters(s.log) ?? s.log.snapshot.config?.voters
      ?? [s.config.id, ...s.config.peers];
    readVoters.set(s.log, voters);
  }
  return voters;
}

/** What `votersOf` read, by log (logs are immutable: a changed log is another object). */
const readVoters = new WeakMap<RaftLog, readonly NodeId[]>();

function lastChangeVoters(log: RaftLog): readonly NodeId[] | undefined {
  for (let k = size(log.entries) - 1; k >= 0; k--) {
    const cmd = (at(log.entries, k) as Entry).cmd;
    if (cmd.kind === 'config') return cmd.voters;
  }
  return undefined;
}

/** How many of `s`'s voters `counted` says yes to (itself included only if it is one). */
function votersWhere(s: RaftState, counted: (id: NodeId) => boolean): number {
  let n = 0;
  for (const v of votersOf(s)) if (counted(v)) n++;
  return n;
}

/** A majority of `s`'s voters. */
export function majorityOf(s: RaftState): number {
  return Math.floor(votersOf(s).length / 2) + 1;
}

/**
 * The voters a leader knows to hold index `n`: itself (if a voter), and those whose matchIndex
 * reaches it, by its own record.
 */
export function holdersOf(s: RaftState, n: number): number {
  return votersWhere(s, (v) => v === s.config.id || (s.progress.get(v)?.match ?? 0) >= n);
}

/** leaderCommit (see the header), for a server in `role` after its step. */
export function leaderCommit(before: RaftState, after: RaftState, role: Role):
  Violation | undefined {
  if (role !== 'Leader' || after.commitIndex <= before.commitIndex
    || after.currentTerm !== before.currentTerm) return undefined;
  const n = after.commitIndex;
  const term = termAt(after.log, n);
  const holders = holdersOf(after, n);
  if (term === after.currentTerm && holders >= majorityOf(after)) return undefined;
  return { invariant: 'leaderCommit', detail: `${after.config.id}, leader of term ` +
    `${after.currentTerm}, committed ${n} (term ${term}), held by ${holders} of ` +
    `${votersOf(after).length} voters` };
}

/**
 * readAnswer (see the header): every `ok` this step sent to a read, for a server in `role` after
 * it. The read is the step's own event (then at the commitIndex and the next round of the state
 * before it: the arrival is seen, so its index and round are the spec's), or one the server held
 * before the step, with the index and round it recorded then (trusted: a read recorded with too
 * low a round and answered in a later step passes). The conditions are read from the state after
 * the step: within one leader's term, commitIndex and the acknowledged rounds only grow, so what
 * held when the answer left still holds there (an answer sent before an acknowledgement that
 * arrives later in the same step is not told apart).
 */
export function readAnswer(before: RaftState, event: RaftEvent, after: RaftState, role: Role,
  effects: readonly Effect[]): Violation | undefined {
  for (const e of effects) {
    if (e.type !== 'reply' || e.message.type !== 'ok') continue;
    const mid = e.message.MID;
    const read = before.reads.find((r) => r.mid === mid)
      ?? ((event.type === 'get' || event.type === 'list') && event.MID === mid
        ? { readIndex: before.commitIndex, round: before.readRound + 1 } : undefined);
    if (read === undefined) continue;
    const id = after.config.id;
    const fail = (why: string): Violation => ({ invariant: 'readAnswer',
      detail: `${id} answered the read ${mid} (index ${read.readIndex}, round ${read.round}) ` +
        why });
    if (role !== 'Leader' || after.currentTerm !== before.currentTerm) {
      return fail(`as ${role} of term ${after.currentTerm}, not the leader of term ` +
        `${before.currentTerm} it arrived in`);
    }
    const committedTerm = termAt(after.log, after.commitIndex);
    if (committedTerm !== after.currentTerm) {
      return fail(`with its commitIndex ${after.commitIndex} at an entry of term ` +
        `${committedTerm}, not of its own term ${after.currentTerm}`);
    }
    if (after.commitIndex < read.readIndex) {
      return fail(`with commitIndex ${after.commitIndex}, below the read's index`);
    }
    const acks = votersWhere(after, (v) => v === id
      || (after.progress.get(v)?.ackedRound ?? 0) >= read.round);
    if (acks < majorityOf(after)) {
      return fail(`when ${acks} of ${votersOf(after).length} voters had acknowledged ` +
        `round ${read.round}`);
    }
  }
  return undefined;
}

function requestVoteTerm(before: RaftState, event: RaftEvent & { type: 'RequestVoteRequest' },
  after: RaftState, effects: readonly Effect[]): Violation | undefined {
  if (event.term >= before.currentTerm) return undefined;
  const granted = effects.some((e) => e.type === 'send'
    && e.message.type === 'RequestVoteResponse' && e.message.voteGranted);
  if (after.votedFor !== before.votedFor || after.currentTerm !== before.currentTerm || granted) {
    return { invariant: 'requestVoteTerm', detail: `${after.config.id} in term ` +
      `${before.currentTerm} acted on a RequestVoteRequest of term ${event.term} ` +
      `from ${event.src}` };
  }
  return undefined;
}

/**
 * The votes granted, per voter and term, from the RequestVoteResponses that were sent; and the
 * pre-votes granted, per voter, term and candidate, from the PreVoteResponses.
 */
export class VoteLedger {
  private readonly votes = new Map<string, string>();

  toData(): ReadonlyMap<string, string> {
    return this.votes;
  }

  static fromData(votes: ReadonlyMap<string, string>): VoteLedger {
    const v = new VoteLedger();
    for (const [k, d] of votes) v.votes.set(k, d);
    return v;
  }

  /** A copy that records from here on without touching this one (see `SafetyChecker.fork`). */
  fork(): VoteLedger {
    return VoteLedger.fromData(this.votes);
  }

  sent(m: Message): Violation | undefined {
    if (m.type === 'PreVoteResponse' && m.voteGranted) {
      this.votes.set(`${m.src}/${m.term}/pre/${m.dst}`, m.dst);
      return undefined;
    }
    if (m.type !== 'RequestVoteResponse' || !m.voteGranted) return undefined;
    const key = `${m.src}/${m.term}`;
    const before = this.votes.get(key);
    if (before !== undefined && before !== m.dst) {
      return { invariant: 'voteOnce',
        detail: `${m.src} granted its vote of term ${m.term} to ${before} and to ${m.dst}` };
    }
    this.votes.set(key, m.dst);
    return undefined;
  }

  /** `votesGrantedBacked` for server `s` in `role`, after its step (see the header). */
  backs(s: RaftState, role: Role): Violation | undefined {
    if (role === 'Follower') return undefined;
    const self = s.config.id;
    const pre = role === 'PreCandidate';
    const term = pre ? s.currentTerm + 1 : s.currentTerm;
    for (const v of s.votesGranted) {
      if (v === self) continue;
      const granted = pre ? this.votes.has(`${v}/${term}/pre/${self}`)
        : this.votes.get(`${v}/${term}`) === self;
      if (!granted) {
        return { invariant: 'votesGrantedBacked', detail: `${self} (${role}, term ` +
          `${s.currentTerm}) counts a ${pre ? 'pre-vote' : 'vote'} of ${v} for term ${term} ` +
          'that was never granted to it' };
      }
    }
    if (role !== 'Leader') return undefined;
    // (its configuration now: the same as when it won until it changes one, which nothing that
    // runs these checks does yet)
    const voters = votersOf(s);
    let votes = 0;
    for (const v of voters) if (s.votesGranted.has(v)) votes++;
    const majority = Math.floor(voters.length / 2) + 1;
    if (votes < majority) {
      return { invariant: 'votesGrantedBacked', detail: `${self} leads term ${s.currentTerm} ` +
        `with ${votes} votes of voters, fewer than a quorum of ${majority}` };
    }
    return undefined;
  }
}

/** progressOrder (above): a leader's record of each peer, after every step. */
export function progressOrder(s: RaftState, role: Role): Violation | undefined {
  if (role !== 'Leader') return undefined;
  const last = lastLogIndex(s.log);
  for (const [peer, p] of s.progress) {
    if (p.match < 0 || p.match >= p.next || p.match > last) {
      return { invariant: 'progressOrder', detail: `${s.config.id}, leader of term ` +
        `${s.currentTerm} with ${last} entries, has match ${p.match} and next ${p.next} for ${peer}` };
    }
  }
  return undefined;
}
