/**
 * How far time can jump. A `Tick` only counts (`electionElapsed`, `now`) until a timer expires, so
 * a driver in virtual time may deliver `ticksUntilDue(s)` ticks as one `Tick` event and reach
 * exactly the state, and the effects, that as many single ticks would: the replica loop
 * (`replica/loop.ts`) wakes only when a timer is due, in the processes and the simulation alike.
 */
import { progressOf } from './pacing.js';
import { isVoter, membership, replicaPeers, type RaftState, type Role } from './state.js';

/**
 * The number of ticks, at least 1, after which the next timer expires: the election timeout of a
 * follower or campaigner; CheckQuorum or the first heartbeat due for a leader (the guards of the
 * `Tick` transitions in roles.ts, which fire when `elapsed + ticks >= timeout`).
 */
export function ticksUntilDue(s: RaftState, role: Role): number {
  if (role !== 'Leader') {
    const stale = s.leaderFresh ? s.config.redirectFreshTicks - s.electionElapsed : Infinity;
    // [D§4] a learner's election timer never fires: it wakes only to go stale, or now and then
    const election = isVoter(membership(s), s.config.id)
      ? s.electionTimeoutTicks - s.electionElapsed : s.config.electionTimeoutTicksMax;
    return Math.max(1, Math.min(election, stale));
  }
  let due = s.config.electionTimeoutTicksMin - s.electionElapsed;
  for (const peer of replicaPeers(s)) {
    due = Math.min(due, s.config.heartbeatTicks - (s.now - progressOf(s, peer).sentAt));
  }
  return Math.max(1, due);
}
