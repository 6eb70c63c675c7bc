/**
 * How far time can jump. A `Tick` only counts (`electionElapsed`, `now`) until a timer expires, so
 * a driver in virtual time may deliver `ticksUntilDue(s)` ticks as one `Tick` event and reach
 * exactly the state, and the effects, that as many single ticks would: the replica loop
 * (`replica/loop.ts`) wakes only when a timer is due, in the processes and the simulation alike.
 */
import { progressOf } from './pacing.js';
import type { RaftState, Role } from './state.js';

/**
 * The number of ticks, at least 1, after which the next timer expires: the election timeout of a
 * follower or campaigner; CheckQuorum or the first heartbeat due for a leader (the guards of the
 * `Tick` transitions in roles.ts, which fire when `elapsed + ticks >= timeout`).
 */
export function ticksUntilDue(s: RaftState, role: Role): number {
  if (role !== 'Leader') {
    const stale = s.leaderFresh ? s.config.redirectFreshTicks - s.electionElapsed : Infinity;
    return Math.max(1, Math.min(s.electionTimeoutTicks - s.electionElapsed, stale));
  }
  let due = s.config.electionTimeoutTicksMin - s.electionElapsed;
  for (const peer of s.config.peers) {
    due = Math.min(due, s.config.heartbeatTicks - (s.now - progressOf(s, peer).sentAt));
  }
  return Math.max(1, due);
}
