/**
 * The leader's pacing policy: which peers get an AppendEntriesRequest, and when. The spec lets a
 * leader `replicate(s, ts)` to any peers at any time; everything here only chooses `ts`, so it
 * cannot affect safety, only messages and latency. Counted in datagrams (as the simulator-routed
 * protocol counts them), a request costs 2 per peer it goes to, so:
 * - new entries go to `quorum - 1` peers, enough to commit them: the responsive ones the leader
 *   sent to least recently, so that the choice rotates and every peer hears from the leader under
 *   load without heartbeats of its own;
 * - a peer not sent to for `heartbeatTicks` gets a heartbeat, carrying whatever it lacks;
 * - a rejection is answered at once, and so is an acknowledgement of a request that had to leave
 *   entries behind, so a lagging peer catches up batch by batch.
 */
import type { AppendEntriesResponse, NodeId } from '../wire/messages.js';
import { lastLogIndex, snapshotIndex } from './log.js';
import {
  isVoter, membership, progressOf, quorumOf, replicaPeers, type Progress, type RaftState,
} from './state.js';

/** A peer that has not answered what it was sent for this long is passed over for new entries. */
const SUSPECT_AFTER_TICKS = 2;

export { progressOf };

/** Peers due a heartbeat at tick `now`. */
export function heartbeatTargets(s: RaftState, now: number): NodeId[] {
  return replicaPeers(s).filter((p) => now - progressOf(s, p).sentAt >= s.config.heartbeatTicks);
}

/** The peer has not acknowledged the entries it was last sent, for a while. */
function suspect(s: RaftState, peer: NodeId): boolean {
  const p = progressOf(s, peer);
  return p.match < p.sentUpTo && s.now - p.sentAt >= SUSPECT_AFTER_TICKS;
}

/**
 * Peers for new entries: `quorum - 1` of them, responsive first, least recently sent first. A peer
 * that needs the snapshot [§7] is left to heartbeats and catch-up: a flush would resend the whole
 * snapshot with every batch of requests.
 */
export function flushTargets(s: RaftState): NodeId[] {
  const c = membership(s);
  // [D§4] voters first (learners are never counted): as many as a quorum needs besides itself
  const ranked = replicaPeers(s).filter((id) => progressOf(s, id).next > snapshotIndex(s.log))
    .map((id) => ({ id, learner: !isVoter(c, id), suspect: suspect(s, id),
      order: progressOf(s, id).sentOrder }))
    .sort((a, b) => Number(a.learner) - Number(b.learner)
      || Number(a.suspect) - Number(b.suspect) || a.order - b.order);
  const needed = quorumOf(c) - (isVoter(c, s.config.id) ? 1 : 0);
  return ranked.slice(0, needed).map((r) => r.id).sort();
}

/**
 * Does this response call for sending to its peer at once? A rejection that moved `nextIndex`
 * back does; so does an acknowledgement of everything last sent when that request left entries
 * behind. Decided on the state before the response is handled.
 */
export function needsCatchUp(s: RaftState, m: AppendEntriesResponse): boolean {
  // a guard of the leader's only
  if (!s.config.catchUp || m.term !== s.currentTerm) return false;
  if (!replicaPeers(s).includes(m.src)) return false; // [D§4] no member: sent nothing more
  const p = progressOf(s, m.src);
  if (!m.success) return backOff(p.match, p.next, m.rejectHint) < p.next;
  return p.leftBehind && m.matchIndex > p.match && m.matchIndex >= p.sentUpTo
    && m.matchIndex < lastLogIndex(s.log);
}

/**
 * [§5.3] The `nextIndex` after a rejection: back to the follower's hint (the highest index at which
 * its log may still match), never below what is known to match, never forward. The hint is
 * relative to the rejected request, so a stale rejection cannot make it oscillate. The one rule
 * for moving `nextIndex` back: the response handler and the catch-up decision both use it.
 */
export function backOff(match: number, next: number, rejectHint: number): number {
  return Math.max(match + 1, Math.min(next, rejectHint + 1));
}

/** Record, in `progress`, a send to `peer` of the entries up to `sentUpTo`. */
export function sent(s: RaftState, progress: Map<NodeId, Progress>, peer: NodeId,
  sentUpTo: number): void {
  let sentOrder = 1;
  for (const p of progress.values()) sentOrder = Math.max(sentOrder, p.sentOrder + 1);
  progress.set(peer, { ...(progress.get(peer) ?? progressOf(s, peer)), sentAt: s.now, sentOrder,
    sentUpTo, leftBehind: sentUpTo < lastLogIndex(s.log) });
}
