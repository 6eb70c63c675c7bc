/**
 * Step rules: Figure 2's receiver rules as properties of one step (TLA+ action properties,
 * `[][Next => P]_vars`), checked after every step of the simulation and the explorer. The safety
 * properties (`safety.ts`) catch a broken rule only once its damage reaches a committed entry;
 * these catch the broken rule itself, the moment it acts, which a fault schedule reaches far more
 * often. They restate the spec's rules, not the core's code: `spec/raft.qnt` is their source.
 *
 * - appendEntriesTerm [Fig2:AE#1]: an AppendEntriesRequest of a term below the receiver's changes
 *   neither its log nor its commitIndex, and is answered `success: false`;
 * - commitWithinNewEntries [Fig2:AE#5]: an AppendEntriesRequest raises commitIndex at most to
 *   min(leaderCommit, index of the last new entry);
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
import { lastLogIndex } from '../core/log.js';
import { quorum, type Effect, type RaftState, type Role } from '../core/state.js';
import type { Message } from '../wire/messages.js';

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
    return undefined;
  }
  const lastNew = event.prevLogIndex + event.entries.length;
  const limit = Math.max(before.commitIndex, Math.min(event.leaderCommit, lastNew));
  if (after.commitIndex > limit) {
    return { invariant: 'commitWithinNewEntries', detail: `${id} committed ${after.commitIndex} ` +
      `on an AppendEntriesRequest whose last new entry is ${lastNew} (leaderCommit ` +
      `${event.leaderCommit})` };
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
    if (role === 'Leader' && s.votesGranted.size < quorum(s.config)) {
      return { invariant: 'votesGrantedBacked', detail: `${self} leads term ${s.currentTerm} ` +
        `with ${s.votesGranted.size} votes, fewer than a quorum of ${quorum(s.config)}` };
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
